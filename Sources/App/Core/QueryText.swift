import Foundation
import Vapor

extension Request {
    private struct QueryTextKey: StorageKey { typealias Value = [String: String] }

    /// A query parameter's text as `query[String.self, at: name]` reads it (`+` as a space,
    /// percent-decoded, the last of repeated keys; nil when absent or badly encoded), with the
    /// query string split once per request: each `query[...]` lookup parses the whole string
    /// again, and a ticket page asks for seven parameters.
    func queryText(_ name: String) -> String? {
        if let values = storage[QueryTextKey.self] { return values[name] }
        let values = Self.queryValues(url.query)
        storage[QueryTextKey.self] = values
        return values[name]
    }

    static func queryValues(_ query: String?) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let key = Self.formDecoded(parts[0]) else { continue }
            values[key] = Self.formDecoded(parts[1])
        }
        return values
    }

    private static func formDecoded(_ text: Substring) -> String? {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) { return String(text) }
        return text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

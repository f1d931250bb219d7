import Foundation

/// JSON kept in a text column, so SQLite and PostgreSQL store it the same way.
enum JSONColumn {
    /// Configured once: building a coder per call showed up on write paths (audit entries, bulk imports).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.userInfo[storageKey] = true
        return encoder
    }()

    /// Set on the storage encoder: values derived for the API (a ticket's `reference`) are not stored.
    static let storageKey = CodingUserInfoKey(rawValue: "tandem.storage")!
    private static let decoder = JSONDecoder()

    static func encode<T: Encodable>(_ value: T) -> String {
        (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "null"
    }

    static func decode<T: Decodable>(_ text: String, default fallback: T) -> T {
        (try? decoder.decode(T.self, from: Data(text.utf8))) ?? fallback
    }

    /// The value, or nil when the text is not a `T`.
    static func decodeIfValid<T: Decodable>(_ text: String, as type: T.Type) -> T? {
        try? decoder.decode(T.self, from: Data(text.utf8))
    }
}

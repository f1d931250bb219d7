import Foundation
import Testing

/// Every visibility and permission decision lives in `AccessPolicy` (TandemCore). A feature that compares a
/// principal's kind or reads its permissions decides access by itself, beside the policy: this test reads
/// the sources of `Sources/App/Features` and fails on any such line.
@Suite struct PolicyBoundaryTests {
    /// A kind comparison, or a permission read (`allows`, `has`, admin permissions, administrator, ticket scope).
    static var decisions: [Regex<Substring>] {
        [
            /\.kind\s*[!=]=/,
            /\.permissions\.(?:allows|has)\(/,
            /admin\.contains\(/,
            /\.has\(\s*\./,
            /\.isAdministrator\b/,
            /ticketScope\s*[!=]=/,
        ]
    }

    /// Known offenders: each entry is a file under `Sources/App/Features` and a piece of its offending line.
    /// Empty: every decision is in `AccessPolicy`. An entry that no longer matches fails too.
    static let allowlist: [(file: String, line: String)] = []

    struct Offender: Equatable, CustomStringConvertible {
        var file: String
        var number: Int
        var line: String
        var description: String { "Sources/App/Features/\(file):\(number): \(line)" }
    }

    /// The lines of one source file that decide access by themselves (comments left out).
    static func offenders(in text: String, file: String) -> [Offender] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, raw in
            var code = Substring(raw)
            if let comment = code.range(of: "//") { code = code[..<comment.lowerBound] }
            guard decisions.contains(where: { code.contains($0) }) else { return nil }
            return Offender(file: file, number: index + 1, line: raw.trimmingCharacters(in: .whitespaces))
        }
    }

    static var featuresDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/App/Features")
    }

    static func allOffenders() throws -> [Offender] {
        let root = featuresDirectory.standardizedFileURL
        guard let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var found: [Offender] = []
        for case let url as URL in files where url.pathExtension == "swift" {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            found += offenders(in: try String(contentsOf: url, encoding: .utf8), file: relative)
        }
        return found.sorted { ($0.file, $0.number) < ($1.file, $1.number) }
    }

    static func allowed(_ offender: Offender) -> Bool {
        allowlist.contains { offender.file == $0.file && offender.line.contains($0.line) }
    }

    @Test func noFeatureDecidesAccessOutsideThePolicy() throws {
        let found = try Self.allOffenders()
        #expect(found.count > 0 || Self.allowlist.isEmpty, "the scan read no sources from \(Self.featuresDirectory.path)")
        for offender in found where !Self.allowed(offender) {
            Issue.record("\(offender) decides access outside AccessPolicy; add a policy function (with a unit test in TandemCoreTests) and call it")
        }
        for entry in Self.allowlist where !found.contains(where: { $0.file == entry.file && $0.line.contains(entry.line) }) {
            Issue.record("the allowlist entry \(entry.file): \(entry.line) no longer matches any line; remove it")
        }
    }

    /// The scan itself: it would catch each kind of offender, and leaves policy calls and comments alone.
    @Test func theScanCatchesOffenders() {
        let source = """
            guard principal.kind == .resource else { throw TandemError.forbidden("no") }
            if user.kind != .contact { show() }
            let admin = principal.permissions.has(.manageUsers)
            let canAdd = principal.permissions.allows(.add, on: .organizations)
            if principal.permissions.admin.contains(.manageCredentials) {}
            if principal.isAdministrator {}
            try AccessPolicy.authorizeAdmin(principal, .manageUsers)
            // principal.kind == .contact is the policy's business
            let kind = principal.kind.rawValue
            """
        let found = Self.offenders(in: source, file: "Example.swift")
        #expect(found.map(\.number) == [1, 2, 3, 4, 5, 6])
        #expect(!Self.allowed(found[0]))
    }
}

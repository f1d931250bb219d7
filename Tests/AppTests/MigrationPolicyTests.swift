import Foundation
import Testing

/// Migrations are additive first (README "Running several instances"): while a new release migrates, old
/// instances keep serving, so a migration's `prepare` adds tables, columns and indexes and never drops or
/// renames what a running version may read. A later release removes what nothing reads any more, listed here
/// with the release that stopped reading it.
@Suite struct MigrationPolicyTests {
    /// Migrations written before the rule was checked (they ran while one instance served).
    static let firstChecked = 64
    /// Migrations allowed to remove something, each with why it is safe.
    static let removals: [String: String] = [:]

    static var destructive: [Regex<Substring>] {
        [/deleteField\(/, /\.delete\(\)/, /(?i)\bDROP\s+(?:TABLE|COLUMN)\b/, /(?i)\bRENAME\b/, /updateField\(/]
    }

    @Test func migrationsFromTheRuleOnOnlyAdd() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/App/Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }.sorted()
        var checked = 0
        for file in files {
            guard let number = Int(file.prefix(while: \.isNumber)), number >= Self.firstChecked, Self.removals[file] == nil else { continue }
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            // Only `prepare` runs on upgrade; `revert` undoes it and may drop what `prepare` added.
            let prepare = text.range(of: "func prepare").map { start in
                String(text[start.lowerBound..<(text.range(of: "func revert", range: start.upperBound..<text.endIndex)?.lowerBound ?? text.endIndex)])
            }
            let body = try #require(prepare, "\(file) has no prepare")
            for pattern in Self.destructive {
                let found = body.firstMatch(of: pattern).map { String($0.output) }
                #expect(found == nil, "\(file): prepare removes or renames something (\(found ?? ""))")
            }
            checked += 1
        }
        #expect(checked >= 1, "no migration from \(Self.firstChecked) on was found: the check would pass vacuously")
    }
}

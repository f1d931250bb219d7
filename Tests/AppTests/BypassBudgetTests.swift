import Foundation
import Testing

/// The code that goes below Fluent, SQLKit and Codable (driver rows and binds, SQLite's C API,
/// hand-written JSON, the commit engines) lives in the files listed here and stays under a budget:
/// every such path must have paid for itself in a measured A/B (`docs/performance.md`). A file
/// elsewhere in `Sources/App` that reaches for the drivers' own types fails this test.
@Suite struct BypassBudgetTests {
    /// The bypass files, relative to `Sources/App`.
    static let bypassFiles = [
        "Core/BulkInsert.swift", "Core/Database+Write.swift", "Core/JSONWriter.swift", "Core/PostgresBatcher.swift", "Core/PostgresDirect.swift",
        "Core/SQLiteDirect.swift", "Core/SQLiteDirectConnection.swift", "Core/TokenLookup.swift",
        "Features/Profiles/PostgresProfileRows.swift", "Features/Profiles/SQLiteProfileRows.swift",
        "Features/Tickets/PostgresTicketPage.swift", "Features/Tickets/PostgresTicketStore.swift", "Features/Tickets/SQLiteTicketStore.swift",
    ]
    /// Lines of code (not blank, not only a comment) the bypass files may hold together: a ratchet,
    /// lowered as paths are deleted. Each path kept beat its general counterpart by more than the
    /// machine's noise in an alternating A/B (docs/performance.md, "What the bypass code buys").
    static let budget = 1_520

    /// What only bypass code touches: the drivers' row, bind and statement types and SQLite's C API.
    static var driverNames: [Regex<Substring>] {
        [
            /\bSQLiteData\b/, /\bSQLiteRow\b/, /\bPostgresRow\b/, /\bPostgresBindings\b/, /\bPostgresQuery\b/, /\bPostgresPreparedStatement\b/,
            /\bsqlite_nio_/, /\bSQLiteDirectConnection\b/, /\bBulkArray\b/, /\bPostgresDirect\./, /\bSQLiteDirect\./,
        ]
    }
    /// Where the database is chosen (`configure`), which may name a store's setup.
    static let chooser = "configure.swift"

    static var appDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/App").standardizedFileURL
    }

    static func codeLines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { line in
            let trimmed = line.drop { $0 == " " }
            return !trimmed.isEmpty && !trimmed.hasPrefix("//")
        }
    }

    @Test func bypassCodeStaysWithinItsBudget() throws {
        var total = 0
        for file in Self.bypassFiles {
            total += Self.codeLines(try String(contentsOf: Self.appDirectory.appendingPathComponent(file), encoding: .utf8)).count
        }
        #expect(total > 500, "the count read the bypass files")
        #expect(
            total <= Self.budget,
            "bypass code: \(total) lines, over the budget of \(Self.budget); measure what pays (docs/performance.md) and delete the rest")
    }

    @Test func onlyBypassFilesTouchTheDrivers() throws {
        let root = Self.appDirectory
        let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var scanned = 0
        for case let url as URL in files where url.pathExtension == "swift" {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            guard !Self.bypassFiles.contains(relative), relative != Self.chooser else { continue }
            scanned += 1
            for line in Self.codeLines(try String(contentsOf: url, encoding: .utf8)) {
                let code = line.components(separatedBy: "//").first ?? ""
                if Self.driverNames.contains(where: { code.contains($0) }) {
                    Issue.record("Sources/App/\(relative): \(line.trimmingCharacters(in: .whitespaces)) uses a driver's own types outside the bypass files")
                }
            }
        }
        #expect(scanned > 100, "the scan read the sources under \(root.path)")
    }
}

import Foundation
import Spreadsheets
import TandemCore
import Vapor

/// `tandem import-profiles --site <id> [--dry-run] [--format csv|xlsx] FILE`: the page's and API's import, from a shell,
/// as the system (no principal: the operator already holds the database).
struct ImportProfilesCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "site", help: "The site's id") var site: String?
        @Option(name: "format", help: "csv or xlsx (default: from the file's extension)") var format: String?
        @Flag(name: "dry-run", help: "Report what would change without writing") var dryRun: Bool
        @Flag(name: "json", help: "Print the report as JSON") var json: Bool
        @Argument(name: "file", help: "The CSV or XLSX file") var file: String
    }

    var help: String { "Import client profiles into a site from a CSV or XLSX file, with a per-row report." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.migrateSchema()
        let url = URL(fileURLWithPath: signature.file)
        guard FileManager.default.isReadableFile(atPath: url.path) else { throw CommandFailure("import-profiles: cannot read \(signature.file)") }
        let format = try TableFormat.from(parameter: signature.format ?? url.pathExtension, contentType: nil)
        let (site, _) = try await ProfileTransferService.site(try siteId(signature.site), for: nil, on: app.db)
        let started = Date()
        let report = try await ProfileTransferService.importFile(
            at: url, format: format, site: site, rights: .all, by: nil, dryRun: signature.dryRun, on: app.db
        ) { fraction, report in
            let line = String(
                format: "\r%3.0f%%  %d rows  %d added  %d edited  %d deleted  %d failed", fraction * 100, report.rows, report.added, report.edited,
                report.deleted, report.failed)
            FileHandle.standardError.write(Data(line.utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        if signature.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            context.console.print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let seconds = Date().timeIntervalSince(started)
        context.console.print(
            "\(report.dryRun ? "Dry run: nothing was written. " : "")\(report.rows) rows in \(String(format: "%.1f", seconds)) s: \(report.added) added, \(report.edited) edited, \(report.deleted) deleted, \(report.unchanged) unchanged, \(report.failed) failed."
        )
        for warning in report.warnings { context.console.warning("warning: \(warning)") }
        for failure in report.failures {
            let place = [failure.column, failure.cell.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            context.console.print("row \(failure.row)\(place.isEmpty ? "" : ", \(place)"): \(failure.reason)")
        }
    }
}

/// `tandem export-profiles --site <id> --format csv|xlsx [--output FILE]` (standard output by default).
struct ExportProfilesCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "site", help: "The site's id; without it, the blank template") var site: String?
        @Option(name: "format", help: "csv (default) or xlsx") var format: String?
        @Option(name: "output", help: "The file to write (default: standard output)") var output: String?
    }

    var help: String { "Export a site's client profiles (or the blank template) as CSV or XLSX." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.migrateSchema()
        let format = try TableFormat.from(parameter: signature.format ?? "csv", contentType: nil)
        var site: Site?
        if let text = signature.site { site = try await ProfileTransferService.site(try siteId(text), for: nil, on: app.db).0 }
        let url = signature.output.map { URL(fileURLWithPath: $0) } ?? ProfileTransferService.temporaryFile(format)
        try await ProfileTransferService.export(site: site, format: format, to: url, on: app.db)
        if signature.output == nil {
            defer { try? FileManager.default.removeItem(at: url) }
            let input = try FileHandle(forReadingFrom: url)
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 16), !chunk.isEmpty { FileHandle.standardOutput.write(chunk) }
        } else {
            context.console.print("Wrote \(url.path).")
        }
    }
}

private func siteId(_ text: String?) throws -> UUID {
    guard let text, let id = UUID(uuidString: text) else { throw CommandFailure("give the site's id with --site <id>") }
    return id
}

/// A command-line failure with a message for the operator.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

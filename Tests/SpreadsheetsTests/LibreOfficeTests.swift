import Foundation
import Testing

@testable import Spreadsheets

/// Cross-checks with a real spreadsheet program; skipped when LibreOffice is not installed
/// (`apt-get install libreoffice-calc-nogui`), unless `TANDEM_REQUIRE_LIBREOFFICE=1` (CI) makes that a failure.
@Suite("LibreOffice", .enabled(if: LibreOffice.path != nil || ProcessInfo.processInfo.environment["TANDEM_REQUIRE_LIBREOFFICE"] == "1"), .serialized)
struct LibreOfficeTests {
    @Test func opensOurWorkbook() throws {
        let rows: [[String]] = [
            ["Name", "Phone", "Note", "Formula-like", "Script"],
            ["Smith, John", "+1 555 0100", "He said \"hi\"", "=SUM(A1:A2)", "日本語"],
            ["Line\nbreak", "5551234567", "00123", "-5", "Ελληνικά 😀"],
            ["tab\there", "0044 20 7946 0958", "", "@home", "العربية"],
            ["last", "", "x", "'quoted", ""],
        ]
        let folder = try temporaryDirectory()
        let xlsx = folder.appendingPathComponent("export.xlsx")
        try writeAll(rows, to: xlsx, .xlsx)
        let csv = try LibreOffice.convert(xlsx, to: "csv:Text - txt - csv (StarCalc):44,34,76", in: folder)
        let read = try readAll(csv, .csv).map { LibreOffice.trimTrailingEmpty($0.cells) }
        #expect(read == rows.map(LibreOffice.trimTrailingEmpty))
    }

    @Test func readsWorkbookFromLibreOffice() throws {
        let text =
            [
                "Name,Phone,Amount,Note",
                "Zoë O'Brien,5551234567,3.25,\"multi\nline\"",
                "東京,+44 20 7946 0958,-12,\"quote \"\"inside\"\"\"",
                "Big,123456789012,0.1,",
            ].joined(separator: "\n") + "\n"
        let folder = try temporaryDirectory()
        let csv = folder.appendingPathComponent("import.csv")
        try Data(text.utf8).write(to: csv)
        let xlsx = try LibreOffice.convert(csv, to: "xlsx", in: folder, inputFilter: "CSV:44,34,76")
        let rows = try readAll(xlsx, .xlsx)
        #expect(
            rows.map { LibreOffice.trimTrailingEmpty($0.cells) } == [
                ["Name", "Phone", "Amount", "Note"],
                ["Zoë O'Brien", "5551234567", "3.25", "multi\nline"],
                ["東京", "+44 20 7946 0958", "-12", "quote \"inside\""],
                ["Big", "123456789012", "0.1"],
            ])
        #expect(rows.map(\.number) == [1, 2, 3, 4])
    }
}

enum LibreOffice {
    static let path = which("soffice") ?? which("libreoffice")

    static func trimTrailingEmpty(_ cells: [String]) -> [String] {
        var cells = cells
        while cells.last == "" { cells.removeLast() }
        return cells
    }

    /// Runs `soffice --headless --convert-to FORMAT --outdir FOLDER FILE` with a private profile.
    static func convert(_ file: URL, to format: String, in folder: URL, inputFilter: String? = nil) throws -> URL {
        let out = folder.appendingPathComponent("converted")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        guard let path else { throw TableFileError("LibreOffice is required (TANDEM_REQUIRE_LIBREOFFICE=1) but not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["-env:UserInstallation=file://\(folder.path)/profile", "--headless", "--norestore"]
        if let inputFilter { arguments += ["--infilter=\(inputFilter)"] }
        arguments += ["--convert-to", format, "--outdir", out.path, file.path]
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let name = file.deletingPathExtension().lastPathComponent + "." + String(format.prefix { $0 != ":" })
        let result = out.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: result.path) else {
            throw TableFileError("LibreOffice did not convert \(file.lastPathComponent) (exit \(process.terminationStatus))")
        }
        return result
    }
}

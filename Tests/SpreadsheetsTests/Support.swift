import Foundation
import Spreadsheets
import ZIPFoundation

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sheets-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func writeFile(_ bytes: [UInt8], _ name: String = "input.csv") throws -> URL {
    let url = try temporaryDirectory().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

func writeText(_ text: String, _ name: String = "input.csv") throws -> URL {
    try writeFile(Array(text.utf8), name)
}

func readAll(_ url: URL, _ format: TableFormat) throws -> [TableRow] {
    let reader = try openTable(at: url, format: format)
    var rows: [TableRow] = []
    while let row = try reader.next() { rows.append(row) }
    precondition(reader.progress == 1, "progress must reach 1 at the end")
    return rows
}

func readError(_ url: URL, _ format: TableFormat) -> TableFileError? {
    do {
        _ = try readAll(url, format)
        return nil
    } catch let error as TableFileError {
        return error
    } catch {
        return TableFileError("unexpected \(error)")
    }
}

func writeAll(_ rows: [[String]], to url: URL, _ format: TableFormat) throws {
    let writer = try createTable(at: url, format: format, sheetName: "Clients")
    for row in rows { try writer.write(row) }
    try writer.finish()
}

/// Builds a zip with the given parts (for hand-made XLSX fixtures).
func makeZip(_ parts: [(String, String)], name: String = "fixture.xlsx") throws -> URL {
    let url = try temporaryDirectory().appendingPathComponent(name)
    let archive = try Archive(url: url, accessMode: .create)
    for (path, text) in parts {
        let data = Data(text.utf8)
        try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
            data.subdata(in: Int(position)..<min(data.count, Int(position) + size))
        }
    }
    return url
}

func which(_ program: String) -> String? {
    for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(folder)/\(program)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

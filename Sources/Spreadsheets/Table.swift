import Foundation

/// The two spreadsheet file formats Tandem imports and exports.
public enum TableFormat: String, Sendable, CaseIterable {
    case csv
    case xlsx
}

/// Why a whole file is refused (never a partial import): `message` says why in words a spreadsheet user understands.
public struct TableFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One row of a table as read from a file.
public struct TableRow: Sendable, Equatable {
    /// The spreadsheet row number (the header is row 1; counts physical records for CSV, the `r` attribute for XLSX).
    public var number: Int
    /// The cell texts, exactly as stored (not trimmed). Rows may be shorter than the header.
    public var cells: [String]

    public init(number: Int, cells: [String]) {
        self.number = number
        self.cells = cells
    }
}

/// Reads a table row by row from a file on disk. The first row returned is the header.
///
/// A reader is used from one thread at a time. When `next()` throws, the whole file must be refused: rows
/// returned before the error may have been fine, but the file is not.
public protocol TableReader: AnyObject {
    /// The next non-empty row, or nil at the end. Throws `TableFileError` for whole-file problems.
    func next() throws -> TableRow?
    /// 0...1, by bytes consumed (for progress bars).
    var progress: Double { get }
}

/// Opens a CSV or XLSX file for reading. Throws `TableFileError` when the file cannot be read at all.
public func openTable(at url: URL, format: TableFormat) throws -> any TableReader {
    switch format {
    case .csv: return try CSVTableReader(url: url)
    case .xlsx: return try XLSXTableReader(url: url)
    }
}

/// Writes a table row by row to a file on disk.
public protocol TableWriter: AnyObject {
    func write(_ cells: [String]) throws
    /// Flushes and closes the file; for XLSX builds the zip. The file is complete only after `finish()` returns.
    func finish() throws
}

/// Creates (or replaces) a CSV or XLSX file. `sheetName` names the worksheet (XLSX only).
public func createTable(at url: URL, format: TableFormat, sheetName: String) throws -> any TableWriter {
    switch format {
    case .csv: return try CSVTableWriter(url: url)
    case .xlsx: return try XLSXTableWriter(url: url, sheetName: sheetName)
    }
}

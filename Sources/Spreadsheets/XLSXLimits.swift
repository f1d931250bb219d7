import Foundation
import ZIPFoundation

/// What an XLSX workbook may unpack to. A zip is small on the wire and can inflate a thousandfold (a 400 KB file can
/// hold a 400 MB cell), so each part is counted as it is unpacked and the reader stops at the first limit, with a
/// message that names it: memory and the temporary files stay bounded whatever the file claims.
///
/// The limits are far above what a spreadsheet of client profiles needs: a 100,000-row export of 17 columns has a
/// worksheet of about 100 MB that deflates about tenfold.
public struct XLSXLimits: Sendable {
    /// The worksheet part, uncompressed (extracted to a temporary file and streamed from there).
    public var sheetBytes: UInt64 = 256 << 20
    /// The shared strings part, uncompressed (held in memory as one block of text).
    public var sharedStringsBytes: UInt64 = 64 << 20
    /// The number of shared strings.
    public var sharedStrings = 2_000_000
    /// Each of the small parts read whole and decoded as a tree (package and workbook relationships, the
    /// workbook): a few KB in real workbooks, while a tree of a 1 MB part takes about 25 MB of memory.
    public var smallPartBytes: UInt64 = 1 << 20
    /// A cell's text, in UTF-16 code units: Excel's own limit, so no file a spreadsheet wrote is refused by it.
    public var cellCharacters = 32_767
    /// A row's text, all cells together, in UTF-8 bytes.
    public var rowBytes = 1 << 20
    /// A part may inflate to at most this many times its compressed size (never counted as more than the whole
    /// file), once past `ratioGraceBytes`.
    /// Spreadsheet XML deflates about 5-20 fold; a zip bomb about 1000 fold.
    public var compressionRatio: UInt64 = 100
    public var ratioGraceBytes: UInt64 = 16 << 20

    public static let standard = XLSXLimits()

    public init() {}

    static func megabytes(_ bytes: UInt64) -> String { "\(bytes >> 20) MB" }

    /// The parts the reader unpacks.
    enum Part {
        case small, sharedStrings, sheet
    }

    func bytes(_ part: Part) -> UInt64 {
        switch part {
        case .small: smallPartBytes
        case .sharedStrings: sharedStringsBytes
        case .sheet: sheetBytes
        }
    }

    /// Refuses, as soon as it is passed, a part growing beyond its limit or beyond the compression ratio.
    struct Inflation {
        let path: String
        let part: Part
        let limit: UInt64
        let ratioLimit: UInt64
        let ratio: UInt64
        private(set) var bytes: UInt64 = 0

        init(_ entry: Entry, _ part: Part, archiveBytes: UInt64, limits: XLSXLimits) throws(TableFileError) {
            path = entry.path
            self.part = part
            limit = limits.bytes(part)
            ratio = limits.compressionRatio
            // The whole file bounds what the entry can have read: its own header may claim anything.
            let (allowed, overflow) = min(entry.compressedSize, archiveBytes).multipliedReportingOverflow(by: limits.compressionRatio)
            ratioLimit = overflow ? .max : max(limits.ratioGraceBytes, allowed)
            if entry.uncompressedSize > limit { throw tooLarge() }
        }

        mutating func add(_ count: Int) throws(TableFileError) {
            bytes += UInt64(count)
            if bytes > limit { throw tooLarge() }
            if bytes > ratioLimit {
                throw TableFileError(
                    "the workbook's part \(path) unpacks to more than \(ratio) times its compressed size, which spreadsheets never do (it may be a zip bomb), so the file is refused"
                )
            }
        }

        private func tooLarge() -> TableFileError {
            let advice =
                part == .small ? "copy the sheet into a new workbook, save it and import that" : "split the data into smaller files and import them one by one"
            return TableFileError("the workbook's part \(path) unpacks to more than \(XLSXLimits.megabytes(limit)), the most Tandem reads; \(advice)")
        }
    }
}

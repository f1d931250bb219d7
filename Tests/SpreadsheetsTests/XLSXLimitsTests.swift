import Foundation
import Testing

@testable import Spreadsheets

/// `XLSXLimits`: each limit refuses the file as soon as it is passed, and says which limit it was.
@Suite("XLSX limits")
struct XLSXLimitsTests {
    static let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let workbook = ("xl/workbook.xml", "<workbook xmlns=\"\(main)\"><sheets><sheet name=\"S\" sheetId=\"1\"/></sheets></workbook>")

    static func sheet(_ rows: String) -> (String, String) {
        ("xl/worksheets/sheet1.xml", "<worksheet xmlns=\"\(main)\"><sheetData>\(rows)</sheetData></worksheet>")
    }

    static func inlineRow(_ number: Int, _ cells: [String]) -> String {
        "<row r=\"\(number)\">" + cells.map { "<c t=\"inlineStr\"><is><t>\($0)</t></is></c>" }.joined() + "</row>"
    }

    func refusal(_ parts: [(String, String)], _ limits: XLSXLimits = .standard) throws -> String? {
        let url = try makeZip(parts)
        do {
            let reader = try XLSXTableReader(url: url, limits: limits)
            while try reader.next() != nil {}
            return nil
        } catch let error as TableFileError {
            return error.message
        }
    }

    var small: XLSXLimits {
        var limits = XLSXLimits()
        limits.sheetBytes = 1 << 20
        limits.sharedStringsBytes = 1 << 20
        limits.smallPartBytes = 1 << 20
        limits.ratioGraceBytes = 1 << 20
        return limits
    }

    /// Text that deflates about as well as spreadsheet XML does (not a thousandfold).
    static func ordinaryText(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789 ")
        return String((0..<bytes).map { _ in letters.randomElement(using: &generator)! })
    }

    @Test func withinTheLimitsIsRead() throws {
        #expect(try refusal([Self.workbook, Self.sheet(Self.inlineRow(1, ["a", "b"]))], small) == nil)
    }

    @Test func worksheetBeyondItsSize() throws {
        let rows = (1...40).map { Self.inlineRow($0, [Self.ordinaryText(bytes: 30_000)]) }.joined()
        let message = try refusal([Self.workbook, Self.sheet(rows)], small)
        #expect(
            message
                == "the workbook's part xl/worksheets/sheet1.xml unpacks to more than 1 MB, the most Tandem reads; split the data into smaller files and import them one by one"
        )
    }

    @Test func smallPartBeyondItsSize() throws {
        let padded = (
            "xl/workbook.xml",
            "<workbook xmlns=\"\(Self.main)\"><!--\(Self.ordinaryText(bytes: 1_100_000))--><sheets><sheet name=\"S\" sheetId=\"1\"/></sheets></workbook>"
        )
        let message = try refusal([padded, Self.sheet(Self.inlineRow(1, ["a"]))], small)
        #expect(
            message
                == "the workbook's part xl/workbook.xml unpacks to more than 1 MB, the most Tandem reads; copy the sheet into a new workbook, save it and import that"
        )
    }

    /// A part that inflates a thousandfold is stopped once past the grace size, long before its limit.
    @Test func compressionRatio() throws {
        var limits = small
        limits.sheetBytes = 256 << 20
        let bomb = Self.sheet(Self.inlineRow(1, [String(repeating: "A", count: 8 << 20)]))
        let message = try refusal([Self.workbook, bomb], limits)
        #expect(
            message
                == "the workbook's part xl/worksheets/sheet1.xml unpacks to more than 100 times its compressed size, which spreadsheets never do (it may be a zip bomb), so the file is refused"
        )
    }

    @Test func sharedStrings() throws {
        var limits = small
        limits.sharedStrings = 3
        func strings(_ items: [String]) -> (String, String) {
            ("xl/sharedStrings.xml", "<sst xmlns=\"\(Self.main)\">" + items.map { "<si><t>\($0)</t></si>" }.joined() + "</sst>")
        }
        let sheet = Self.sheet("<row r=\"1\"><c t=\"s\"><v>2</v></c></row>")
        #expect(try refusal([Self.workbook, strings(["a", "b", "c"]), sheet], limits) == nil)
        #expect(
            try refusal([Self.workbook, strings(["a", "b", "c", "d"]), sheet], limits)
                == "the workbook has more than 3 shared strings, the most Tandem reads; split the data into smaller files and import them one by one")
        let big = strings((0..<40).map { _ in Self.ordinaryText(bytes: 30_000) })
        #expect(try refusal([Self.workbook, big, sheet], small)?.hasPrefix("the workbook's part xl/sharedStrings.xml unpacks to more than 1 MB") == true)
        let long = strings([String(repeating: "é", count: 32_768)])
        #expect(
            try refusal([Self.workbook, long, sheet])
                == "a shared string of the workbook holds more than 32767 characters, the most a spreadsheet cell can hold")
    }

    @Test func row() throws {
        let cells = (0..<40).map { _ in Self.ordinaryText(bytes: 30_000) }
        #expect(
            try refusal([Self.workbook, Self.sheet(Self.inlineRow(1, ["a"]) + Self.inlineRow(2, cells))])
                == "row 2 of the worksheet holds more than 1 MB of text, the most Tandem reads in one row")
    }

    @Test func tag() throws {
        let tag = "<row r=\"1\" x=\"\(String(repeating: "y", count: 9 << 20))\"/>"
        #expect(try refusal([Self.workbook, Self.sheet(tag)])?.hasPrefix("the workbook holds a tag, comment or CDATA section longer than 8 MB") == true)
    }

    @Test func cellCountsUTF16LikeASpreadsheet() throws {
        let emoji = String(repeating: "😀", count: 16_383) + "a"  // 32,767 UTF-16 units, 65,533 UTF-8 bytes
        #expect(try refusal([Self.workbook, Self.sheet(Self.inlineRow(1, [emoji]))]) == nil)
        #expect(try refusal([Self.workbook, Self.sheet(Self.inlineRow(1, [emoji + "b"]))])?.hasPrefix("cell A1 of the workbook holds more than 32767") == true)
    }
}

import Foundation
import Testing
import ZIPFoundation

@testable import Spreadsheets

@Suite("XLSX")
struct XLSXTests {
    static let controlText = "bell\u{07}nul-free \u{01}\u{1F} and a literal _x0041_ and _x005F_ and _xZZZZ_ <&>\"'"

    @Test func roundTripAwkwardText() throws {
        let rows = awkwardRows + [[Self.controlText, "\r\nCRLF\r", "  ", String(repeating: "長", count: 40)]]
        let url = try temporaryDirectory().appendingPathComponent("out.xlsx")
        try writeAll(rows, to: url, .xlsx)
        let read = try readAll(url, .xlsx)
        #expect(read.map(\.cells) == rows)
        #expect(read.map(\.number) == Array(1...rows.count))
        let reader = try #require(try openTable(at: url, format: .xlsx) as? XLSXTableReader)
        #expect(reader.sheetName == "Clients")
    }

    @Test func workbookParts() throws {
        let url = try temporaryDirectory().appendingPathComponent("parts.xlsx")
        let columns = (0..<30).map { "c\($0)" }
        try writeAll([columns, columns], to: url, .xlsx)
        let archive = try Archive(url: url, accessMode: .read)
        func part(_ path: String) throws -> String {
            let entry = try #require(archive[path], "\(path) missing")
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            return String(decoding: data, as: UTF8.self)
        }
        for path in [
            "[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml", "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels", "xl/styles.xml",
        ] {
            _ = try part(path)
        }
        let sheet = try part("xl/worksheets/sheet1.xml")
        #expect(sheet.contains("<dimension ref=\"A1:AD2\"/>"))
        #expect(sheet.contains("state=\"frozen\""))
        #expect(sheet.contains("<c r=\"AA2\" s=\"1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">c26</t></is></c>"))
        #expect(sheet.contains("<c r=\"A1\" s=\"2\""))
        #expect(sheet.contains("<col min=\"1\" max=\"1\" width="))
        let styles = try part("xl/styles.xml")
        #expect(styles.contains("numFmtId=\"49\""))
        #expect(styles.contains("<b/>"))
        #expect(archive["xl/worksheets/sheet1.xml"]?.isCompressed == true)
    }

    @Test func escapingRules() {
        var out: [UInt8] = []
        OOXMLText.appendEscaped("a\u{01}b\rc_x0041_d&<>\"\t\n_xyz", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a_x0001_b&#13;c_x005F_x0041_d&amp;&lt;&gt;&quot;\t\n_xyz")
        #expect(OOXMLText.decodeEscapes("a_x0001_b_x005F_x0041_c_xD83D__xDE00__x00") == "a\u{01}b_x0041_c😀_x00")
        #expect(OOXMLText.columnName(0) == "A")
        #expect(OOXMLText.columnName(25) == "Z")
        #expect(OOXMLText.columnName(26) == "AA")
        #expect(OOXMLText.columnName(16383) == "XFD")
        #expect(OOXMLText.parseReference(Array("AB12".utf8)).column == 27)
        #expect(OOXMLText.parseReference(Array("AB12".utf8)).row == 12)
    }

    @Test(arguments: [
        ("5.551234567E9", "5551234567"), ("5551234567", "5551234567"), ("1.0", "1"), ("-0", "0"), ("0", "0"),
        ("3.14", "3.14"), ("0.1", "0.1"), ("1E-5", "0.00001"), ("1.5E+20", "150000000000000000000"),
        ("999999999999999", "999999999999999"), ("1E+15", "1000000000000000"), ("-12.5", "-12.5"),
        ("2.5E-3", "0.0025"), ("1.7976931348623157E308", "1.7976931348623157e+308"), ("abc", "abc"),
    ])
    func numberFormatting(_ raw: String, _ expected: String) {
        #expect(OOXMLText.formatNumber(raw) == expected)
    }

    /// A cell holds what a spreadsheet cell can (32,767 characters); an 11 MB one refuses the file, naming the cell.
    @Test func longestCellAndHugeCell() throws {
        let longest = String(repeating: "0123456789<&é\n", count: 2340) + "1234567"
        #expect(longest.utf16.count == 32_767)
        let url = try temporaryDirectory().appendingPathComponent("longest.xlsx")
        try writeAll([["a", "b"], [longest, "after"], ["x"]], to: url, .xlsx)
        #expect(try readAll(url, .xlsx).map(\.cells) == [["a", "b"], [longest, "after"], ["x"]])

        let huge = String(repeating: "0123456789<&é\n", count: 750_000)  // about 11 MB
        let hugeURL = try temporaryDirectory().appendingPathComponent("huge.xlsx")
        try writeAll([["a", "b"], [huge, "after"], ["x"]], to: hugeURL, .xlsx)
        let error = try #require(readError(hugeURL, .xlsx))
        #expect(error.message == "cell A2 of the workbook holds more than 32767 characters, the most a spreadsheet cell can hold")
        try writeAll([["a", "b"], [longest + "x"]], to: hugeURL, .xlsx)
        #expect(readError(hugeURL, .xlsx)?.message.hasPrefix("cell A2 of the workbook holds more than 32767 characters") == true)
    }

    @Test func notAZip() throws {
        let error = try #require(readError(try writeText("name,phone\nAna,1\n", "text.xlsx"), .xlsx))
        #expect(error.message.contains("not an XLSX workbook"))
        let xls = try #require(
            readError(try writeFile([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 600), "old.xls"), .xlsx))
        #expect(xls.message.contains(".xls"))
        let marker = "EncryptedPackage".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let encrypted = try #require(
            readError(try writeFile([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 600) + marker, "locked.xlsx"), .xlsx))
        #expect(encrypted.message.contains("password"))
        let brokenZip = try #require(readError(try writeFile([0x50, 0x4B, 0x03, 0x04, 1, 2, 3], "broken.xlsx"), .xlsx))
        #expect(brokenZip.message.contains("not an XLSX workbook"))
        let otherZip = try #require(readError(try makeZip([("hello.txt", "hi")]), .xlsx))
        #expect(otherZip.message.contains("not an XLSX workbook"))
        let ods = try #require(readError(try makeZip([("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", "<x/>")]), .xlsx))
        #expect(ods.message.contains(".ods"))
    }

    /// What Excel writes: shared strings (rich runs, phonetic runs), numbers in exponent form, missing cells,
    /// rows skipped by `r`, booleans, errors, formula strings, prefixed elements, a hidden first sheet.
    @Test func excelStyleWorkbook() throws {
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        let url = try makeZip([
            ("[Content_Types].xml", "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
            (
                "_rels/.rels",
                """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="\(rels)/officeDocument" Target="xl/workbook.xml"/></Relationships>
                """
            ),
            (
                "xl/workbook.xml",
                """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="\(main)" xmlns:r="\(rels)"><fileVersion appName="xl"/><sheets>\
                <sheet name="Hidden" sheetId="2" state="hidden" r:id="rId2"/><sheet name="Kunden &amp; Co" sheetId="1" r:id="rId1"/>\
                </sheets><calcPr calcId="191029"/></workbook>
                """
            ),
            (
                "xl/_rels/workbook.xml.rels",
                """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId3" Type="\(rels)/sharedStrings" Target="sharedStrings.xml"/>\
                <Relationship Id="rId2" Type="\(rels)/worksheet" Target="worksheets/sheet2.xml"/>\
                <Relationship Id="rId1" Type="\(rels)/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>
                """
            ),
            (
                "xl/sharedStrings.xml",
                """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <sst xmlns="\(main)" count="6" uniqueCount="6"><si><t>Name</t></si><si><t>Phone</t></si>\
                <si><r><rPr><b/><sz val="11"/></rPr><t>Zoë </t></r><r><t xml:space="preserve">O'Brien</t></r></si>\
                <si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/></si>\
                <si><t>line&#10;two_x000D_</t></si><si><t/></si></sst>
                """
            ),
            (
                "xl/worksheets/sheet2.xml",
                "<worksheet xmlns=\"\(main)\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>hidden</t></is></c></row></sheetData></worksheet>"
            ),
            (
                "xl/worksheets/sheet1.xml",
                """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <x:worksheet xmlns:x="\(main)"><x:dimension ref="A1:E9"/><x:sheetData>
                <x:row r="1" spans="1:5"><x:c r="A1" s="1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>Kind</x:t></x:is></x:c></x:row>
                <x:row r="2"><x:c r="A2" t="s"><x:v>2</x:v></x:c><x:c r="B2"><x:v>5.551234567E9</x:v></x:c><x:c r="E2" t="b"><x:v>1</x:v></x:c></x:row>
                <x:row r="3" customFormat="1"/>
                <x:row r="5"><x:c r="B5" s="3"><x:v>442071234567</x:v></x:c><x:c r="C5" t="e"><x:f>NA()</x:f><x:v>#N/A</x:v></x:c></x:row>
                <x:row><x:c t="s"><x:v>3</x:v></x:c><x:c t="str"><x:f>A1&amp;"!"</x:f><x:v>Name!</x:v></x:c><x:c><x:v>0.1</x:v></x:c></x:row>
                <x:row r="8"><x:c r="A8" t="s"><x:v>4</x:v></x:c><x:c r="B8" t="b"><x:v>0</x:v></x:c><x:c r="C8" t="inlineStr"><x:is><x:r><x:t>rich </x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>inline</x:t></x:r></x:is></x:c><x:c r="D8" s="2"/><x:c r="E8" t="s"><x:v>5</x:v></x:c></x:row>
                <x:row r="9"><x:c r="C9"><x:v>-1.5E-3</x:v></x:c></x:row>
                </x:sheetData><x:pageMargins left="0.7"/></x:worksheet>
                """
            ),
        ])
        let reader = try #require(try openTable(at: url, format: .xlsx) as? XLSXTableReader)
        #expect(reader.sheetName == "Kunden & Co")
        var rows: [TableRow] = []
        while let row = try reader.next() { rows.append(row) }
        #expect(reader.progress == 1)
        #expect(
            rows == [
                TableRow(number: 1, cells: ["Name", "Phone", "Kind"]),
                TableRow(number: 2, cells: ["Zoë O'Brien", "5551234567", "", "", "TRUE"]),
                TableRow(number: 5, cells: ["", "442071234567", "#N/A"]),
                TableRow(number: 6, cells: ["東京", "Name!", "0.1"]),
                TableRow(number: 8, cells: ["line\ntwo\r", "FALSE", "rich inline", "", ""]),
                TableRow(number: 9, cells: ["", "", "-0.0015"]),
            ])
    }

    @Test func missingSharedStringIsRefused() throws {
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let url = try makeZip([
            ("xl/workbook.xml", "<workbook xmlns=\"\(main)\"><sheets><sheet name=\"S\" sheetId=\"1\"/></sheets></workbook>"),
            ("xl/worksheets/sheet1.xml", "<worksheet xmlns=\"\(main)\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>7</v></c></row></sheetData></worksheet>"),
        ])
        let error = try #require(readError(url, .xlsx))
        #expect(error.message.contains("damaged"))
    }

    @Test func manyRowsBoundedMemoryAndProgress() throws {
        let url = try temporaryDirectory().appendingPathComponent("many.xlsx")
        try writeAll((0..<20_000).map { ["\($0)", "name \($0)", "+1 555 \($0)"] }, to: url, .xlsx)
        let reader = try openTable(at: url, format: .xlsx)
        var count = 0
        var last = 0.0
        while let row = try reader.next() {
            count += 1
            #expect(row.number == count)
            #expect(reader.progress >= last)
            last = reader.progress
        }
        #expect(count == 20_000)
        #expect(reader.progress == 1)
    }
}

@Suite("CellSafety")
struct CellSafetyTests {
    @Test func examples() {
        #expect(CellSafety.neutralize("=SUM(A1)") == "'=SUM(A1)")
        #expect(CellSafety.neutralize("+1 555") == "'+1 555")
        #expect(CellSafety.neutralize("-5") == "'-5")
        #expect(CellSafety.neutralize("@x") == "'@x")
        #expect(CellSafety.neutralize("\tx") == "'\tx")
        #expect(CellSafety.neutralize("\rx") == "'\rx")
        #expect(CellSafety.neutralize("'=x") == "''=x")
        #expect(CellSafety.neutralize("'hello") == "'hello")
        #expect(CellSafety.neutralize("plain") == "plain")
        #expect(CellSafety.neutralize("") == "")
        #expect(CellSafety.restore("'=x") == "=x")
        #expect(CellSafety.restore("''=x") == "'=x")
        #expect(CellSafety.restore("'hello") == "'hello")
        #expect(CellSafety.restore("'") == "'")
        #expect(CellSafety.restore("O'Brien") == "O'Brien")
    }

    @Test func roundTripProperty() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["=", "+", "-", "@", "\t", "\r", "'", "a", " ", "1", "é", "😀", "\n"]
        var checked = 0
        for length in 0...6 {
            for _ in 0..<3000 {
                let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
                let safe = CellSafety.neutralize(text)
                #expect(CellSafety.restore(safe) == text, "\(text.debugDescription)")
                if let first = safe.unicodeScalars.first {
                    #expect(!["=", "+", "-", "@", "\t", "\r"].contains(first), "\(safe.debugDescription)")
                }
                checked += 1
            }
        }
        #expect(checked == 21_000)
    }
}

import CSV
import Foundation
import Testing

@testable import Spreadsheets

let awkwardRows: [[String]] = [
    ["Name", "Phone", "Notes", "Formula", "Empty at end", ""],
    ["Smith, John", "+1 555 0100", "He said \"hi\"", "=SUM(A1:A2)", "", ""],
    ["Line\nbreak", "Cr\rOnly", "CRLF\r\ninside", "+123", "-5", "@home"],
    ["\ttab first", "trailing space ", " leading space", "'quoted", "''=x", "'=y"],
    ["Ελληνικά", "العربية", "日本語のテキスト", "👨‍👩‍👧 emoji", "Ünïcödé", "a,b;c\td"],
    ["x", "", "", "", "", ""],
    ["only one more", ""],
]

@Suite("CSV")
struct CSVTests {
    @Test func roundTripAwkwardText() throws {
        let url = try temporaryDirectory().appendingPathComponent("out.csv")
        try writeAll(awkwardRows, to: url, .csv)
        let rows = try readAll(url, .csv)
        #expect(rows.map(\.cells) == awkwardRows)
        #expect(rows.map(\.number) == [1, 2, 3, 4, 5, 6, 7])

        // The bytes: BOM, CRLF, quotes only where needed; an independent reader (CSV.swift) agrees.
        let bytes = try [UInt8](Data(contentsOf: url))
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        #expect(text.hasPrefix("Name,Phone,Notes,Formula,Empty at end,\r\n\"Smith, John\",+1 555 0100,\"He said \"\"hi\"\"\",=SUM(A1:A2),,\r\n"))
        #expect(text.hasSuffix("only one more,\r\n"))
        let independent = try CSVReader(string: text)
        var parsed: [[String]] = []
        while let row = independent.next() { parsed.append(row) }
        #expect(parsed == awkwardRows)
    }

    @Test func hugeCellDoesNotBreak() throws {
        let huge = String(repeating: "0123456789abcdé,\"\n", count: 600_000)  // about 11 MB
        let url = try temporaryDirectory().appendingPathComponent("huge.csv")
        try writeAll([["a", "b"], [huge, "after"], ["x", "y"]], to: url, .csv)
        let clock = ContinuousClock()
        let start = clock.now
        let rows = try readAll(url, .csv)
        #expect(clock.now - start < .seconds(10))
        #expect(rows.count == 3)
        #expect(rows[1].cells == [huge, "after"])
        #expect(rows[2].number == 3)
    }

    @Test func byteOrderMarks() throws {
        let withBOM = try writeFile([0xEF, 0xBB, 0xBF] + Array("name,phone\r\nAna,555\r\n".utf8))
        let reader = try #require(try openTable(at: withBOM, format: .csv) as? CSVTableReader)
        #expect(reader.encoding == .utf8WithBOM)
        #expect(try reader.next()?.cells == ["name", "phone"])
        #expect(try reader.next()?.cells == ["Ana", "555"])
        #expect(try reader.next() == nil)

        let without = try writeText("name,phone\nAna,555\n")
        #expect(try readAll(without, .csv).map(\.cells) == [["name", "phone"], ["Ana", "555"]])
    }

    @Test(arguments: [true, false]) func utf16(littleEndian: Bool) throws {
        // Excel "Unicode text": UTF-16 with BOM, tab-separated; includes a character outside the BMP.
        let text = "Name\tPhone\r\nZoë 😀\t555 0100\r\n\"Multi\r\nline\"\t2\r\n"
        var bytes: [UInt8] = littleEndian ? [0xFF, 0xFE] : [0xFE, 0xFF]
        for unit in text.utf16 {
            bytes += littleEndian ? [UInt8(unit & 0xFF), UInt8(unit >> 8)] : [UInt8(unit >> 8), UInt8(unit & 0xFF)]
        }
        let url = try writeFile(bytes)
        let reader = try #require(try openTable(at: url, format: .csv) as? CSVTableReader)
        #expect(reader.delimiter == "\t")
        #expect(reader.encoding == (littleEndian ? .utf16LittleEndian : .utf16BigEndian))
        var rows: [TableRow] = []
        while let row = try reader.next() { rows.append(row) }
        #expect(
            rows == [
                TableRow(number: 1, cells: ["Name", "Phone"]),
                TableRow(number: 2, cells: ["Zoë 😀", "555 0100"]),
                TableRow(number: 3, cells: ["Multi\r\nline", "2"]),
            ])
    }

    @Test func brokenUTF16IsRefused() throws {
        // "a\n" then a lone high surrogate on line 2.
        let url = try writeFile([0xFF, 0xFE, 0x61, 0, 0x0A, 0, 0x62, 0, 0x00, 0xD8, 0x63, 0])
        let error = try #require(readError(url, .csv))
        #expect(error.message.contains("line 2"))
    }

    @Test func windows1252IsRefusedWithLine() throws {
        var bytes = Array("name,city\r\nAna,Lisbon\r\n\"multi\nline\",x\r\nJos".utf8)
        bytes += [0xE9] + Array(",Paris\r\n".utf8)
        let error = try #require(readError(try writeFile(bytes), .csv))
        #expect(error.message == "the file is not UTF-8 text (line 5 has the byte 0xE9): save it as 'CSV UTF-8 (Comma delimited)' and import again")
    }

    @Test func truncatedUTF8AtEndIsRefused() throws {
        let error = try #require(readError(try writeFile(Array("a,b\nc,".utf8) + [0xE2, 0x82]), .csv))
        #expect(error.message.contains("line 2 has the byte 0xE2"))
    }

    @Test func replacementCharacterAndNULAreRefused() throws {
        let fffd = try #require(readError(try writeText("a,b\nx,bad \u{FFFD} text\n"), .csv))
        #expect(fffd.message.contains("line 2"))
        #expect(fffd.message.contains("\u{FFFD}"))
        let nul = try #require(readError(try writeFile(Array("a,b\nx,y\nz".utf8) + [0] + Array(",w\n".utf8)), .csv))
        #expect(nul.message.contains("NUL"))
        #expect(nul.message.contains("line 3"))
    }

    @Test(arguments: [
        ("JosÃ© GarcÃ­a", "Ã©", "José García"),
        ("donâ€™t", "â€", "don’t"),
        ("GrÃ¼ÃŸe", "Ã¼", "Grüße"),
        ("100Â\u{A0}Euro", "Â\u{A0}", "100\u{A0}Euro"),
    ])
    func mojibakeIsRefused(cell: String, sample: String, meant: String) throws {
        let url = try writeText("name,note\nAna,fine\nB,\(cell)\n")
        let error = try #require(readError(url, .csv))
        #expect(error.message.contains("line 3"), "\(error.message)")
        #expect(error.message.contains("\"\(sample)\""), "\(error.message)")
        #expect(error.message.contains("double-encoded"))
        #expect(error.message.contains(meant), "\(error.message)")
    }

    @Test func properAccentsAreNotMojibake() throws {
        let rows = try readAll(try writeText("name\nÃO PAULO\nÂme\nâge\nÃ\n"), .csv)
        #expect(rows.count == 5)
    }

    @Test func delimiterDetection() throws {
        func detect(_ text: String) throws -> (Character, [[String]]) {
            let reader = try #require(try openTable(at: writeText(text), format: .csv) as? CSVTableReader)
            var rows: [[String]] = []
            while let row = try reader.next() { rows.append(row.cells) }
            return (reader.delimiter, rows)
        }
        let semicolon = try detect("name;phone;note\nMüller;0049 30 1234;\"a;b,c\"\n")
        #expect(semicolon.0 == ";")
        #expect(semicolon.1 == [["name", "phone", "note"], ["Müller", "0049 30 1234", "a;b,c"]])
        #expect(try detect("name\tphone\nA, B\t1;2\n").0 == "\t")
        #expect(try detect("\"a,b\";c\nx;y\n").0 == ";")  // commas inside quotes don't count
        #expect(try detect("name,phone;x\n").0 == ",")  // tie: comma
        #expect(try detect("single\nvalue\n").0 == ",")
        #expect(try detect("\n\nname;phone\n").0 == ";")  // leading blank lines skipped
    }

    @Test func rowNumbersCountRecordsAndSkipBlankLines() throws {
        let text = "h1,h2\r\n\"multi\r\nline\r\ncell\",b\r\n\r\nafter blank,c\r\n,\r\n\"\"\r\nlast,d"
        let rows = try readAll(try writeText(text), .csv)
        #expect(
            rows == [
                TableRow(number: 1, cells: ["h1", "h2"]),
                TableRow(number: 2, cells: ["multi\r\nline\r\ncell", "b"]),
                TableRow(number: 4, cells: ["after blank", "c"]),
                TableRow(number: 5, cells: ["", ""]),
                TableRow(number: 7, cells: ["last", "d"]),
            ])
    }

    @Test(arguments: ["\n", "\r\n", "\r"]) func lineEnds(_ end: String) throws {
        let text = ["a,b", "\"x\(end)y\",2", "", "c,\"\"\"q\"\"\""].joined(separator: end) + end
        let rows = try readAll(try writeText(text), .csv)
        #expect(rows.map(\.cells) == [["a", "b"], ["x\(end)y", "2"], ["c", "\"q\""]])
        #expect(rows.map(\.number) == [1, 2, 4])
    }

    @Test func cellsAreReturnedExactly() throws {
        let rows = try readAll(try writeText("a,b,c\n  spaced  ,un\"quoted\"mid, \"not quoted\"\nx,,\n"), .csv)
        #expect(rows[1].cells == ["  spaced  ", "un\"quoted\"mid", " \"not quoted\""])
        #expect(rows[2].cells == ["x", "", ""])
    }

    @Test func unterminatedQuoteIsRefused() throws {
        let error = try #require(readError(try writeText("a,b\nok,1\nbad,\"never closed\nmore text\n"), .csv))
        #expect(error.message.contains("row 3"), "\(error.message)")
        #expect(error.message.contains("line 3"), "\(error.message)")
        #expect(error.message.contains("never closed"))
    }

    @Test func textAfterClosingQuoteIsRefused() throws {
        let error = try #require(readError(try writeText("a,b\n\"x\" y,1\n"), .csv))
        #expect(error.message.contains("row 2"), "\(error.message)")
    }

    @Test func errorsAreSticky() throws {
        let reader = try openTable(at: writeText("a\n\"open\n"), format: .csv)
        #expect(try reader.next()?.cells == ["a"])
        #expect(throws: TableFileError.self) { try reader.next() }
        #expect(throws: TableFileError.self) { try reader.next() }
    }

    @Test func charactersAcrossChunkBoundaries() throws {
        // Many multi-byte characters and quoted CRLFs so that chunk boundaries (128 KB) fall inside them.
        var rows: [[String]] = [["id", "text"]]
        for i in 0..<6000 { rows.append(["\(i)", "€é😀東 \"q\",\r\n" + String(repeating: "ü", count: i % 7)]) }
        let url = try temporaryDirectory().appendingPathComponent("chunks.csv")
        try writeAll(rows, to: url, .csv)
        let read = try readAll(url, .csv)
        #expect(read.map(\.cells) == rows)
        #expect(read.last?.number == rows.count)
    }

    @Test func progressGrows() throws {
        let url = try temporaryDirectory().appendingPathComponent("p.csv")
        try writeAll((0..<50_000).map { ["\($0)", "some text to make it longer"] }, to: url, .csv)
        let reader = try openTable(at: url, format: .csv)
        #expect(reader.progress < 0.1)
        var seen: [Double] = []
        while let row = try reader.next() { if row.number % 10_000 == 0 { seen.append(reader.progress) } }
        #expect(seen == seen.sorted())
        #expect(seen.first! > 0.1 && seen.first! < 0.4)
        #expect(reader.progress == 1)
    }

    @Test func emptyFileHasNoRows() throws {
        #expect(try readAll(try writeFile([]), .csv).isEmpty)
        #expect(try readAll(try writeFile([0xEF, 0xBB, 0xBF]), .csv).isEmpty)
    }
}

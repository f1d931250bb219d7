import Foundation
import ZIPFoundation

/// Writes a one-sheet XLSX workbook that Excel, LibreOffice and Google Sheets open.
///
/// Rows are streamed to a temporary file as `<row>` XML (inline strings, `t="inlineStr"`), so memory stays bounded;
/// `finish()` then writes the zip (deflate) with ZIPFoundation, putting the worksheet's head (dimension, frozen header
/// row, column widths measured over all rows) in front of the streamed rows. Every cell uses the text number format
/// `@` (numFmtId 49) so phone numbers stay text when edited; the header row is bold. Empty cells are written as styled
/// blank cells, so a row keeps its length when read back.
public final class XLSXTableWriter: TableWriter {
    private let url: URL
    private let sheetName: String
    private let temporaryDirectory: URL
    private let rowsFile: URL
    private let rows: BufferedFileWriter
    private var rowCount = 0
    private var columnCount = 0
    private var widths: [Int] = []
    private var columnNames: [String] = []
    private var scratch: [UInt8] = []
    private var isFinished = false

    public init(url: URL, sheetName: String) throws {
        self.url = url
        self.sheetName = Self.cleanSheetName(sheetName)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-xlsx-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TableFileError("a temporary file could not be created to write the workbook")
        }
        temporaryDirectory = directory
        rowsFile = directory.appendingPathComponent("rows.xml")
        rows = try BufferedFileWriter(url: rowsFile)
        scratch.reserveCapacity(64 * 1024)
    }

    deinit {
        try? rows.close()
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    /// Excel's rules for sheet names: 1-31 characters, none of `[]:*?/\`, not starting or ending with an apostrophe.
    static func cleanSheetName(_ name: String) -> String {
        var cleaned = String(
            name.unicodeScalars.map { scalar -> Character in
                "[]:*?/\\".unicodeScalars.contains(scalar) || scalar.value < 0x20 ? "_" : Character(scalar)
            })
        while cleaned.hasPrefix("'") { cleaned.removeFirst() }
        cleaned = String(cleaned.prefix(31))
        while cleaned.hasSuffix("'") { cleaned.removeLast() }
        return cleaned.trimmingCharacters(in: .whitespaces).isEmpty ? "Sheet1" : cleaned
    }

    private func columnName(_ index: Int) -> String {
        while columnNames.count <= index { columnNames.append(OOXMLText.columnName(columnNames.count)) }
        return columnNames[index]
    }

    public func write(_ cells: [String]) throws {
        precondition(!isFinished, "write after finish")
        guard rowCount < OOXMLText.maxRows else {
            throw TableFileError("the table has more than \(OOXMLText.maxRows) rows, the most a worksheet can hold")
        }
        guard cells.count <= OOXMLText.maxColumns else {
            throw TableFileError("the table has more than \(OOXMLText.maxColumns) columns, the most a worksheet can hold")
        }
        rowCount += 1
        let rowNumber = String(rowCount)
        let style = rowCount == 1 ? "2" : "1"
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: "<row r=\"\(rowNumber)\">".utf8)
        for (index, cell) in cells.enumerated() {
            let reference = columnName(index) + rowNumber
            if cell.isEmpty {
                scratch.append(contentsOf: "<c r=\"\(reference)\" s=\"\(style)\"/>".utf8)
            } else {
                scratch.append(contentsOf: "<c r=\"\(reference)\" s=\"\(style)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">".utf8)
                OOXMLText.appendEscaped(cell, to: &scratch)
                scratch.append(contentsOf: "</t></is></c>".utf8)
            }
            // Column width: characters of the longest cell, capped (long cells wrap or overflow in the spreadsheet).
            let length = cell.utf8.count > 200 ? 60 : cell.unicodeScalars.count + (rowCount == 1 ? 1 : 0)
            if index >= widths.count { widths.append(length) } else if length > widths[index] { widths[index] = length }
        }
        scratch.append(contentsOf: "</row>".utf8)
        columnCount = max(columnCount, cells.count)
        try rows.write(scratch)
    }

    public func finish() throws {
        guard !isFinished else { return }
        isFinished = true
        try rows.close()
        let head = Data(sheetHead().utf8)
        let tail = Data("</sheetData><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>".utf8)
        let bodySize = Int64((try? FileManager.default.attributesOfItem(atPath: rowsFile.path)[.size] as? NSNumber)??.int64Value ?? 0)

        let manager = FileManager.default
        if manager.fileExists(atPath: url.path) { try? manager.removeItem(at: url) }
        do {
            let archive = try Archive(url: url, accessMode: .create)
            for (path, text) in Self.fixedParts(sheetName: sheetName) {
                let data = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<min(data.count, Int(position) + size))
                }
            }
            let body = try FileHandle(forReadingFrom: rowsFile)
            defer { try? body.close() }
            let total = Int64(head.count) + bodySize + Int64(tail.count)
            try archive.addEntry(
                with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: total,
                compressionMethod: .deflate, bufferSize: 256 * 1024
            ) { position, size in
                // The entry is the head, then the streamed rows file, then the tail; ZIPFoundation asks in order.
                var chunk = Data()
                var position = position
                var wanted = size
                while wanted > 0 && position < total {
                    if position < Int64(head.count) {
                        let part = head.subdata(in: Int(position)..<min(head.count, Int(position) + wanted))
                        chunk.append(part)
                    } else if position < Int64(head.count) + bodySize {
                        let offset = position - Int64(head.count)
                        try body.seek(toOffset: UInt64(offset))
                        let count = Int(min(Int64(wanted), bodySize - offset))
                        chunk.append(try body.read(upToCount: count) ?? Data())
                    } else {
                        let offset = Int(position - Int64(head.count) - bodySize)
                        chunk.append(tail.subdata(in: offset..<min(tail.count, offset + wanted)))
                    }
                    let added = chunk.count - (size - wanted)
                    if added <= 0 { break }
                    position += Int64(added)
                    wanted -= added
                }
                return chunk
            }
        } catch {
            try? manager.removeItem(at: url)
            throw TableFileError("the workbook could not be written (\(error))")
        }
        try? manager.removeItem(at: temporaryDirectory)
    }

    private func sheetHead() -> String {
        let lastColumn = columnName(max(columnCount, 1) - 1)
        let dimension = rowCount == 0 ? "A1" : "A1:\(lastColumn)\(rowCount)"
        var head = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <dimension ref="\(dimension)"/><sheetViews><sheetView tabSelected="1" workbookViewId="0">\
            <pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
            <selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>\
            <sheetFormatPr defaultRowHeight="15"/>
            """
        if !widths.isEmpty {
            head += "<cols>"
            for (index, length) in widths.enumerated() {
                let width = Double(min(max(length, 8), 60)) + 2.7
                head += "<col min=\"\(index + 1)\" max=\"\(index + 1)\" width=\"\(width)\" style=\"1\" customWidth=\"1\"/>"
            }
            head += "</cols>"
        }
        return head + "<sheetData>"
    }

    private static func fixedParts(sheetName: String) -> [(String, String)] {
        var escapedName: [UInt8] = []
        OOXMLText.appendEscaped(sheetName, to: &escapedName)
        let name = String(decoding: escapedName, as: UTF8.self)
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        let created = ISO8601DateFormatter().string(from: Date())
        return [
            (
                "[Content_Types].xml",
                xml + """
                    <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                    <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                    <Default Extension="xml" ContentType="application/xml"/>\
                    <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                    <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                    <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                    <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
                    <Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>\
                    </Types>
                    """
            ),
            (
                "_rels/.rels",
                xml + """
                    <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                    <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                    <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
                    <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>\
                    </Relationships>
                    """
            ),
            (
                "docProps/app.xml",
                xml + """
                    <Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" \
                    xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>Tandem</Application></Properties>
                    """
            ),
            (
                "docProps/core.xml",
                xml + """
                    <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
                    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
                    xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
                    <dc:creator>Tandem</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">\(created)</dcterms:created>\
                    </cp:coreProperties>
                    """
            ),
            (
                "xl/workbook.xml",
                xml + """
                    <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                    xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                    <bookViews><workbookView/></bookViews><sheets><sheet name="\(name)" sheetId="1" r:id="rId1"/></sheets></workbook>
                    """
            ),
            (
                "xl/_rels/workbook.xml.rels",
                xml + """
                    <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                    <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
                    <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                    </Relationships>
                    """
            ),
            (
                "xl/styles.xml",
                xml + """
                    <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                    <fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
                    <font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
                    <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                    <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                    <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                    <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
                    <xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
                    <xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/></cellXfs>\
                    <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
                    </styleSheet>
                    """
            ),
        ]
    }
}

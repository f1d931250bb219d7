import Foundation
import XMLCoder
import ZIPFoundation

/// Streams the first worksheet of an XLSX workbook row by row.
///
/// The zip is opened with ZIPFoundation; the small parts (`_rels/.rels`, `xl/workbook.xml`, its relationships) are
/// decoded with XMLCoder; the shared strings and the worksheet are extracted to temporary files and read with
/// `XMLPullScanner` in chunks, so memory holds the shared strings table and one chunk of the sheet, whatever its size.
/// Every part is counted as it is unpacked, and parts, cells and rows are held to `XLSXLimits`: a file beyond one is
/// refused whole, with the limit named.
///
/// Rules:
/// - Row numbers come from the `r` attribute (a row without one is the previous row + 1); rows without cells are skipped.
/// - Cells are placed by their `r` reference (gaps become ""); a row ends at its last cell element, so it may be
///   shorter than the header.
/// - Numbers: integral and below 1e15 → digits only ("5.551234567E9" → "5551234567"); others → shortest decimal text.
///   Dates are returned as their serial number (styles are not read).
/// - Booleans → "TRUE"/"FALSE"; errors → their text ("#N/A"); formulas → their cached result.
/// - `_xHHHH_` escapes in strings are decoded.
public final class XLSXTableReader: TableReader {
    /// The name of the worksheet being read.
    public let sheetName: String

    private let scanner: XMLPullScanner
    private let sharedStrings: SharedStrings
    private let limits: XLSXLimits
    private let temporaryDirectory: URL
    private var lastRowNumber = 0
    private var inSheetData = false
    private var finished = false
    private var failure: TableFileError?

    public init(url: URL, limits: XLSXLimits = .standard) throws {
        self.limits = limits
        let fileBytes = try Self.checkSignature(url)
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw TableFileError(
                "the file is not an XLSX workbook, or it is damaged (it cannot be opened as a zip archive). Save it from your spreadsheet as 'Excel Workbook (.xlsx)' and import again"
            )
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-xlsx-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TableFileError("a temporary file could not be created to read the workbook")
        }
        temporaryDirectory = directory
        do {
            let unpacker = Unpacker(archive: archive, archiveBytes: fileBytes, limits: limits)
            let parts = try Self.locateParts(unpacker)
            sheetName = parts.sheetName
            if let path = parts.sharedStrings, let entry = archive[path] {
                let file = directory.appendingPathComponent("sharedStrings.xml")
                try unpacker.extract(entry, .sharedStrings, to: file)
                sharedStrings = try Self.readSharedStrings(file, limits: limits)
                try? FileManager.default.removeItem(at: file)
            } else {
                sharedStrings = SharedStrings()
            }
            guard let entry = archive[parts.sheet] else {
                throw TableFileError("the workbook is damaged: its first worksheet (\(parts.sheet)) is missing")
            }
            let file = directory.appendingPathComponent("sheet.xml")
            try unpacker.extract(entry, .sheet, to: file)
            scanner = try XMLPullScanner(url: file)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            if let error = error as? TableFileError { throw error }
            if error is XMLPullScanner.Damaged { throw Self.damaged }
            throw TableFileError("the workbook could not be read: it may be damaged. Save it again as 'Excel Workbook (.xlsx)' and import again")
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    public var progress: Double {
        if finished { return 1 }
        guard scanner.totalBytes > 0 else { return 0 }
        return min(1, Double(scanner.bytesConsumed) / Double(scanner.totalBytes))
    }

    static let damaged = TableFileError(
        "the workbook is damaged (its worksheet XML cannot be read). Open it in your spreadsheet, save it again as 'Excel Workbook (.xlsx)' and import again")

    // MARK: Opening

    /// Recognizes files that are not zip archives: old .xls, password-protected workbooks, text. Returns the file's size.
    private static func checkSignature(_ url: URL) throws -> UInt64 {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw TableFileError("the file could not be opened")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return (try? handle.seekToEnd()) ?? 0 }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            // An OLE2 compound file: an Excel 97-2003 .xls, or an encrypted OOXML package (which has an
            // "EncryptedPackage" stream). Look for that stream name (UTF-16LE) in the directory.
            let marker = Array("EncryptedPackage".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            var carry: [UInt8] = []
            while let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty {
                let bytes = carry + [UInt8](data)
                if bytes.firstRange(of: marker) != nil {
                    throw TableFileError(
                        "the workbook is protected with a password, so it cannot be read. Open it, remove the password (File > Info > Protect Workbook > Encrypt with Password), save it and import again"
                    )
                }
                carry = Array(bytes.suffix(marker.count))
            }
            throw TableFileError(
                "the file is an old Excel 97-2003 workbook (.xls), which cannot be imported. Save it as 'Excel Workbook (.xlsx)' or 'CSV UTF-8 (Comma delimited)' and import again"
            )
        }
        throw TableFileError(
            "the file is not an XLSX workbook (it is not a zip archive). If it is a CSV file, import it as CSV; otherwise save it as 'Excel Workbook (.xlsx)' and import again"
        )
    }

    private struct Relationships: Decodable {
        var relationship: [Relationship]?
        enum CodingKeys: String, CodingKey { case relationship = "Relationship" }
    }

    private struct Relationship: Decodable {
        var id: String
        var type: String
        var target: String
        enum CodingKeys: String, CodingKey { case id = "Id", type = "Type", target = "Target" }
    }

    private struct Workbook: Decodable {
        var sheets: Sheets
        struct Sheets: Decodable {
            var sheet: [Sheet]?
        }
        struct Sheet: Decodable {
            var name: String
            var state: String?
            var relationshipID: String?
            enum CodingKeys: String, CodingKey { case name, state, relationshipID = "r:id" }
        }
    }

    /// Unpacks parts, each counted against its limit and the compression ratio as it inflates.
    private struct Unpacker {
        let archive: Archive
        let archiveBytes: UInt64
        let limits: XLSXLimits

        /// A small part, whole; nil when the archive has no such part.
        func data(_ path: String) throws -> Data? {
            guard let entry = archive[path] else { return nil }
            var data = Data()
            try unpack(entry, .small) { data.append($0) }
            return data
        }

        func extract(_ entry: Entry, _ part: XLSXLimits.Part, to file: URL) throws {
            guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = try? FileHandle(forWritingTo: file) else {
                throw TableFileError("a temporary file could not be created to read the workbook")
            }
            defer { try? handle.close() }
            try unpack(entry, part) { try handle.write(contentsOf: $0) }
        }

        private func unpack(_ entry: Entry, _ part: XLSXLimits.Part, into consume: (Data) throws -> Void) throws {
            var inflation = try XLSXLimits.Inflation(entry, part, archiveBytes: archiveBytes, limits: limits)
            do {
                _ = try archive.extract(entry, bufferSize: 64 * 1024, skipCRC32: true) { chunk in
                    try inflation.add(chunk.count)
                    try consume(chunk)
                }
            } catch let error as TableFileError {
                throw error
            } catch {
                throw TableFileError("the workbook is damaged (\(entry.path) cannot be unpacked). Save it again as 'Excel Workbook (.xlsx)' and import again")
            }
        }
    }

    /// Resolves a relationship target against the folder of the part that refers to it.
    private static func resolve(_ target: String, from folder: String) -> String {
        var components: [Substring] = target.hasPrefix("/") ? [] : folder.split(separator: "/")
        for part in target.split(separator: "/") {
            if part == ".." { _ = components.popLast() } else if part != "." { components.append(part) }
        }
        return components.joined(separator: "/")
    }

    private static func locateParts(_ unpacker: Unpacker) throws -> (sheet: String, sheetName: String, sharedStrings: String?) {
        let archive = unpacker.archive
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = false
        var workbookPath = "xl/workbook.xml"
        if let data = try unpacker.data("_rels/.rels"),
            let rels = try? decoder.decode(Relationships.self, from: data),
            let office = rels.relationship?.first(where: { $0.type.hasSuffix("/officeDocument") })
        {
            workbookPath = resolve(office.target, from: "")
        }
        guard let workbookData = try unpacker.data(workbookPath) else {
            if archive["content.xml"] != nil {
                throw TableFileError(
                    "the file is an OpenDocument spreadsheet (.ods), not an XLSX workbook. Save it as 'Excel 2007-365 (.xlsx)' and import again")
            }
            throw TableFileError(
                "the file is not an XLSX workbook (it is a zip archive without a workbook in it). Save it from your spreadsheet as 'Excel Workbook (.xlsx)' and import again"
            )
        }
        let folder = workbookPath.split(separator: "/").dropLast().joined(separator: "/")
        let relsPath = (folder.isEmpty ? "" : folder + "/") + "_rels/" + (workbookPath.split(separator: "/").last.map(String.init) ?? "workbook.xml") + ".rels"
        var relationships: [Relationship] = []
        if let data = try unpacker.data(relsPath), let rels = try? decoder.decode(Relationships.self, from: data) {
            relationships = rels.relationship ?? []
        }
        let workbook = try? decoder.decode(Workbook.self, from: workbookData)
        let sheets = workbook?.sheets.sheet ?? []
        let worksheets = sheets.compactMap { sheet -> (Workbook.Sheet, Relationship)? in
            guard let relation = relationships.first(where: { $0.id == sheet.relationshipID }),
                relation.type.hasSuffix("/worksheet")
            else { return nil }
            return (sheet, relation)
        }
        let sharedStrings =
            relationships.first(where: { $0.type.hasSuffix("/sharedStrings") }).map { resolve($0.target, from: folder) }
            ?? (archive["xl/sharedStrings.xml"] != nil ? "xl/sharedStrings.xml" : nil)
        // The first worksheet in tab order that is not hidden (or the first at all).
        if let (sheet, relation) = worksheets.first(where: { $0.0.state == nil || $0.0.state == "visible" }) ?? worksheets.first {
            return (resolve(relation.target, from: folder), sheet.name, sharedStrings)
        }
        if archive["xl/worksheets/sheet1.xml"] != nil {
            return ("xl/worksheets/sheet1.xml", sheets.first?.name ?? "Sheet1", sharedStrings)
        }
        throw TableFileError("the workbook has no worksheet to import")
    }

    /// Reads the shared strings table: the text of each `<si>`, rich text runs joined, phonetic runs (`<rPh>`) left out.
    private static func readSharedStrings(_ file: URL, limits: XLSXLimits) throws -> SharedStrings {
        let scanner = try XMLPullScanner(url: file)
        // The text is never longer than the part: reserved once, the block is never copied to grow.
        var strings = SharedStrings(reservingBytes: Int(scanner.totalBytes))
        func append(_ text: String) throws {
            guard strings.count < limits.sharedStrings else {
                throw TableFileError(
                    "the workbook has more than \(limits.sharedStrings) shared strings, the most Tandem reads; split the data into smaller files and import them one by one"
                )
            }
            strings.append(text)
        }
        var value: [UInt8] = []
        var inItem = false
        var capturing = false
        var phonetic = 0
        while true {
            switch try scanner.next() {
            case .start(.si, let selfClosing):
                if selfClosing { try append("") } else { inItem = true; value.removeAll(keepingCapacity: true) }
            case .end(.si):
                try append(limits.checkCell(OOXMLText.decodeEscapes(String(decoding: value, as: UTF8.self)), "a shared string"))
                inItem = false
            case .start(.rPh, let selfClosing):
                if !selfClosing { phonetic += 1 }
            case .end(.rPh):
                phonetic -= 1
            case .start(.t, let selfClosing):
                capturing = inItem && phonetic == 0 && !selfClosing
            case .end(.t):
                capturing = false
            case .text:
                if capturing { try limits.capture(scanner.text, into: &value, "a shared string") }
            case .endOfDocument:
                return strings
            default:
                continue
            }
        }
    }

    // MARK: Reading

    public func next() throws -> TableRow? {
        if let failure { throw failure }
        if finished { return nil }
        do {
            return try readRow()
        } catch {
            let failure = error as? TableFileError ?? Self.damaged
            self.failure = failure
            throw failure
        }
    }

    private func readRow() throws -> TableRow? {
        var rowNumber = 0
        var inRow = false
        var cells: [String] = []
        var hasCells = false
        var column = -1
        var type = CellType.number
        var value: [UInt8] = []
        var inCell = false
        var inInlineString = false
        var capturing = false
        var phonetic = 0
        var rowBytes = 0
        func cellName() -> String { "cell \(OOXMLText.columnName(column))\(rowNumber)" }

        while true {
            let event = try scanner.next()
            if !inSheetData {
                switch event {
                case .start(.sheetData, let selfClosing):
                    if selfClosing { finished = true; return nil }
                    inSheetData = true
                case .endOfDocument:
                    finished = true
                    return nil
                default:
                    break
                }
                continue
            }
            switch event {
            case .start(.row, let selfClosing):
                rowNumber = scanner.attribute("r").flatMap { OOXMLText.parseReference($0).row } ?? lastRowNumber + 1
                if selfClosing {
                    lastRowNumber = rowNumber
                } else {
                    inRow = true
                    cells.removeAll(keepingCapacity: true)
                    hasCells = false
                    column = -1
                    rowBytes = 0
                }
            case .end(.row):
                lastRowNumber = rowNumber
                inRow = false
                if hasCells { return TableRow(number: rowNumber, cells: cells) }
            case .start(.c, let selfClosing) where inRow:
                if let reference = scanner.attribute("r") {
                    let parsed = OOXMLText.parseReference(reference)
                    guard let parsedColumn = parsed.column else { throw Self.damaged }
                    column = parsedColumn
                } else {
                    column += 1
                }
                guard column < OOXMLText.maxColumns else { throw Self.damaged }
                hasCells = true
                if selfClosing {
                    place("", at: column, in: &cells)
                } else {
                    type = CellType(scanner.attribute("t"))
                    value.removeAll(keepingCapacity: true)
                    inCell = true
                    inInlineString = false
                    phonetic = 0
                }
            case .end(.c) where inCell:
                inCell = false
                capturing = false
                let text = try limits.checkCell(try cellText(type: type, value: value), cellName())
                rowBytes += text.utf8.count
                guard rowBytes <= limits.rowBytes else {
                    throw TableFileError(
                        "row \(rowNumber) of the worksheet holds more than \(XLSXLimits.megabytes(UInt64(limits.rowBytes))) of text, the most Tandem reads in one row"
                    )
                }
                place(text, at: column, in: &cells)
            case .start(.v, let selfClosing) where inCell:
                capturing = !selfClosing
            case .end(.v):
                capturing = false
            case .start(.is, let selfClosing) where inCell:
                inInlineString = !selfClosing
            case .end(.is):
                inInlineString = false
            case .start(.rPh, let selfClosing) where inCell:
                if !selfClosing { phonetic += 1 }
            case .end(.rPh) where inCell:
                phonetic -= 1
            case .start(.t, let selfClosing) where inInlineString:
                capturing = phonetic == 0 && !selfClosing
            case .end(.t):
                capturing = false
            case .text:
                if capturing { try limits.capture(scanner.text, into: &value, cellName()) }
            case .end(.sheetData), .endOfDocument:
                finished = true
                return nil
            default:
                continue
            }
        }
    }

    private func place(_ text: String, at column: Int, in cells: inout [String]) {
        if column < cells.count {
            cells[column] = text
        } else {
            while cells.count < column { cells.append("") }
            cells.append(text)
        }
    }

    private enum CellType {
        case number, sharedString, inlineString, formulaString, boolean, other

        init(_ attribute: UnsafeBufferPointer<UInt8>?) {
            guard let attribute, !attribute.isEmpty else { self = .number; return }
            if attribute.count == 1 {
                switch attribute[0] {
                case UInt8(ascii: "n"): self = .number
                case UInt8(ascii: "s"): self = .sharedString
                case UInt8(ascii: "b"): self = .boolean
                default: self = .other  // "e" (error text such as #N/A), "d" (ISO date text): returned as written
                }
            } else if attribute.count == 9 && attribute[0] == UInt8(ascii: "i") {
                self = .inlineString  // "inlineStr"
            } else if attribute.count == 3 && attribute[0] == UInt8(ascii: "s") {
                self = .formulaString  // "str"
            } else {
                self = .other
            }
        }
    }

    private func cellText(type: CellType, value: [UInt8]) throws -> String {
        switch type {
        case .number:
            return value.isEmpty ? "" : OOXMLText.formatNumber(String(decoding: value, as: UTF8.self))
        case .sharedString:
            guard let index = Int(String(decoding: value, as: UTF8.self)), let text = sharedStrings[index] else {
                throw TableFileError(
                    "the workbook is damaged (a cell refers to a missing shared string). Open it in your spreadsheet, save it again and import again")
            }
            return text
        case .boolean:
            switch value {
            case [UInt8(ascii: "1")]: return "TRUE"
            case [UInt8(ascii: "0")]: return "FALSE"
            default: return String(decoding: value, as: UTF8.self)
            }
        case .inlineString, .formulaString:
            return OOXMLText.decodeEscapes(String(decoding: value, as: UTF8.self))
        case .other:
            return String(decoding: value, as: UTF8.self)
        }
    }
}

/// The shared strings table as one block of UTF-8 and the end of each string in it: memory is the text and four
/// bytes a string, however many strings (a `String` each would cost 16 bytes or more per string beside the text).
struct SharedStrings {
    private var bytes: [UInt8] = []
    private var ends: [UInt32] = []

    init(reservingBytes count: Int = 0) {
        bytes.reserveCapacity(count)
    }

    var count: Int { ends.count }

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        ends.append(UInt32(bytes.count))
    }

    subscript(index: Int) -> String? {
        guard index >= 0 && index < ends.count else { return nil }
        let start = index == 0 ? 0 : Int(ends[index - 1])
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<Int(ends[index])]), as: UTF8.self) }
    }
}

extension XLSXLimits {
    /// Appends character data to the text of a cell, refusing it as soon as its bytes show it is too long
    /// (a character is at most 7 bytes here: `_xHHHH_`).
    func capture(_ text: UnsafeBufferPointer<UInt8>, into value: inout [UInt8], _ what: @autoclosure () -> String) throws {
        guard value.count + text.count <= cellCharacters * 7 else { throw cellTooLong(what()) }
        value.append(contentsOf: text)
    }

    /// The text of a cell, when it is within the limit.
    func checkCell(_ text: String, _ what: @autoclosure () -> String) throws -> String {
        // UTF-8 is never shorter than UTF-16: count UTF-16 only when the bytes could be too many.
        if text.utf8.count > cellCharacters && text.utf16.count > cellCharacters { throw cellTooLong(what()) }
        return text
    }

    private func cellTooLong(_ what: String) -> TableFileError {
        TableFileError("\(what) of the workbook holds more than \(cellCharacters) characters, the most a spreadsheet cell can hold")
    }
}

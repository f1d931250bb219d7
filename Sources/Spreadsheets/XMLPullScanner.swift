import Foundation

/// The element names the XLSX reader cares about (local names, any namespace prefix dropped).
enum XMLTag: Equatable {
    case row, c, v, `is`, t, r, rPh, si, sheetData, f, other
}

enum XMLEvent: Equatable {
    case start(XMLTag, selfClosing: Bool)
    case end(XMLTag)
    /// Character data; the decoded bytes are in `XMLPullScanner.text` until the next call.
    case text
    case endOfDocument
}

/// A minimal pull XML tokenizer for the big parts of an XLSX file (the worksheet and the shared strings).
///
/// Hand-written instead of Foundation's `XMLParser` because we measured `XMLParser` (swift-corelibs-foundation,
/// libxml2 underneath) at about 25k rows/s for 15-column rows on this machine, even with an empty delegate: it builds a
/// `String` for every element name and a `[String: String]` for every element's attributes. This scanner does neither
/// and is pull-based, so `next()` of the reader needs no second thread. It reads the file in chunks (bounded memory:
/// the chunk plus the largest single tag, at most `maxBuffer`), and handles what these machine-written parts contain:
/// elements with namespace prefixes, attributes in either quote, the five predefined entities and character
/// references, CDATA, comments, processing instructions and a DOCTYPE (skipped; no entities are ever expanded), and
/// XML's line-end normalization (CRLF and CR become LF in text). It does not check well-formedness beyond what it needs.
/// The buffer is a raw allocation read through local pointers to keep Swift's per-access checks out of the byte loops.
final class XMLPullScanner {
    struct Damaged: Error {
        var reason: String
    }

    private struct Attribute {
        var nameStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int
    }

    let totalBytes: UInt64
    private let handle: FileHandle
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var position = 0
    private var bytesRead: UInt64 = 0
    private var atEnd = false
    private static let chunkSize = 256 * 1024
    /// The buffer grows to hold one whole tag (or comment, CDATA section), up to this size.
    static let maxBuffer = 8 << 20

    /// Character data of the last `.text` event, valid until the next call.
    private(set) var text = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private let small: UnsafeMutablePointer<UInt8>
    private var attributes: [Attribute] = []
    private var attributeCount = 0

    init(url: URL) throws {
        handle = try FileHandle(forReadingFrom: url)
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        totalBytes = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
        capacity = Self.chunkSize * 2
        base = .allocate(capacity: capacity)
        small = .allocate(capacity: 8)
    }

    deinit {
        base.deallocate()
        small.deallocate()
        try? handle.close()
    }

    /// Bytes of the file consumed so far.
    var bytesConsumed: UInt64 { bytesRead - UInt64(count - position) }

    /// Reads more of the file, keeping the bytes from `position` on (they move to the start of the buffer).
    /// Returns false at the end of the file.
    private func refill() throws -> Bool {
        if atEnd { return false }
        if position > 0 {
            (base).update(from: base + position, count: count - position)
            count -= position
            position = 0
        }
        guard let data = try handle.read(upToCount: Self.chunkSize), !data.isEmpty else {
            atEnd = true
            return false
        }
        if count + data.count > capacity {
            guard capacity < Self.maxBuffer else {
                throw TableFileError(
                    "the workbook holds a tag, comment or CDATA section longer than \(Self.maxBuffer >> 20) MB, which spreadsheets never write")
            }
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
        data.copyBytes(to: base + count, count: data.count)
        count += data.count
        bytesRead += UInt64(data.count)
        return true
    }

    /// The value of the attribute with this local name on the last start tag (entities decoded), valid until the
    /// next call.
    func attribute(_ name: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let wanted = name.utf8Start
        let length = name.utf8CodeUnitCount
        let p = base
        for index in 0..<attributeCount {
            let a = attributes[index]
            if a.nameEnd - a.nameStart == length && memcmp(p + a.nameStart, wanted, length) == 0 {
                return UnsafeBufferPointer(start: p + a.valueStart, count: a.valueEnd - a.valueStart)
            }
        }
        return nil
    }

    func next() throws -> XMLEvent {
        while true {
            if position >= count {
                if try !refill() { return .endOfDocument }
                continue
            }
            if base[position] == UInt8(ascii: "<") {
                if let event = try markup() { return event }
                continue
            }
            if try characterData() { return .text }
        }
    }

    // MARK: Character data

    /// Scans text up to the next `<`. Returns false when nothing could be produced yet (more bytes were read).
    private func characterData() throws -> Bool {
        let p = base
        let n = count
        let start = position
        var i = start
        while i < n {
            let b = p[i]
            if b == UInt8(ascii: "<") || b == UInt8(ascii: "&") || b == 0x0D { break }
            i += 1
        }
        if i > start {
            text = UnsafeBufferPointer(start: p + start, count: i - start)
            position = i
            return true
        }
        // At `&` or CR.
        if p[i] == 0x0D {
            if i + 1 < n || atEnd {
                small[0] = 0x0A
                text = UnsafeBufferPointer(start: small, count: 1)
                position = (i + 1 < n && p[i + 1] == 0x0A) ? i + 2 : i + 1
                return true
            }
        } else {
            var end = i + 1
            while end < n && end - i < 12 && p[end] != UInt8(ascii: ";") { end += 1 }
            if end < n && p[end] == UInt8(ascii: ";") {
                let length = try Self.decodeEntity(UnsafeBufferPointer(start: p + i + 1, count: end - i - 1), into: small)
                text = UnsafeBufferPointer(start: small, count: length)
                position = end + 1
                return true
            }
            if end < n || atEnd { throw Damaged(reason: "a broken '&' entity") }
        }
        if try !refill() { throw Damaged(reason: "the text ends in the middle") }
        return false
    }

    /// Decodes the entity named `name` (between `&` and `;`) into `out` (4 bytes at most); returns the length.
    private static func decodeEntity(_ name: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) throws -> Int {
        func one(_ byte: UInt8) -> Int { out[0] = byte; return 1 }
        if name.elementsEqual("lt".utf8) { return one(UInt8(ascii: "<")) }
        if name.elementsEqual("gt".utf8) { return one(UInt8(ascii: ">")) }
        if name.elementsEqual("amp".utf8) { return one(UInt8(ascii: "&")) }
        if name.elementsEqual("quot".utf8) { return one(UInt8(ascii: "\"")) }
        if name.elementsEqual("apos".utf8) { return one(UInt8(ascii: "'")) }
        guard name.first == UInt8(ascii: "#") else { throw Damaged(reason: "an unknown entity") }
        var digits = name.dropFirst()
        var radix = 10
        if digits.first == UInt8(ascii: "x") || digits.first == UInt8(ascii: "X") {
            radix = 16
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, let value = UInt32(String(decoding: digits, as: UTF8.self), radix: radix),
            value != 0, Unicode.Scalar(value) != nil
        else {
            throw Damaged(reason: "a bad character reference")
        }
        var bytes: [UInt8] = []
        appendUTF8(value, to: &bytes)
        for (k, b) in bytes.enumerated() { out[k] = b }
        return bytes.count
    }

    // MARK: Markup

    /// Finds `terminator` at or after `from`, reading more of the file as needed. Returns the index of its first byte.
    private func find(_ terminator: StaticString, from: Int) throws -> Int {
        let needle = terminator.utf8Start
        let length = terminator.utf8CodeUnitCount
        var from = from
        while true {
            var k = from
            while k + length <= count {
                if base[k] == needle[0] && memcmp(base + k, needle, length) == 0 { return k }
                k += 1
            }
            let resume = max(from, count - length + 1)
            let offset = position
            if try !refill() { throw Damaged(reason: "the file ends in the middle of a tag") }
            from = resume - offset
        }
    }

    private func startsWith(_ prefix: StaticString, at index: Int) -> Bool {
        let length = prefix.utf8CodeUnitCount
        return index + length <= count && memcmp(base + index, prefix.utf8Start, length) == 0
    }

    /// Parses the markup at `position` (`<` …). Returns nil for markup that produces no event (comments etc.).
    private func markup() throws -> XMLEvent? {
        while count - position < 9 && !atEnd { _ = try refill() }
        let second = position + 1 < count ? base[position + 1] : 0
        if second == UInt8(ascii: "?") {
            position = try find("?>", from: position + 2) + 2
            return nil
        }
        if second == UInt8(ascii: "!") {
            if startsWith("<!--", at: position) {
                position = try find("-->", from: position + 4) + 3
                return nil
            }
            if startsWith("<![CDATA[", at: position) {
                let end = try find("]]>", from: position + 9)
                text = UnsafeBufferPointer(start: base + position + 9, count: end - position - 9)
                position = end + 3
                return .text
            }
            // DOCTYPE or another declaration: skipped (an internal subset with '>' inside is not supported).
            position = try find(">", from: position + 2) + 1
            return nil
        }
        // A start or end tag: find its '>' outside quoted attribute values.
        var end = position + 1
        var quote: UInt8 = 0
        while true {
            let p = base
            let n = count
            var k = end
            while k < n {
                let b = p[k]
                if quote != 0 {
                    if b == quote { quote = 0 }
                } else if b == UInt8(ascii: ">") {
                    break
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                }
                k += 1
            }
            if k < n { end = k; break }
            let offset = position
            if try !refill() { throw Damaged(reason: "the file ends in the middle of a tag") }
            end = k - offset
        }
        let p = base
        let start = position
        position = end + 1
        if p[start + 1] == UInt8(ascii: "/") {
            return .end(name(from: start + 2, to: end).0)
        }
        let selfClosing = p[end - 1] == UInt8(ascii: "/")
        let tagEnd = selfClosing ? end - 1 : end
        let (tag, afterName) = name(from: start + 1, to: tagEnd)
        try parseAttributes(from: afterName, to: tagEnd)
        return .start(tag, selfClosing: selfClosing)
    }

    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// Reads an element name starting at `from`; returns its tag and the index after it.
    private func name(from: Int, to limit: Int) -> (XMLTag, Int) {
        let p = base
        var k = from
        var localStart = from
        while k < limit {
            let b = p[k]
            if Self.isSpace(b) || b == UInt8(ascii: "/") { break }
            if b == UInt8(ascii: ":") { localStart = k + 1 }
            k += 1
        }
        return (Self.tag(p + localStart, k - localStart), k)
    }

    private static func tag(_ p: UnsafeMutablePointer<UInt8>, _ length: Int) -> XMLTag {
        switch length {
        case 1:
            switch p[0] {
            case UInt8(ascii: "c"): return .c
            case UInt8(ascii: "v"): return .v
            case UInt8(ascii: "t"): return .t
            case UInt8(ascii: "r"): return .r
            case UInt8(ascii: "f"): return .f
            default: return .other
            }
        case 2:
            if p[0] == UInt8(ascii: "i") && p[1] == UInt8(ascii: "s") { return .is }
            if p[0] == UInt8(ascii: "s") && p[1] == UInt8(ascii: "i") { return .si }
        case 3:
            if memcmp(p, "row", 3) == 0 { return .row }
            if memcmp(p, "rPh", 3) == 0 { return .rPh }
        case 9:
            if memcmp(p, "sheetData", 9) == 0 { return .sheetData }
        default:
            break
        }
        return .other
    }

    private func parseAttributes(from: Int, to limit: Int) throws {
        attributeCount = 0
        let p = base
        var k = from
        while k < limit {
            while k < limit && Self.isSpace(p[k]) { k += 1 }
            guard k < limit else { return }
            var localStart = k
            while k < limit && p[k] != UInt8(ascii: "=") && !Self.isSpace(p[k]) {
                if p[k] == UInt8(ascii: ":") { localStart = k + 1 }
                k += 1
            }
            let nameEnd = k
            while k < limit && p[k] != UInt8(ascii: "\"") && p[k] != UInt8(ascii: "'") { k += 1 }
            guard k < limit else { return }
            let quote = p[k]
            let valueStart = k + 1
            k = valueStart
            var needsDecoding = false
            while k < limit && p[k] != quote {
                if p[k] == UInt8(ascii: "&") { needsDecoding = true }
                k += 1
            }
            var valueEnd = min(k, limit)
            if needsDecoding { valueEnd = try decodeInPlace(valueStart, valueEnd) }
            let attribute = Attribute(nameStart: localStart, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd)
            if attributeCount < attributes.count { attributes[attributeCount] = attribute } else { attributes.append(attribute) }
            attributeCount += 1
            k += 1
        }
    }

    /// Decodes entities of an attribute value over its own bytes (the result is never longer); returns the new end.
    private func decodeInPlace(_ start: Int, _ end: Int) throws -> Int {
        let p = base
        var read = start
        var write = start
        while read < end {
            if p[read] == UInt8(ascii: "&") {
                var semicolon = read + 1
                while semicolon < end && p[semicolon] != UInt8(ascii: ";") { semicolon += 1 }
                guard semicolon < end else { throw Damaged(reason: "a broken '&' entity") }
                let length = try Self.decodeEntity(UnsafeBufferPointer(start: p + read + 1, count: semicolon - read - 1), into: small)
                for j in 0..<length { p[write + j] = small[j] }
                write += length
                read = semicolon + 1
            } else {
                p[write] = p[read]
                write += 1
                read += 1
            }
        }
        return write
    }
}

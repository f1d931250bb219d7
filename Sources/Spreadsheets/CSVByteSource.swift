import Foundation

/// The text encoding of a CSV file, found from its byte order mark.
public enum CSVEncoding: Sendable, Equatable {
    case utf8, utf8WithBOM, utf16LittleEndian, utf16BigEndian
}

/// Reads a CSV file in chunks and hands out UTF-8 bytes, whatever the file's encoding.
///
/// Hand-written because CSV.swift cannot do this part for us: it reads UTF-16 with one heap allocation per code unit
/// and reports a decoding problem only as "stop here" (`CSVReader.error`), without a line, while we must name the line.
/// UTF-16 (Excel "Unicode text") is transcoded here to UTF-8 so that one validating tokenizer handles every file.
/// Chunks always end on a whole UTF-8 sequence (an unfinished sequence is carried into the next chunk), so the
/// tokenizer never sees half a character except at the end of a broken file.
final class CSVByteSource {
    typealias Encoding = CSVEncoding

    /// Thrown when UTF-16 text has a lone surrogate or an odd number of bytes.
    struct BrokenUTF16: Error {}

    static let chunkSize = 128 * 1024

    let encoding: Encoding
    let fileSize: UInt64
    /// Bytes of the file read so far.
    private(set) var fileBytesRead: UInt64 = 0
    /// How many file bytes the last chunk handed out came from (for progress).
    private(set) var lastChunkFileBytes: Int = 0

    private let handle: FileHandle
    private var pendingFirst: [UInt8]?
    private var carry: [UInt8] = []
    private var pendingHighSurrogate: UInt16?
    private var atEnd = false

    init(url: URL) throws {
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw TableFileError("the file could not be opened")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        fileSize = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0

        var first = try Self.read(handle, Self.chunkSize)
        fileBytesRead = UInt64(first.count)
        if first.starts(with: [0xEF, 0xBB, 0xBF]) {
            encoding = .utf8WithBOM
            first.removeFirst(3)
        } else if first.starts(with: [0xFF, 0xFE]) {
            encoding = .utf16LittleEndian
            first.removeFirst(2)
        } else if first.starts(with: [0xFE, 0xFF]) {
            encoding = .utf16BigEndian
            first.removeFirst(2)
        } else {
            encoding = .utf8
        }
        pendingFirst = first
        if first.isEmpty { atEnd = fileBytesRead >= fileSize }
    }

    deinit {
        try? handle.close()
    }

    private static func read(_ handle: FileHandle, _ count: Int) throws -> [UInt8] {
        do {
            guard let data = try handle.read(upToCount: count) else { return [] }
            return [UInt8](data)
        } catch {
            throw TableFileError("the file could not be read")
        }
    }

    /// The next chunk of UTF-8 bytes, or nil at the end of the file.
    func next() throws -> [UInt8]? {
        if brokenNext { throw BrokenUTF16() }
        var raw: [UInt8]
        if let first = pendingFirst {
            pendingFirst = nil
            raw = first
        } else {
            if atEnd && carry.isEmpty && pendingHighSurrogate == nil { return nil }
            raw = try Self.read(handle, Self.chunkSize)
            fileBytesRead += UInt64(raw.count)
        }
        lastChunkFileBytes = raw.count
        let isLast = raw.isEmpty
        if isLast { atEnd = true }
        if !carry.isEmpty {
            raw.insert(contentsOf: carry, at: 0)
            carry.removeAll()
        }
        switch encoding {
        case .utf8, .utf8WithBOM:
            if raw.isEmpty { return nil }
            if !isLast { carry = Self.splitIncompleteSequence(&raw) }
            return raw
        case .utf16LittleEndian, .utf16BigEndian:
            if raw.isEmpty {
                if pendingHighSurrogate != nil { pendingHighSurrogate = nil; throw BrokenUTF16() }
                return nil
            }
            if raw.count % 2 == 1 {
                if isLast { throw BrokenUTF16() }
                carry = [raw.removeLast()]
            }
            return try transcodeUTF16(raw, littleEndian: encoding == .utf16LittleEndian)
        }
    }

    /// Removes and returns the bytes of a UTF-8 sequence cut by the end of the chunk.
    private static func splitIncompleteSequence(_ bytes: inout [UInt8]) -> [UInt8] {
        let n = bytes.count
        var k = n - 1
        while k >= 0 && k >= n - 4 && bytes[k] & 0xC0 == 0x80 { k -= 1 }
        guard k >= 0 && k >= n - 4 else { return [] }
        let lead = bytes[k]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        guard n - k < length else { return [] }
        let tail = Array(bytes[k...])
        bytes.removeSubrange(k...)
        return tail
    }

    private func transcodeUTF16(_ raw: [UInt8], littleEndian: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + raw.count / 2)
        var i = 0
        while i + 1 < raw.count {
            let unit =
                littleEndian
                ? UInt16(raw[i]) | UInt16(raw[i + 1]) << 8
                : UInt16(raw[i]) << 8 | UInt16(raw[i + 1])
            i += 2
            let scalar: UInt32
            if let high = pendingHighSurrogate {
                pendingHighSurrogate = nil
                guard (0xDC00...0xDFFF).contains(unit) else { return try brokenAfter(out) }
                scalar = 0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(unit - 0xDC00)
            } else if (0xD800...0xDBFF).contains(unit) {
                pendingHighSurrogate = unit
                continue
            } else if (0xDC00...0xDFFF).contains(unit) {
                return try brokenAfter(out)
            } else {
                scalar = UInt32(unit)
            }
            appendUTF8(scalar, to: &out)
        }
        return out
    }

    /// Hands out the good text before a broken UTF-16 character; the next call reports the error, so the
    /// tokenizer has counted the lines up to it by then.
    private var brokenNext = false
    private func brokenAfter(_ good: [UInt8]) throws -> [UInt8] {
        if good.isEmpty { throw BrokenUTF16() }
        brokenNext = true
        return good
    }
}

@inline(__always)
func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        out.append(UInt8(scalar))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | scalar >> 6))
        out.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | scalar >> 12))
        out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        out.append(UInt8(0x80 | scalar & 0x3F))
    default:
        out.append(UInt8(0xF0 | scalar >> 18))
        out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
        out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        out.append(UInt8(0x80 | scalar & 0x3F))
    }
}

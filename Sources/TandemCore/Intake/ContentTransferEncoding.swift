/// RFC 2045 content transfer encodings, decoded leniently: what real clients write, not only what the RFC allows.
public enum ContentTransferEncoding {
    /// The body's bytes for the `Content-Transfer-Encoding` value (7bit, 8bit, binary and unknown values leave
    /// the bytes as they are).
    public static func decode(_ bytes: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding.map({ $0.lowercased().trimmingASCIIWhitespace() }) {
        case "base64": return base64(bytes)
        case "quoted-printable": return quotedPrintable(bytes)
        default: return Array(bytes)
        }
    }

    /// Base64 as RFC 2045 §6.8 says to read it: characters outside the alphabet (line breaks, spaces, stray
    /// garbage) are ignored; missing padding is tolerated; "=" is ignored wherever it is. A final lone sextet
    /// (which carries no whole byte) is dropped. Bad base64 therefore decodes to whatever bytes it holds, never
    /// to an error: the attachment may be damaged, the rest of the message is still read.
    public static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var accumulator: UInt32 = 0
        var count = 0
        for byte in bytes {
            let value = base64Values[Int(byte)]
            if value == 0xFF { continue }
            accumulator = accumulator << 6 | UInt32(value)
            count += 1
            if count == 4 {
                out.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                out.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                count = 0
            }
        }
        if count == 2 {
            out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        } else if count == 3 {
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        }
        return out
    }

    static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(byte)] = UInt8(index) }
        // The URL-safe alphabet, which some webmail writes.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Quoted-printable: `=XX` (either case) is a byte, `=` at the end of a line (trailing whitespace allowed)
    /// is a soft line break, whitespace at the end of a line is dropped (RFC 2045 §6.7 rule 3), and an `=` that
    /// starts nothing valid is kept as it is. Line endings are kept as they came.
    public static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                // A soft line break: "=", optional whitespace, then CRLF, LF or the end.
                var probe = index + 1
                while probe < end, bytes[probe] == 0x20 || bytes[probe] == 0x09 { probe += 1 }
                if probe == end {
                    index = probe
                    continue
                }
                if bytes[probe] == 0x0A {
                    index = probe + 1
                    continue
                }
                if bytes[probe] == 0x0D {
                    index = probe + 1 < end && bytes[probe + 1] == 0x0A ? probe + 2 : probe + 1
                    continue
                }
                if index + 2 < end, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
                out.append(byte)
                index += 1
            } else if byte == 0x20 || byte == 0x09 {
                // The common case: one space between words.
                if index + 1 < end, bytes[index + 1] > 0x20 {
                    out.append(byte)
                    index += 1
                    continue
                }
                // Trailing whitespace before a line break was added in transport: drop it.
                var probe = index
                while probe < end, bytes[probe] == 0x20 || bytes[probe] == 0x09 { probe += 1 }
                if probe == end || bytes[probe] == 0x0A || bytes[probe] == 0x0D {
                    index = probe
                } else {
                    out.append(contentsOf: bytes[index..<probe])
                    index = probe
                }
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs, CR and LF (ASCII only, unlike Foundation's trimming).
    func trimmingASCIIWhitespace() -> String {
        let space: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = utf8.firstIndex(where: { !space($0) }), let last = utf8.lastIndex(where: { !space($0) }) else { return "" }
        // ASCII bytes are always scalar boundaries, so these are valid indices into the text.
        return String(self[first...last])
    }
}

extension String {
    /// Without leading and trailing spaces, tabs, CR and LF (ASCII only, unlike Foundation's trimming).
    func trimmingASCIIWhitespace() -> String { self[...].trimmingASCIIWhitespace() }
}

extension StringProtocol {
    /// Whether there is anything but ASCII whitespace.
    var hasVisibleText: Bool { utf8.contains { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) } }
}

extension Unicode.Scalar {
    var isASCIIWhitespace: Bool { value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D }
    /// C0 and C1 controls and DEL (NUL among them, which databases refuse in text).
    var isControl: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}

extension String {
    /// Without control characters other than tab and line feed: body text as it is stored and shown.
    func withoutControlCharacters() -> String {
        // A quick look at the bytes first: C0 and DEL are single bytes, C1 controls are 0xC2 0x80–0x9F.
        var previous: UInt8 = 0
        var found = false
        for byte in utf8 {
            if (byte < 0x20 && byte != 0x09 && byte != 0x0A) || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) {
                found = true
                break
            }
            previous = byte
        }
        guard found else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.filter { !$0.isControl || $0 == "\t" || $0 == "\n" }))
    }
}

/// Turns the bytes of a text part or an encoded word into text, whatever charset the sender's client labelled
/// it with. Decoding never fails: mail that cannot be read exactly is still read as well as it can be.
///
/// - UTF-8 (and US-ASCII, which clients often use as a label for UTF-8 text): UTF-8. Bytes that are not UTF-8
///   at all (no valid multi-byte sequence anywhere) were written in a single-byte charset and the label is
///   wrong: they are read as Windows-1252. Otherwise invalid sequences become U+FFFD.
/// - ISO-8859-1 is read as Windows-1252, as browsers do (WHATWG): 0x80–0x9F are smart quotes, dashes and the
///   euro sign in practice, never the C1 controls.
/// - ISO-8859-15 and UTF-16 (with or without a byte order mark) are supported.
/// - Any other or unknown label: UTF-8 when the bytes are valid UTF-8, else Windows-1252.
public enum MailCharset {
    public static func decode(_ bytes: [UInt8], charset label: String?) -> String {
        switch normalize(label) {
        case "iso-8859-1", "iso8859-1", "latin1", "l1", "iso_8859-1", "cp819", "ibm819", "iso-ir-100", "windows-1252", "cp1252", "x-cp1252",
            "cp-1252", "win-1252", "ansi":
            return windows1252(bytes)
        case "iso-8859-15", "iso8859-15", "latin-9", "latin9", "iso_8859-15", "l9":
            return iso885915(bytes)
        case "utf-16", "utf16":
            return utf16(bytes, bigEndian: true, honourBOM: true)
        case "utf-16be":
            return utf16(bytes, bigEndian: true, honourBOM: false)
        case "utf-16le":
            return utf16(bytes, bigEndian: false, honourBOM: false)
        default:
            return utf8OrFallback(bytes)
        }
    }

    /// A charset label as it is compared: lowercased, without quotes, whitespace or an RFC 2231 language suffix.
    static func normalize(_ label: String?) -> String {
        guard var label = label?.lowercased() else { return "utf-8" }
        if let star = label.firstIndex(of: "*") { label = String(label[..<star]) }
        return label.filter { $0 != "\"" && $0 != "'" && !$0.isWhitespace }
    }

    /// Valid UTF-8 as is; bytes with at least one valid multi-byte sequence as UTF-8 with replacement
    /// characters; anything else (a single-byte charset under a wrong or missing label) as Windows-1252.
    static func utf8OrFallback(_ bytes: [UInt8]) -> String {
        var errors = false
        var multibyte = false
        var index = 0
        let count = bytes.count
        while index < count {
            if bytes[index] < 0x80 {
                index += 1
                continue
            }
            let length = utf8SequenceLength(bytes, at: index)
            if length == 0 {
                errors = true
                index += 1
            } else {
                if length > 1 { multibyte = true }
                index += length
            }
        }
        if !errors { return String(decoding: bytes, as: UTF8.self) }
        guard multibyte else { return windows1252(bytes) }
        var scalars = String.UnicodeScalarView()
        index = 0
        while index < bytes.count {
            let length = utf8SequenceLength(bytes, at: index)
            guard length > 0 else {
                scalars.append("\u{FFFD}")
                index += 1
                continue
            }
            var value = length == 1 ? UInt32(bytes[index]) : UInt32(bytes[index]) & (0xFF >> (length + 1))
            var offset = 1
            while offset < length {
                value = value << 6 | UInt32(bytes[index + offset] & 0x3F)
                offset += 1
            }
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            index += length
        }
        return String(scalars)
    }

    /// The length of the well-formed UTF-8 sequence at `index` (RFC 3629: no overlong forms, no surrogates,
    /// nothing above U+10FFFF), or 0 when the byte there starts none.
    static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        let remaining = bytes.count - index
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            let byte = bytes[index + offset]
            return byte >= low && byte <= high
        }
        switch lead {
        case 0xC2...0xDF:
            return remaining >= 2 && continuation(1) ? 2 : 0
        case 0xE0...0xEF:
            let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
            return remaining >= 3 && continuation(1, low, high) && continuation(2) ? 3 : 0
        case 0xF0...0xF4:
            let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            return remaining >= 4 && continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// Windows-1252: Latin-1 with printable characters in 0x80–0x9F (the five unassigned bytes map to the
    /// C1 code points of the same value, as in WHATWG's table).
    static let windows1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    static func windows1252(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            if byte >= 0x80, byte <= 0x9F {
                scalars.append(Unicode.Scalar(windows1252High[Int(byte) - 0x80])!)
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    static func iso885915(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            let value: UInt32
            switch byte {
            case 0xA4: value = 0x20AC
            case 0xA6: value = 0x0160
            case 0xA8: value = 0x0161
            case 0xB4: value = 0x017D
            case 0xB8: value = 0x017E
            case 0xBC: value = 0x0152
            case 0xBD: value = 0x0153
            case 0xBE: value = 0x0178
            default: value = UInt32(byte)
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }

    static func utf16(_ bytes: [UInt8], bigEndian: Bool, honourBOM: Bool) -> String {
        var start = 0
        var big = bigEndian
        if honourBOM, bytes.count >= 2 {
            if bytes[0] == 0xFE, bytes[1] == 0xFF {
                big = true
                start = 2
            } else if bytes[0] == 0xFF, bytes[1] == 0xFE {
                big = false
                start = 2
            }
        }
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = start
        while index + 1 < bytes.count {
            let high = UInt16(bytes[index]), low = UInt16(bytes[index + 1])
            units.append(big ? high << 8 | low : low << 8 | high)
            index += 2
        }
        return String(decoding: units, as: UTF16.self)
    }
}

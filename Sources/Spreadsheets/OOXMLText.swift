import Foundation

/// Small OOXML text rules shared by the XLSX reader and writer (hand-written: they are a few lines each and no
/// dependency offers them).
enum OOXMLText {
    // MARK: Column letters

    /// "A" for 0, "Z" for 25, "AA" for 26 … "XFD" for 16383.
    static func columnName(_ index: Int) -> String {
        var n = index + 1
        var letters: [UInt8] = []
        while n > 0 {
            let r = (n - 1) % 26
            letters.append(UInt8(ascii: "A") + UInt8(r))
            n = (n - 1) / 26
        }
        return String(decoding: letters.reversed(), as: UTF8.self)
    }

    static let maxColumns = 16384
    static let maxRows = 1_048_576

    /// Splits a cell reference like "AB12" into a 0-based column and the row number (nil where absent or bad).
    static func parseReference<C: Collection>(_ bytes: C) -> (column: Int?, row: Int?) where C.Element == UInt8 {
        var column = 0
        var row = 0
        var letters = 0
        var digits = 0
        for b in bytes {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z") where digits == 0:
                column = column * 26 + Int(b - UInt8(ascii: "A")) + 1
                letters += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z") where digits == 0:
                column = column * 26 + Int(b - UInt8(ascii: "a")) + 1
                letters += 1
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                row = row * 10 + Int(b - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: "$"):
                continue
            default:
                return (nil, nil)
            }
            if letters > 3 || digits > 7 { return (nil, nil) }
        }
        let col = letters > 0 && column <= maxColumns ? column - 1 : nil
        return (col, digits > 0 ? row : nil)
    }

    // MARK: Writing

    /// Appends `text` as XML character data: `&<>"` escaped, CR as a character reference (XML would turn a raw CR
    /// into LF), other characters illegal in XML 1.0 as `_xHHHH_`, and a literal `_xHHHH_` protected as `_x005F_xHHHH_`.
    static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        // Fast path: nothing to escape.
        let clean = text.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes {
                switch b {
                case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "_"), 0xEF: return false
                case 0..<0x20 where b != 0x09 && b != 0x0A: return false
                default: continue
                }
            }
            out.append(contentsOf: bytes)
            return true
        }
        if clean == true { return }
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            switch s.value {
            case 0x26: out.append(contentsOf: Array("&amp;".utf8))
            case 0x3C: out.append(contentsOf: Array("&lt;".utf8))
            case 0x3E: out.append(contentsOf: Array("&gt;".utf8))
            case 0x22: out.append(contentsOf: Array("&quot;".utf8))
            case 0x0D: out.append(contentsOf: Array("&#13;".utf8))
            case 0x09, 0x0A: out.append(UInt8(s.value))
            case 0..<0x20, 0xFFFE, 0xFFFF: appendHexEscape(s.value, to: &out)
            case 0x5F where isEscapeAhead(scalars, i):
                out.append(contentsOf: Array("_x005F_".utf8))
            default:
                appendUTF8(s.value, to: &out)
            }
            i += 1
        }
    }

    private static func appendHexEscape(_ value: UInt32, to out: inout [UInt8]) {
        let hex = String(value, radix: 16, uppercase: true)
        out.append(contentsOf: Array("_x\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)_".utf8))
    }

    /// True when `_xHHHH_` starts at index `i`.
    private static func isEscapeAhead(_ scalars: [Unicode.Scalar], _ i: Int) -> Bool {
        guard i + 6 < scalars.count, scalars[i + 1] == "x", scalars[i + 6] == "_" else { return false }
        return (2...5).allSatisfy { isHex(scalars[i + $0].value) }
    }

    @inline(__always)
    private static func isHex(_ v: UInt32) -> Bool {
        (0x30...0x39).contains(v) || (0x41...0x46).contains(v) || (0x61...0x66).contains(v)
    }

    // MARK: Reading

    /// Decodes `_xHHHH_` escapes (left to right, so `_x005F_x0041_` gives `_x0041_`). Surrogate pairs written as two
    /// escapes are joined; anything that is not a valid escape stays as it is.
    static func decodeEscapes(_ text: String) -> String {
        let hasUnderscore = text.utf8.withContiguousStorageIfAvailable { $0.isEmpty ? false : memchr($0.baseAddress!, 0x5F, $0.count) != nil }
        guard hasUnderscore ?? text.utf8.contains(UInt8(ascii: "_")) else { return text }
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 7 else { return text }
        var out = String.UnicodeScalarView()
        var i = 0
        func escape(at k: Int) -> UInt32? {
            guard k + 6 < scalars.count, scalars[k] == "_", scalars[k + 1] == "x", scalars[k + 6] == "_" else { return nil }
            var v: UInt32 = 0
            for d in 2...5 {
                let c = scalars[k + d].value
                guard isHex(c) else { return nil }
                v = v << 4 | (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
            }
            return v
        }
        while i < scalars.count {
            if scalars[i] == "_", let v = escape(at: i) {
                if (0xD800...0xDBFF).contains(v), let low = escape(at: i + 7), (0xDC00...0xDFFF).contains(low) {
                    out.append(Unicode.Scalar(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))!)
                    i += 14
                    continue
                }
                if let scalar = Unicode.Scalar(v) {
                    out.append(scalar)
                    i += 7
                    continue
                }
            }
            out.append(scalars[i])
            i += 1
        }
        return String(out)
    }

    /// Number cell text: integers without ".0" or exponent when integral and below 1e15 (5.551234567E9 gives
    /// "5551234567"), other numbers as the shortest decimal text that reads back to the same value, written out
    /// without an exponent unless it is very large or very small. Text that is not a number is returned as it is.
    static func formatNumber(_ text: String) -> String {
        guard let value = Double(text), value.isFinite else { return text }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        var shortest = "\(value)"  // Swift prints the shortest round-tripping digits
        if shortest.hasSuffix(".0") { shortest.removeLast(2) }
        guard let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }), let exponent = Int(shortest[shortest.index(after: e)...]),
            (-20...20).contains(exponent)
        else {
            return shortest
        }
        var mantissa = String(shortest[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0])
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        var point = intPart.count + exponent
        if point <= 0 {
            digits = String(repeating: "0", count: 1 - point) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        var result = String(digits.prefix(point))
        var fraction = String(digits.dropFirst(point))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if !fraction.isEmpty { result += "." + fraction }
        return (negative ? "-" : "") + result
    }
}

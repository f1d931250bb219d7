/// RFC 2047 encoded words (`=?charset?B?…?=`, `=?charset?Q?…?=`) in header text: what non-ASCII subjects,
/// names and (from many clients, against the RFC) quoted strings and filenames are written as.
public enum EncodedWords {
    /// The text with every encoded word decoded. Whitespace between two adjacent encoded words is dropped
    /// (RFC 2047 §6.2), and adjacent words in the same charset are joined as bytes before decoding, so a
    /// character split across two words (as some clients do) comes out whole. A malformed word is left as it is.
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, containsMarker(bytes) else { return text }
        var out = ""
        var literalStart = 0
        var index = 0
        // The run of adjacent encoded words being joined: its charset and bytes so far.
        var pendingCharset: String?
        var pendingBytes: [UInt8] = []
        var afterWord = false
        func flush() {
            if let charset = pendingCharset { out += MailCharset.decode(pendingBytes, charset: charset) }
            pendingCharset = nil
            pendingBytes = []
        }
        var ends = WordEnds()
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "?"),
                let word = parseWord(bytes, at: index, ends: &ends)
            {
                let between = bytes[literalStart..<index]
                let onlyWhitespace = between.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
                if !(afterWord && onlyWhitespace) {
                    flush()
                    out += String(decoding: between, as: UTF8.self)
                }
                let charset = MailCharset.normalize(word.charset)
                if pendingCharset != charset { flush() }
                pendingCharset = charset
                pendingBytes += word.bytes
                index = word.end
                literalStart = index
                afterWord = true
                continue
            }
            if afterWord, !(bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D) {
                flush()
                afterWord = false
            }
            index += 1
        }
        flush()
        out += String(decoding: bytes[literalStart...], as: UTF8.self)
        return out
    }

    static func containsMarker(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "?") { return true }
            index += 1
        }
        return false
    }

    /// `=?charset?enc?text?=` starting at `start`: the charset, the decoded bytes and where the word ends.
    /// Where the next "?=" and the next space or control byte are, remembered between attempts: words are tried
    /// at increasing positions, so each is searched for once per stretch of text, not once per "=?" (a header of
    /// thousands of unterminated "=?" costs one pass, not thousands).
    struct WordEnds {
        var terminator = -1
        var space = -1

        mutating func terminator(in bytes: [UInt8], from start: Int) -> Int {
            if terminator < start {
                terminator = start
                while terminator + 1 < bytes.count, !(bytes[terminator] == UInt8(ascii: "?") && bytes[terminator + 1] == UInt8(ascii: "=")) {
                    terminator += 1
                }
                if terminator + 1 >= bytes.count { terminator = bytes.count }
            }
            return terminator
        }

        mutating func space(in bytes: [UInt8], from start: Int) -> Int {
            if space < start {
                space = start
                while space < bytes.count, !EncodedWords.isSpaceOrControl(bytes[space]) { space += 1 }
            }
            return space
        }
    }

    static func parseWord(_ bytes: [UInt8], at start: Int, ends: inout WordEnds) -> (charset: String, bytes: [UInt8], end: Int)? {
        var index = start + 2
        let charsetStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
            if isSpaceOrControl(bytes[index]) || index - charsetStart > 40 { return nil }
            index += 1
        }
        guard index + 2 < bytes.count, index > charsetStart, bytes[index + 2] == UInt8(ascii: "?") else { return nil }
        let charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        let textStart = index + 3
        // Encoded text has no whitespace and ends at the first "?="; a word is never longer than a line.
        index = ends.terminator(in: bytes, from: textStart)
        guard index < bytes.count, index - textStart <= 2000, ends.space(in: bytes, from: textStart) > index else { return nil }
        let text = bytes[textStart..<index]
        let decoded: [UInt8]
        if encoding == UInt8(ascii: "b") {
            decoded = ContentTransferEncoding.base64(text)
        } else {
            var out: [UInt8] = []
            var position = text.startIndex
            while position < text.endIndex {
                let byte = text[position]
                if byte == UInt8(ascii: "_") {
                    out.append(0x20)
                } else if byte == UInt8(ascii: "="), position + 2 < text.endIndex,
                    let high = ContentTransferEncoding.hexValue(text[position + 1]), let low = ContentTransferEncoding.hexValue(text[position + 2])
                {
                    out.append(high << 4 | low)
                    position += 3
                    continue
                } else {
                    out.append(byte)
                }
                position += 1
            }
            decoded = out
        }
        return (charset, decoded, index + 2)
    }

    static func isSpaceOrControl(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x7F }
}

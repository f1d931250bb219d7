import Foundation

/// One header field as it arrived: its name as written and its value unfolded (line breaks of folding removed),
/// not yet decoded (encoded words are still there; use `EncodedWords.decode` or the parsed fields).
public struct MailHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A header section: every field in order, duplicates kept; names compared case-insensitively.
public struct MailHeaders: Sendable, Equatable {
    public var fields: [MailHeader]

    public init(_ fields: [MailHeader] = []) { self.fields = fields }

    /// The first field's value with this name (the one a client shows), trimmed.
    public func first(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every field's value with this name, in order.
    public func all(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { first(name) != nil }

    /// The first field's value with its encoded words decoded.
    public func decoded(_ name: String) -> String? { first(name).map(EncodedWords.decode) }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 || $0 == $1 }
    }
}

/// Reads header sections from bytes.
enum HeaderSection {
    /// Reads the header section that starts at `start`: the fields and where the body starts.
    /// Lines may end in CRLF or a bare LF. A line that is neither a field nor a continuation ends the section
    /// (the body starts there) unless it is the very first line of the message, which then is not a mail.
    static func parse(_ raw: [UInt8], from start: Int, to end: Int, limits: MailLimits, isMessage: Bool) throws(MailParseError) -> (
        MailHeaders, bodyStart: Int
    ) {
        var fields: [MailHeader] = []
        var current: (name: String, value: [UInt8])?
        var index = start
        var firstLine = true
        func finish() {
            guard let field = current else { return }
            fields.append(MailHeader(name: field.name, value: headerText(field.value)))
            current = nil
        }
        while index < end {
            if index - start > limits.maxHeaderSectionBytes {
                throw MailParseError(
                    "the header section never ends: no blank line within the first \(MailLimits.describe(bytes: limits.maxHeaderSectionBytes))")
            }
            // Never scan further than the limit allows, however long the line.
            let scanLimit = min(end, start + limits.maxHeaderSectionBytes + 1)
            var lineEnd = index
            while lineEnd < scanLimit, raw[lineEnd] != 0x0A { lineEnd += 1 }
            if lineEnd == scanLimit, scanLimit < end {
                throw MailParseError(
                    "the header section never ends: no blank line within the first \(MailLimits.describe(bytes: limits.maxHeaderSectionBytes))")
            }
            let next = lineEnd < end ? lineEnd + 1 : end
            var contentEnd = lineEnd
            if contentEnd > index, raw[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            defer { firstLine = false }
            if contentEnd == index {
                finish()
                if fields.isEmpty, isMessage { throw MailParseError("this is not a mail: it has no header fields") }
                return (MailHeaders(fields), next)
            }
            let byte = raw[index]
            if byte == 0x20 || byte == 0x09 {
                // Folding: the continuation joins the field it continues (a stray one at the start is dropped).
                current?.value.append(contentsOf: raw[index..<contentEnd])
                index = next
                continue
            }
            // An mbox "From " envelope line before the first field.
            if firstLine, isMessage, contentEnd - index >= 5, raw[index..<index + 5].elementsEqual("From ".utf8) {
                index = next
                continue
            }
            guard let colon = fieldNameEnd(raw, from: index, to: contentEnd) else {
                if fields.isEmpty, current == nil, isMessage {
                    throw MailParseError("this is not a mail: its first line is not a header field")
                }
                finish()
                return (MailHeaders(fields), index)
            }
            finish()
            if fields.count >= limits.maxHeaderCount {
                throw MailParseError("more than \(limits.maxHeaderCount) header fields")
            }
            var nameEnd = colon
            while nameEnd > index, raw[nameEnd - 1] == 0x20 || raw[nameEnd - 1] == 0x09 { nameEnd -= 1 }
            current = (String(decoding: raw[index..<nameEnd], as: UTF8.self), Array(raw[(colon + 1)..<contentEnd]))
            index = next
        }
        finish()
        if fields.isEmpty, isMessage { throw MailParseError("this is not a mail: it has no header fields") }
        return (MailHeaders(fields), end)
    }

    /// The colon after a field name (printable ASCII, no spaces inside; spaces before the colon tolerated).
    static func fieldNameEnd(_ raw: [UInt8], from start: Int, to end: Int) -> Int? {
        var index = start
        while index < end {
            let byte = raw[index]
            if byte == UInt8(ascii: ":") { return index > start ? index : nil }
            if byte == 0x20 || byte == 0x09 {
                var probe = index
                while probe < end, raw[probe] == 0x20 || raw[probe] == 0x09 { probe += 1 }
                return probe < end && raw[probe] == UInt8(ascii: ":") && index > start ? probe : nil
            }
            if byte < 33 || byte > 126 { return nil }
            index += 1
        }
        return nil
    }

    /// A field value's bytes as text: UTF-8 when valid (RFC 6532), else Windows-1252; trimmed.
    static func headerText(_ bytes: [UInt8]) -> String {
        MailCharset.utf8OrFallback(bytes).trimmingASCIIWhitespace()
    }
}

/// A `Content-Type` or `Content-Disposition` value: the lowercased token and its parameters.
public struct HeaderParameters: Sendable, Equatable {
    /// `text/plain`, `attachment`, …: lowercased, without parameters.
    public var value: String
    /// Names lowercased; RFC 2231 continuations joined and charsets decoded; encoded words decoded.
    public var parameters: [String: String]

    public init(value: String, parameters: [String: String]) {
        self.value = value
        self.parameters = parameters
    }

    public subscript(_ name: String) -> String? { parameters[name] }

    /// Parses `token; name=value; name="quoted"; name*=charset'lang'%XX; name*0*=…; name*1=…`.
    public static func parse(_ header: String) -> HeaderParameters {
        let scalars = Array(header.unicodeScalars)
        var index = 0
        func skipSpace() {
            while index < scalars.count, scalars[index].isASCIIWhitespace { index += 1 }
        }
        skipSpace()
        let valueStart = index
        while index < scalars.count, scalars[index] != ";" { index += 1 }
        let value = String(String.UnicodeScalarView(scalars[valueStart..<index])).trimmingASCIIWhitespace().lowercased()
        var plain: [String: String] = [:]
        // RFC 2231: base name → index → (value, percent-encoded?)
        var sections: [String: [Int: (String, Bool)]] = [:]
        while index < scalars.count {
            // At ";" (or at junk after a value): move to the next name.
            index += 1
            skipSpace()
            let nameStart = index
            while index < scalars.count, scalars[index] != "=", scalars[index] != ";" { index += 1 }
            let name = String(String.UnicodeScalarView(scalars[nameStart..<index])).trimmingASCIIWhitespace().lowercased()
            guard index < scalars.count, scalars[index] == "=" else { continue }
            index += 1
            skipSpace()
            var parameterValue = ""
            if index < scalars.count, scalars[index] == "\"" {
                index += 1
                var text = String.UnicodeScalarView()
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    text.append(scalars[index])
                    index += 1
                }
                parameterValue = String(text)
                // Past the closing quote, to the next ";".
                while index < scalars.count, scalars[index] != ";" { index += 1 }
            } else {
                let start = index
                while index < scalars.count, scalars[index] != ";" { index += 1 }
                parameterValue = String(String.UnicodeScalarView(scalars[start..<index])).trimmingASCIIWhitespace()
            }
            guard !name.isEmpty else { continue }
            if let star = name.firstIndex(of: "*") {
                let base = String(name[..<star])
                let rest = name[name.index(after: star)...]
                if rest.isEmpty {
                    sections[base, default: [:]][0] = (parameterValue, true)
                } else {
                    let encoded = rest.hasSuffix("*")
                    let number = encoded ? rest.dropLast() : rest
                    if let section = Int(number), section >= 0, section < 1000, sections[base, default: [:]].count < 1000 {
                        sections[base, default: [:]][section] = (parameterValue, encoded)
                    }
                }
            } else if plain[name] == nil {
                plain[name] = parameterValue
            }
        }
        var parameters = plain.mapValues { EncodedWords.decode($0) }
        for (base, parts) in sections {
            var bytes: [UInt8] = []
            var charset: String?
            let first = parts.keys.min()
            for key in parts.keys.sorted() {
                guard let (text, encoded) = parts[key] else { continue }
                if encoded {
                    var encodedText = Substring(text)
                    if key == first {
                        // charset'language'text (either may be empty; a missing pair of quotes is tolerated).
                        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                        if pieces.count == 3 {
                            charset = pieces[0].isEmpty ? nil : String(pieces[0])
                            encodedText = pieces[2]
                        }
                    }
                    bytes += percentDecode(encodedText)
                } else {
                    bytes += Array(text.utf8)
                }
            }
            parameters[base] = MailCharset.decode(bytes, charset: charset)
        }
        return HeaderParameters(value: value, parameters: parameters)
    }

    static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let high = ContentTransferEncoding.hexValue(bytes[index + 1]),
                let low = ContentTransferEncoding.hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}

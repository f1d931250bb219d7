import Foundation

/// A mailbox: an optional display name and an address. The address is checked strictly (it is written into
/// headers and the SMTP envelope); the name is anyone's text and is always encoded, never refused.
public struct MailAddress: Codable, Sendable, Equatable, Hashable {
    public var name: String?
    public var email: String

    public init(_ email: String, name: String? = nil) {
        self.email = email
        self.name = name
    }

    /// Whether `email` is an ASCII `local@domain` with nothing a header or an SMTP command could be split on.
    public static func isValid(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty, local.utf8.count <= 64
        else { return false }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.")
        guard local.allSatisfy(atext.contains), !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return false }
        return DomainName.isValid(String(domain))
    }
}

/// An email ready to be built: what the outbox stores.
public struct OutgoingMail: Codable, Sendable, Equatable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: MailAddress?
    public var subject: String
    public var text: String
    /// With HTML the message is multipart/alternative; without, plain text only.
    public var html: String?
    /// `<id@domain>`, fixed when the outbox row is written so a retried delivery can be recognised as a duplicate.
    public var messageId: String
    public var date: Date

    public init(
        from: MailAddress, to: [MailAddress], replyTo: MailAddress? = nil, subject: String, text: String, html: String? = nil, messageId: String,
        date: Date
    ) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.messageId = messageId
        self.date = date
    }

    /// The envelope recipients (`RCPT TO`): the `To` addresses, nothing else (there is never a Bcc).
    public var recipients: [String] { to.map(\.email) }
}

/// Builds RFC 5322 messages (RFC 2045-2047 MIME, UTF-8) so that no text from a user can add a header: names and
/// subjects lose their line breaks and are written as encoded words when not plain ASCII; addresses are refused
/// unless strictly valid. Bodies are quoted-printable, so no line exceeds 76 characters (the limit is 998).
/// Dot-stuffing (a line starting with "." sent as "..") is the SMTP client's job at `DATA` time, not done here.
public enum MailMessage {
    /// A Message-ID for an outbox row: stable per row, unique per sender domain.
    public static func messageId(_ id: UUID, domain: String) -> String {
        "<\(id.uuidString.lowercased())@\(domain)>"
    }

    /// The whole message, CRLF line endings.
    public static func build(_ mail: OutgoingMail) throws(TandemError) -> String {
        var validator = FieldValidator()
        if !MailAddress.isValid(mail.from.email) { validator.fail("from", "'\(mail.from.email)' is not an address mail can be sent from") }
        if mail.to.isEmpty { validator.fail("to", "a message needs at least one recipient") }
        for (index, address) in mail.to.enumerated() where !MailAddress.isValid(address.email) {
            validator.fail("to[\(index)]", "'\(address.email)' is not an address mail can be sent to")
        }
        if let replyTo = mail.replyTo, !MailAddress.isValid(replyTo.email) { validator.fail("replyTo", "'\(replyTo.email)' is not an address") }
        if !isValidMessageId(mail.messageId) { validator.fail("messageId", "must look like <id@domain>") }
        try validator.check()

        var headers: [String] = [
            "From: " + mailbox(mail.from),
            "To: " + mail.to.map(mailbox).joined(separator: ",\r\n "),
        ]
        if let replyTo = mail.replyTo { headers.append("Reply-To: " + mailbox(replyTo)) }
        headers += [
            "Subject: " + encodedText(mail.subject, used: 9),
            "Date: " + rfc5322Date(mail.date),
            "Message-ID: " + mail.messageId,
            "MIME-Version: 1.0",
            // RFC 3834: automatic replies (out of office) should not answer it.
            "Auto-Submitted: auto-generated",
        ]
        let textPart = ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: quoted-printable", "", QuotedPrintable.encode(mail.text)]
        guard let html = mail.html else {
            return (headers + textPart).joined(separator: "\r\n") + "\r\n"
        }
        // "=_" never occurs in quoted-printable output, so the boundary cannot appear in a body.
        let boundary = "=_tandem_" + mail.messageId.utf8.reduce(into: UInt64(14_695_981_039_346_656_037)) { $0 = ($0 ^ UInt64($1)) &* 1_099_511_628_211 }.hex
        let htmlPart = ["Content-Type: text/html; charset=UTF-8", "Content-Transfer-Encoding: quoted-printable", "", QuotedPrintable.encode(html)]
        let lines =
            headers + ["Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "", "--" + boundary] + textPart + ["--" + boundary] + htmlPart + [
                "--" + boundary + "--"
            ]
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func isValidMessageId(_ id: String) -> Bool {
        guard id.hasPrefix("<"), id.hasSuffix(">"), id.utf8.count <= 250 else { return false }
        let inner = id.dropFirst().dropLast()
        return inner.contains("@")
            && inner.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != "<" && $0 != ">" && !($0.asciiValue.map { $0 < 0x21 || $0 == 0x7F } ?? true) }
    }

    /// `"Name" <address>`, or `=?UTF-8?B?…?= <address>` for names that are not printable ASCII.
    static func mailbox(_ address: MailAddress) -> String {
        let name = oneLine(address.name ?? "")
        guard !name.isEmpty else { return "<\(address.email)>" }
        if isPlainASCII(name), name.utf8.count < 70 {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(address.email)>"
        }
        return encodedWords(name).joined(separator: "\r\n ") + "\r\n <\(address.email)>"
    }

    /// A header's text (the subject): as is when it is short printable ASCII, else RFC 2047 encoded words,
    /// folded. Line breaks become spaces first: a subject is one line.
    static func encodedText(_ text: String, used: Int) -> String {
        let line = oneLine(text)
        if isPlainASCII(line), line.utf8.count + used <= 78, !line.contains("=?") { return line }
        return encodedWords(line).joined(separator: "\r\n ")
    }

    /// Base64 encoded words of at most 39 bytes of UTF-8 each (64 characters with their wrapping, so a header
    /// name and the word fit in 78), never splitting a character.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words
    }

    /// Every line break and other control character becomes a space.
    static func oneLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? " " : $0 }))
    }

    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// `Fri, 04 Dec 2026 23:02:55 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { let v = value ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return
            "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}

/// RFC 2045 quoted-printable over UTF-8, lines at most 76 characters, CRLF line endings.
public enum QuotedPrintable {
    public static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalized.split(separator: "\n", omittingEmptySubsequences: false).map { encodeLine(Array($0.utf8)) }.joined(separator: "\r\n")
    }

    private static func encodeLine(_ bytes: [UInt8]) -> String {
        var out = ""
        var length = 0
        for (index, byte) in bytes.enumerated() {
            let last = index == bytes.count - 1
            let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !last)
            let token = literal ? String(UnicodeScalar(byte)) : "=" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            // Keep room for the soft break's "=" unless this is the line's last token.
            if length + token.count > (last ? 76 : 75) {
                out += "=\r\n"
                length = 0
            }
            out += token
            length += token.count
        }
        return out
    }

    /// Decodes quoted-printable (for tests and for reading back what was sent).
    public static func decode(_ encoded: String) -> String {
        let joined = encoded.replacingOccurrences(of: "=\r\n", with: "")
        var bytes: [UInt8] = []
        var utf8 = Array(joined.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == 61, utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The carrier's email-to-SMS gateway (ConnectWise client profiles): `<mobile digits>@<gateway domain>`.
public enum SMSAddress {
    /// `mobile` may hold spaces, dashes, dots, parentheses and a leading `+`; 7 to 15 digits remain.
    /// `gateway` is a domain, with or without a leading `@` (as profiles store it).
    public static func make(mobile: String, gateway: String) throws(TandemError) -> String {
        var validator = FieldValidator()
        let trimmedMobile = Whitespace.trim(mobile)
        let allowed = Set(" -.()")
        let body = trimmedMobile.hasPrefix("+") ? String(trimmedMobile.dropFirst()) : trimmedMobile
        let digits = body.filter(\.isASCII).filter(\.isNumber)
        if !body.allSatisfy({ ($0.isASCII && $0.isNumber) || allowed.contains($0) }) {
            validator.fail("mobile", "'\(mobile)' may hold only digits, spaces, dashes, dots, parentheses and a leading +")
        } else if !(7...15).contains(digits.count) {
            validator.fail("mobile", "'\(mobile)' must have 7 to 15 digits (it has \(digits.count))")
        }
        let trimmedGateway = Whitespace.trim(gateway)
        let domain = (trimmedGateway.hasPrefix("@") ? String(trimmedGateway.dropFirst()) : trimmedGateway).lowercased()
        if !DomainName.isValid(domain) { validator.fail("gateway", "'\(gateway)' is not an SMS email gateway domain (such as txt.att.com)") }
        try validator.check()
        return "\(digits)@\(domain)"
    }
}

enum DomainName {
    /// Letters, digits and hyphens in dot-separated labels, at least two of them.
    static func isValid(_ domain: String) -> Bool {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return domain.utf8.count <= 253 && labels.count >= 2
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }
}

extension UInt64 {
    var hex: String { String(self, radix: 16).leftPadded(16) }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

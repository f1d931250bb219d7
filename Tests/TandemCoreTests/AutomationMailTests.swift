import Foundation
import TandemCore
import Testing

/// The outgoing message builder: structure, encodings, and no header from user text.
@Suite struct AutomationMailTests {
    let date = Date(timeIntervalSince1970: 1_796_425_375)  // Fri, 04 Dec 2026 23:02:55 +0000

    func mail(subject: String = "Ticket #1042", toName: String? = "Alice Example", text: String = "Hello", html: String? = "<p>Hello</p>") -> OutgoingMail {
        OutgoingMail(
            from: MailAddress("help@msp.example", name: "Acme Help Desk"), to: [MailAddress("alice@northwind.example", name: toName)], subject: subject,
            text: text, html: html, messageId: MailMessage.messageId(UUID(uuidString: "0193A000-0000-7000-8000-0000000000AA")!, domain: "msp.example"),
            date: date)
    }

    /// The header lines, unfolded: continuation lines joined to the header they continue.
    func headers(_ message: String) -> [String] {
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        var lines: [String] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !lines.isEmpty { lines[lines.count - 1] += line } else { lines.append(line) }
        }
        return lines
    }

    func header(_ name: String, _ message: String) -> String? {
        headers(message).first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map {
            String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Decodes RFC 2047 B encoded words (what a mail reader shows).
    func decodeWords(_ text: String) -> String {
        text.components(separatedBy: " ").map { word -> String in
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return word }
            let base64 = String(word.dropFirst(10).dropLast(2))
            return String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
        }.joined()
    }

    @Test func aMultipartAlternativeMessage() throws {
        let message = try MailMessage.build(mail())
        #expect(header("From", message) == "\"Acme Help Desk\" <help@msp.example>")
        #expect(header("To", message) == "\"Alice Example\" <alice@northwind.example>")
        #expect(header("Subject", message) == "Ticket #1042")
        #expect(header("Date", message) == "Fri, 04 Dec 2026 23:02:55 +0000")
        #expect(header("Message-ID", message) == "<0193a000-0000-7000-8000-0000000000aa@msp.example>")
        #expect(header("MIME-Version", message) == "1.0")
        let contentType = try #require(header("Content-Type", message))
        #expect(contentType.hasPrefix("multipart/alternative; boundary=\"=_tandem_"))
        let boundary = String(contentType.split(separator: "\"")[1])
        let parts = message.components(separatedBy: "--" + boundary)
        #expect(parts.count == 4, "preamble, text, html, closing")
        #expect(parts[1].contains("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello"))
        #expect(parts[2].contains("Content-Type: text/html; charset=UTF-8"))
        #expect(parts[3] == "--\r\n")
        #expect(!message.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF line endings only")
    }

    @Test func plainTextOnlyWithoutHTML() throws {
        let message = try MailMessage.build(mail(html: nil))
        #expect(header("Content-Type", message) == "text/plain; charset=UTF-8")
        #expect(!message.contains("multipart"))
    }

    @Test func aSubjectOrNameWithCRLFNeverAddsAHeader() throws {
        let injected = "Hi\r\nBcc: x@evil.example"
        let message = try MailMessage.build(mail(subject: injected, toName: "Alice\r\nBcc: y@evil.example\r\n"))
        let names = headers(message).map { $0.split(separator: ":")[0].lowercased() }
        #expect(!names.contains("bcc"))
        #expect(!message.lowercased().contains("\r\nbcc:"))
        #expect(header("Subject", message) == "Hi  Bcc: x@evil.example", "the break became spaces inside the subject")
        #expect(Set(names) == ["from", "to", "subject", "date", "message-id", "mime-version", "auto-submitted", "content-type"])
        let lfOnly = try MailMessage.build(mail(subject: "Hi\nBcc: x@evil.example", toName: "A\rB"))
        #expect(!lfOnly.lowercased().contains("\nbcc:"))
    }

    @Test func addressesWithBreaksOrSpecialsAreRefused() {
        for bad in ["alice@northwind.example\r\nBcc: x@evil.example", "alice@northwind.example>", "a b@c.example", "alice", "alice@localhost", "ä@b.example"] {
            var m = mail()
            m.to = [MailAddress(bad)]
            #expect(throws: TandemError.validation([FieldError("to[0]", "'\(bad)' is not an address mail can be sent to")])) { try MailMessage.build(m) }
        }
        var noOne = mail()
        noOne.to = []
        #expect(throws: TandemError.validation([FieldError("to", "a message needs at least one recipient")])) { try MailMessage.build(noOne) }
        var badId = mail()
        badId.messageId = "<x@y>\r\nBcc: z@evil.example"
        #expect(throws: TandemError.validation([FieldError("messageId", "must look like <id@domain>")])) { try MailMessage.build(badId) }
    }

    @Test func unicodeSubjectsAndNamesAreEncodedWords() throws {
        let subject = "Réponse à votre demande « VPN » — ticket n° 1042 — encore une fois, c'est très long et ça continue 🎉"
        let message = try MailMessage.build(mail(subject: subject, toName: "Zoë Ünal"))
        let raw = try #require(header("Subject", message))
        #expect(raw.hasPrefix("=?UTF-8?B?"))
        #expect(decodeWords(raw) == subject)
        #expect(header("To", message).map { decodeWords($0.replacingOccurrences(of: " <alice@northwind.example>", with: "")) } == "Zoë Ünal")
        for line in message.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
        #expect(message.utf8.allSatisfy { $0 < 0x80 }, "the message itself is 7-bit")
    }

    @Test func aQuoteInANameIsEscaped() throws {
        let message = try MailMessage.build(mail(toName: "Alice \"Admin\" \\ Example"))
        #expect(header("To", message) == "\"Alice \\\"Admin\\\" \\\\ Example\" <alice@northwind.example>")
    }

    @Test func bodiesAreQuotedPrintableWithShortLines() throws {
        let long = String(repeating: "é and = and more words ", count: 200) + "\nsecond line ends in space \n.\nlast"
        let message = try MailMessage.build(mail(text: long, html: nil))
        let body = message.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        for line in body.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" "), "trailing space is encoded")
        }
        // "\r\n" is one Character: dropping the last one drops the final line break.
        #expect(QuotedPrintable.decode(String(body.dropLast())) == long.replacingOccurrences(of: "\n", with: "\r\n"))
        // A lone "." line stays: dot-stuffing is the SMTP client's job.
        #expect(body.contains("\r\n.\r\n"))
    }

    @Test func aMessageIdIsStablePerOutboxRow() {
        let id = UUID()
        #expect(MailMessage.messageId(id, domain: "msp.example") == MailMessage.messageId(id, domain: "msp.example"))
        #expect(MailMessage.messageId(id, domain: "msp.example").hasSuffix("@msp.example>"))
    }

    @Test func theEnvelopeIsTheToAddressesOnly() {
        var m = mail()
        m.to.append(MailAddress("bob@northwind.example"))
        #expect(m.recipients == ["alice@northwind.example", "bob@northwind.example"])
    }

    // MARK: SMS

    @Test func smsAddressFromMobileAndGateway() throws {
        #expect(try SMSAddress.make(mobile: "+1 (555) 010-4477", gateway: "@txt.att.com") == "15550104477@txt.att.com")
        #expect(try SMSAddress.make(mobile: "555.010.4477", gateway: "VTEXT.com") == "5550104477@vtext.com")
        #expect(throws: TandemError.validation([FieldError("mobile", "'12345' must have 7 to 15 digits (it has 5)")])) {
            try SMSAddress.make(mobile: "12345", gateway: "txt.att.com")
        }
        #expect(
            throws: TandemError.validation([
                FieldError("mobile", "'555-0104\r\nBcc: x' may hold only digits, spaces, dashes, dots, parentheses and a leading +"),
                FieldError("gateway", "'txt.att.com>' is not an SMS email gateway domain (such as txt.att.com)"),
            ])
        ) { try SMSAddress.make(mobile: "555-0104\r\nBcc: x", gateway: "txt.att.com>") }
        #expect(throws: TandemError.validation([FieldError("gateway", "'localhost' is not an SMS email gateway domain (such as txt.att.com)")])) {
            try SMSAddress.make(mobile: "5550104477", gateway: "localhost")
        }
    }
}

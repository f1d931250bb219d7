import Foundation
import TandemCore
import Testing

/// What kind of mail arrived, and the mail we send read back by the parser.
@Suite struct MIMEClassificationTests {
    static let ours = MailMessage.messageId(UUID(uuidString: "0193A000-0000-7000-8000-0000000000AA")!, domain: "tandem.example")

    func kind(_ headers: String, body: String = "Hello", contentType: String = "text/plain; charset=utf-8") throws -> MailClassification {
        let raw =
            "From: Dana <dana@contoso.example>\r\nTo: help@tandem.example\r\nMessage-ID: <m1@contoso.example>\r\n" + headers
            + "Content-Type: \(contentType)\r\n\r\n\(body)\r\n"
        return MailClassification.classify(try MailParser.parse(Array(raw.utf8)), ownDomain: "tandem.example")
    }

    @Test func aPersonsMailIsRegular() throws {
        #expect(try kind("Subject: Printer broken\r\n").kind == .regular)
        #expect(
            try kind("Subject: Re: [#T-000042] x\r\nIn-Reply-To: \(Self.ours)\r\nReferences: \(Self.ours)\r\n").kind == .regular,
            "a reply to our notification references our ids and must still thread")
        #expect(try kind("Subject: Out of office hours support?\r\n").kind == .regular, "not greedy about subjects")
        #expect(try kind("Subject: Automatic replies stopped working\r\n").kind == .regular)
        #expect(try kind("Subject: x\r\nX-Auto-Response-Suppress: All\r\n").kind == .regular, "asks others not to auto-reply; is not one")
        #expect(try kind("Subject: x\r\nAuto-Submitted: no\r\n").kind == .regular)
        #expect(try kind("Subject: x\r\nPrecedence: list\r\n").kind == .regular)
    }

    @Test func autoReplies() throws {
        let byHeader = try kind("Subject: Re: hi\r\nAuto-Submitted: auto-replied; owner-email=\"dana@contoso.example\"\r\n")
        #expect(byHeader == MailClassification(kind: .autoReply, reason: "Auto-Submitted: auto-replied"))
        #expect(try kind("Subject: Re: hi\r\nX-Autoreply: yes\r\n").kind == .autoReply)
        #expect(try kind("Subject: Re: hi\r\nX-Autorespond: Vacation\r\n").kind == .autoReply)
        for precedence in ["bulk", "junk", "auto_reply", "Bulk"] { #expect(try kind("Subject: hi\r\nPrecedence: \(precedence)\r\n").kind == .autoReply) }
        for subject in ["Automatic reply: Printer", "Out of Office: back Monday", "AUTO: Dana is away", "Autoreply: x", "Out of Office AutoReply: x"] {
            #expect(try kind("Subject: \(subject)\r\n").kind == .autoReply, "\(subject)")
        }
    }

    @Test func bouncesAndReadReceipts() throws {
        let report = "--r\r\nContent-Type: text/plain\r\n\r\nnot delivered\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--r--"
        #expect(try kind("Subject: Undeliverable\r\n", body: report, contentType: "multipart/report; report-type=delivery-status; boundary=r").kind == .bounce)
        #expect(try kind("Subject: x\r\n", body: report, contentType: "multipart/mixed; boundary=r").kind == .bounce, "the part alone is enough")
        let mdn =
            "--r\r\nContent-Type: text/plain\r\n\r\nread\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--r--"
        #expect(
            try kind("Subject: Read: x\r\n", body: mdn, contentType: "multipart/report; report-type=disposition-notification; boundary=r").kind == .readReceipt)
        let old = try MailParser.parse(
            Array("From: MAILER-DAEMON@mx.contoso.example\r\nSubject: Mail delivery failed: returning message to sender\r\n\r\nx".utf8))
        #expect(MailClassification.classify(old, ownDomain: nil).kind == .bounce)
        let person = try MailParser.parse(Array("From: postmaster@contoso.example\r\nSubject: Our new mail server\r\n\r\nx".utf8))
        #expect(MailClassification.classify(person, ownDomain: nil).kind == .regular, "postmaster writing as a person")
    }

    @Test func ownNotificationsNeedOurIdAndAutoSubmitted() throws {
        let message = try MailMessage.build(
            OutgoingMail(
                from: MailAddress("help@tandem.example", name: "Tandem Help Desk"), to: [MailAddress("it@contoso.example")], subject: "[#T-000042] x",
                text: "Updated",
                messageId: Self.ours, date: Date(timeIntervalSince1970: 1_796_425_375)))
        let looped = try MailParser.parse(Array(message.utf8))
        #expect(MailClassification.classify(looped, ownDomain: "tandem.example").kind == .ownNotification)
        #expect(MailClassification.classify(looped, ownDomain: "TANDEM.example").kind == .ownNotification)
        #expect(MailClassification.classify(looped, ownDomain: nil).kind == .autoReply, "without knowing our domain: still never answered")
        #expect(MailClassification.classify(looped, ownDomain: "other.example").kind == .autoReply)
        // Our domain in the Message-ID but sent by a person (no Auto-Submitted): regular.
        let raw = "From: a@tandem.example\r\nMessage-ID: <x@tandem.example>\r\nSubject: hi\r\n\r\nhi"
        #expect(MailClassification.classify(try MailParser.parse(Array(raw.utf8)), ownDomain: "tandem.example").kind == .regular)
    }

    @Test func whatWeSendReadsBack() throws {
        let mail = OutgoingMail(
            from: MailAddress("help@tandem.example", name: "Tandem – Help Desk"),
            to: [MailAddress("dana@contoso.example", name: "Dana Ünal"), MailAddress("x@fabrikam.example")],
            replyTo: MailAddress("reply@tandem.example"),
            subject: "\(TicketReference.string(number: 42)) Imprimante du 3ᵉ étage – « bourrage » encore et encore, et encore une fois 🖨️",
            text: "Bonjour,\n\nLigne très longue " + String(repeating: "é", count: 120) + "\nFin",
            html: "<p>Bonjour</p>", messageId: Self.ours, date: Date(timeIntervalSince1970: 1_796_425_375))
        let parsed = try MailParser.parse(Array(try MailMessage.build(mail).utf8))
        #expect(parsed.from == mail.from)
        #expect(parsed.to == mail.to)
        #expect(parsed.replyTo == [MailAddress("reply@tandem.example")])
        #expect(parsed.subject == mail.subject)
        #expect(parsed.subject.flatMap(TicketReference.find) == 42)
        #expect(parsed.messageId == Self.ours)
        #expect(parsed.date == mail.date)
        #expect(parsed.text == mail.text)
        #expect(parsed.html == "<p>Bonjour</p>")
        #expect(parsed.attachments.isEmpty)
    }
}

import Foundation
import TandemCore
import Testing

/// A typical 50 KB message (Outlook-style alternative with a long HTML version and a small inline image)
/// parsed repeatedly. Release builds take well under a millisecond; the bound here is for debug builds.
@Suite struct MIMEPerformanceTests {
    static func typicalMessage() -> [UInt8] {
        let paragraph =
            "The shared drive mapping (S:) disappears after every reboot on the accounting laptops; re-mapping it by hand works until the next restart. "
        let text = (0..<115).map { "\($0 + 1). " + paragraph }.joined(separator: "\n")
        let html =
            "<html><head><style>p{margin:0}</style></head><body>"
            + (0..<115).map { "<p class=\"MsoNormal\"><span style=\"font-size:11pt\">\($0 + 1). \(paragraph)</span></p>" }.joined() + "</body></html>"
        let image = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) }).base64EncodedString(options: .lineLength76Characters)
        let message = """
            From: Dana Whitfield <dana.whitfield@contoso.example>\r
            To: Help Desk <help@tandem.example>\r
            Subject: =?utf-8?Q?Shared_drive_mapping_disappears_=E2=80=93_accounting?=\r
            Date: Thu, 3 Dec 2026 08:12:40 +0000\r
            Message-ID: <perf-0001@contoso.example>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/related; boundary="rel"; type="multipart/alternative"\r
            \r
            --rel\r
            Content-Type: multipart/alternative; boundary="alt"\r
            \r
            --alt\r
            Content-Type: text/plain; charset="utf-8"\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            \(QuotedPrintable.encode(text))\r
            --alt\r
            Content-Type: text/html; charset="utf-8"\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            \(QuotedPrintable.encode(html))\r
            --alt--\r
            --rel\r
            Content-Type: image/png; name="image001.png"\r
            Content-ID: <image001.png@01DB4611>\r
            Content-Transfer-Encoding: base64\r
            \r
            \(image)\r
            --rel--\r

            """
        return Array(message.utf8)
    }

    @Test func aTypicalMessageParsesQuickly() throws {
        let raw = Self.typicalMessage()
        #expect((45_000...60_000).contains(raw.count), "\(raw.count) bytes")
        let first = try MailParser.parse(raw)
        #expect(first.text.hasPrefix("1. The shared drive mapping"))
        #expect(first.attachments.count == 1)
        let clock = ContinuousClock()
        let runs = 100
        var parses: [Duration] = []
        var replies: [Duration] = []
        for _ in 0..<runs {
            let start = clock.now
            let mail = try MailParser.parse(raw)
            let parsed = clock.now
            _ = mail.replyText
            parses.append(parsed - start)
            replies.append(clock.now - parsed)
        }
        // The median: what a parse costs when the machine is not busy with something else.
        let parse = parses.sorted()[runs / 2]
        let reply = replies.sorted()[runs / 2]
        print("MIME parse of a \(raw.count)-byte message: \(parse) (median of \(runs)); replyText \(reply)")
        #expect(parse < .milliseconds(50))
    }
}

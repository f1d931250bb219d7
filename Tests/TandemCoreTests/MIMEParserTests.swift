import Foundation
import TandemCore
import Testing

/// The parts of the MIME parser one at a time: headers, encoded words, parameters, charsets, transfer
/// encodings, multipart structure, HTML reduction, reply cutting, ticket references.
@Suite struct MIMEParserTests {
    func parse(_ text: String, crlf: Bool = true) throws -> ParsedMail {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        return try MailParser.parse(Array((crlf ? normalized.replacingOccurrences(of: "\n", with: "\r\n") : normalized).utf8))
    }

    // MARK: Headers

    @Test func foldedHeadersWithCRLFAndBareLF() throws {
        for crlf in [true, false] {
            let mail = try parse("Subject: one\n two\n\tthree\nX-A: 1\nx-a: 2\nFrom: a@b.example\n\nbody\n", crlf: crlf)
            #expect(mail.subject == "one two three")
            #expect(mail.headers.all("X-A") == ["1", "2"], "duplicates kept in order, names case-insensitive")
            #expect(mail.headers.first("SUBJECT") == "one two\tthree")
            #expect(mail.text == "body")
        }
    }

    @Test func controlCharactersNeverReachStoredText() throws {
        let mail = try parse(
            "From: =?UTF-8?Q?Eve=00=0D=0AX-Evil=3A_1?= <eve@x.example>\nSubject: =?UTF-8?Q?a=0D=0Ab=00c?=\n\nbody\u{0}with\u{7}controls\tand tab\n")
        #expect(mail.subject == "a b c")
        #expect(mail.from?.name == "Eve X-Evil: 1")
        #expect(mail.text == "bodywithcontrols\tand tab")
    }

    @Test func anMboxFromLineIsSkippedAndHeaderOnlyMailHasNoBody() throws {
        let mail = try parse("From alice@contoso.example Thu Dec  3 10:00:00 2026\nFrom: alice@contoso.example\nSubject: hi", crlf: false)
        #expect(mail.from?.email == "alice@contoso.example")
        #expect(mail.text == "")
    }

    @Test func addresses() throws {
        let list = AddressList.parse(
            #""Doe, Jane" <Jane.Doe@Contoso.EXAMPLE>, bob@fabrikam.example (Bob Smith), Team: c@acme.example, <d@acme.example>;, =?UTF-8?Q?Ren=C3=A9e?= <r@acme.example>, "=?utf-8?B?SsO8cmdlbg==?=" <j@acme.example>, <@relay.example:route@acme.example>"#
        )
        #expect(
            list.map(\.email) == [
                "Jane.Doe@contoso.example", "bob@fabrikam.example", "c@acme.example", "d@acme.example", "r@acme.example", "j@acme.example",
                "route@acme.example",
            ])
        #expect(list.map(\.name) == ["Doe, Jane", "Bob Smith", nil, nil, "Renée", "Jürgen", nil])
        #expect(list[0].domain == "contoso.example")
        #expect(AddressList.parse("undisclosed-recipients:;").isEmpty)
    }

    @Test func messageIdsKeepTheirAngleBrackets() throws {
        #expect(MessageIds.parse("<a@b.example> (comment)\r\n <c@d.example>") == ["<a@b.example>", "<c@d.example>"])
        #expect(MessageIds.parse("broken@id.example") == ["<broken@id.example>"])
        #expect(MessageIds.parse("") == [])
        let id = MailMessage.messageId(UUID(uuidString: "0193A000-0000-7000-8000-0000000000AA")!, domain: "tandem.example")
        let mail = try parse("From: a@b.example\nMessage-ID: \(id)\nIn-Reply-To: \(id)\nReferences: <x@y> \(id)\n\nhi\n")
        #expect(mail.messageId == id)
        #expect(mail.inReplyTo == [id])
        #expect(mail.references == ["<x@y>", id])
        #expect(mail.referencedIds == [id, "<x@y>"])
    }

    @Test func dates() {
        #expect(MailDate.parse("Fri, 04 Dec 2026 23:02:55 +0000") == Date(timeIntervalSince1970: 1_796_425_375))
        #expect(MailDate.parse("Sat, 5 Dec 2026 00:02:55 +0100") == Date(timeIntervalSince1970: 1_796_425_375))
        #expect(MailDate.parse("4 Dec 2026 18:02:55 EST") == Date(timeIntervalSince1970: 1_796_425_375))
        #expect(MailDate.parse("Fri, 4 Dec 26 23:02 +0000 (UTC)") == Date(timeIntervalSince1970: 1_796_425_320))
        #expect(MailDate.parse("yesterday") == nil)
        #expect(MailDate.parse("Fri, 32 Dec 2026 10:00:00 +0000") == nil)
        #expect(MailDate.parse("Fri, 4 Foo 2026 10:00:00 +0000") == nil)
    }

    // MARK: Encoded words and parameters

    @Test func encodedWords() {
        #expect(EncodedWords.decode("=?UTF-8?Q?Caf=C3=A9_au_lait?=") == "Café au lait", "Q: underscores are spaces")
        #expect(EncodedWords.decode("=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=") == "éé", "whitespace between adjacent words dropped")
        #expect(EncodedWords.decode("Re: =?UTF-8?B?w6k=?= and =?UTF-8?B?w6k=?= !") == "Re: é and é !", "whitespace next to text kept")
        #expect(EncodedWords.decode("=?UTF-8?Q?=E2=82?= =?UTF-8?Q?=AC?=") == "€", "a character split across two words")
        #expect(EncodedWords.decode("=?UTF-8?B?4oI=?=\r\n =?UTF-8?B?rA==?=") == "€")
        #expect(EncodedWords.decode("=?ISO-8859-1?Q?Andr=E9?= =?windows-1252?Q?=80?=") == "André€", "different charsets joined as text")
        #expect(EncodedWords.decode("=?UTF-8*en?Q?hello?=") == "hello", "RFC 2231 language suffix")
        #expect(EncodedWords.decode("=?UTF-8?X?abc?= =?broken") == "=?UTF-8?X?abc?= =?broken", "malformed words stay as they are")
        #expect(EncodedWords.decode("plain text") == "plain text")
    }

    @Test func rfc2231Parameters() {
        let simple = HeaderParameters.parse("attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf; size=123")
        #expect(simple.value == "attachment")
        #expect(simple["filename"] == "Rechnung März.pdf")
        #expect(simple["size"] == "123")
        let continued = HeaderParameters.parse("attachment;\r\n filename*0*=iso-8859-1'de'B%FCro%20;\r\n filename*1=\"plan 2026\";\r\n filename*2*=%2Epdf")
        #expect(continued["filename"] == "Büro plan 2026.pdf")
        let quoted = HeaderParameters.parse(#"Multipart/Mixed; BOUNDARY="a \"b\";c"; charset=us-ascii"#)
        #expect(quoted.value == "multipart/mixed")
        #expect(quoted["boundary"] == #"a "b";c"#)
        let preferred = HeaderParameters.parse("attachment; filename=\"fallback.pdf\"; filename*=UTF-8''real.pdf")
        #expect(preferred["filename"] == "real.pdf", "the RFC 2231 value wins")
        #expect(HeaderParameters.parse("inline; filename=\"=?UTF-8?B?w6kucG5n?=\"")["filename"] == "é.png", "encoded words in a quoted name")
    }

    // MARK: Charsets and transfer encodings

    @Test func charsets() {
        #expect(MailCharset.decode([0x43, 0x61, 0x66, 0xC3, 0xA9], charset: "UTF-8") == "Café")
        #expect(MailCharset.decode([0x43, 0x61, 0x66, 0xE9], charset: "ISO-8859-1") == "Café")
        #expect(MailCharset.decode([0x43, 0x61, 0x66, 0xE9], charset: "\"latin1\"") == "Café")
        #expect(
            MailCharset.decode(Array(0x80...0x9F).filter { ![0x81, 0x8D, 0x8F, 0x90, 0x9D].contains($0) }, charset: "windows-1252")
                == "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ")
        #expect(MailCharset.decode([0xA4, 0xA6, 0xA8, 0xB4, 0xB8, 0xBC, 0xBD, 0xBE, 0xE9], charset: "ISO-8859-15") == "€ŠšŽžŒœŸé")
        #expect(MailCharset.decode([0x68, 0x69, 0xE9], charset: "us-ascii") == "hié", "8-bit under an ASCII label: Windows-1252")
        #expect(MailCharset.decode([0xC3, 0xA9], charset: "x-unknown") == "é", "unknown label, valid UTF-8")
        #expect(MailCharset.decode([0x72, 0xE9, 0x73], charset: "x-unknown") == "rés", "unknown label, not UTF-8: Windows-1252")
        #expect(MailCharset.decode([0xC3, 0xA9, 0xFF], charset: "utf-8") == "é\u{FFFD}", "mostly UTF-8 keeps UTF-8")
        #expect(MailCharset.decode([0xFF, 0xFE, 0x41, 0x00, 0xE9, 0x00], charset: "UTF-16") == "Aé")
        #expect(MailCharset.decode([], charset: nil) == "")
    }

    @Test func quotedPrintable() {
        let decoded = ContentTransferEncoding.quotedPrintable(
            ArraySlice("a long line that is wr=\r\napped softly=\nand =C3=A9=c3=a9 = x =ZZ  \r\nend=  \r\n".utf8))
        #expect(String(decoding: decoded, as: UTF8.self) == "a long line that is wrapped softlyand éé = x =ZZ\r\nend")
        // What our own builder writes reads back.
        let text = "Grüße – a line long enough to be wrapped by the quoted-printable encoder at seventy-six characters."
        #expect(String(decoding: ContentTransferEncoding.quotedPrintable(ArraySlice(QuotedPrintable.encode(text).utf8)), as: UTF8.self) == text)
    }

    @Test func base64() {
        #expect(ContentTransferEncoding.base64(ArraySlice("SGVs\r\nbG8g\n V29y bGQ=\r\n".utf8)) == Array("Hello World".utf8))
        #expect(ContentTransferEncoding.base64(ArraySlice("SGVsbG8".utf8)) == Array("Hello".utf8), "missing padding")
        #expect(ContentTransferEncoding.base64(ArraySlice("SG!!Vs**bG8=".utf8)) == Array("Hello".utf8), "characters outside the alphabet ignored")
        #expect(ContentTransferEncoding.base64(ArraySlice("".utf8)) == [])
        #expect(ContentTransferEncoding.base64(ArraySlice("Q".utf8)) == [], "a lone sextet carries no byte")
    }

    // MARK: Structure

    @Test func nestedMultipartWithAttachmentsAndRelatedImages() throws {
        let mail = try parse(
            """
            From: a@contoso.example
            Content-Type: multipart/mixed; boundary=outer

            preamble to ignore
            --outer
            Content-Type: multipart/alternative; boundary="alt"

            --alt
            Content-Type: text/plain; charset=utf-8

            Plain body
            --alt
            Content-Type: multipart/related; boundary=rel

            --rel
            Content-Type: text/html; charset=utf-8

            <p>HTML body <img src="cid:logo@x"></p>
            --rel
            Content-Type: image/png
            Content-ID: <logo@x>
            Content-Transfer-Encoding: base64

            iVBORw0KGgo=
            --rel--
            --alt--
            --outer
            Content-Type: text/plain; charset=utf-8
            Content-Disposition: attachment

            attached notes
            --outer
            Content-Type: application/pdf
            Content-Transfer-Encoding: base64

            JVBERi0=
            --outer--
            epilogue to ignore
            """)
        #expect(mail.text == "Plain body")
        #expect(mail.html == "<p>HTML body <img src=\"cid:logo@x\"></p>")
        #expect(mail.attachments.map(\.filename) == ["attachment-1.png", "attachment-2.txt", "attachment-3.pdf"])
        #expect(mail.attachments[0].contentId == "logo@x")
        #expect(mail.attachments[0].isInline)
        #expect(mail.attachments[0].bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(mail.attachments[1].bytes == Array("attached notes".utf8))
        #expect(mail.attachments[2].bytes == Array("%PDF-".utf8))
        #expect(!mail.text.contains("preamble") && !mail.text.contains("epilogue"))
        #expect(
            mail.partTypes == [
                "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png", "text/plain", "application/pdf",
            ])
    }

    @Test func aMissingFinalBoundaryEndsAtTheEnd() throws {
        let mail = try parse(
            "From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n--b\n\nsecond, never closed\n")
        #expect(mail.text == "first\n\nsecond, never closed")
    }

    @Test func boundariesThatArePrefixesOfOthersAreNotConfused() throws {
        let mail = try parse("From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--bb\nstill one\n--b--\n")
        #expect(mail.text == "one\n--bb\nstill one")
    }

    @Test func htmlOnlyMailIsReducedToText() throws {
        let mail = try parse("From: a@b.example\nContent-Type: text/html; charset=utf-8\n\n<p>Hello&nbsp;<b>there</b></p><script>evil()</script><p>Bye</p>\n")
        #expect(mail.text == "Hello there\n\nBye")
        #expect(mail.html?.contains("<script>") == true, "the raw HTML is kept for whoever wants it")
    }

    @Test func formatFlowedIsUnwrapped() throws {
        let mail = try parse(
            "From: a@b.example\nContent-Type: text/plain; format=flowed; delsp=yes\n\nThis is a lo \nng line.\n From stuffed\n-- \nsig\n", crlf: false)
        #expect(mail.text == "This is a long line.\nFrom stuffed\n-- \nsig")
    }

    @Test func forwardedMessageIsAnAttachmentNamedAfterItsSubject() throws {
        let mail = try parse(
            "From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nsee below\n--b\nContent-Type: message/rfc822\n\nSubject: Disk / full?\nFrom: x@y.example\n\ninner text\n--b--\n"
        )
        #expect(mail.text == "see below")
        #expect(mail.attachments.map(\.filename) == ["Disk - full.eml"])
        #expect(mail.attachments.first?.contentType == "message/rfc822")
    }

    @Test func attachmentFileNamesLoseTheirPaths() throws {
        let mail = try parse(
            "From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\nContent-Type: application/octet-stream; name=\"..\\\\..\\\\evil.exe\"\n\nMZ\n--b\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\n\nroot\n--b\nContent-Disposition: attachment; filename=\"..\"\n\nx\n--b--\n"
        )
        #expect(mail.attachments.map(\.filename) == ["evil.exe", "passwd", "attachment-3.txt"])
    }

    // MARK: HTML

    @Test func htmlReduction() {
        let html = """
            <html><head><title>T</title><style>p { color: red }</style></head><body>
            <!-- hidden --><div>First&nbsp;line<br>second   line</div>
            <ul><li>one</li><li>two &amp; three</li></ul>
            <p>&#8220;quoted&#x201D; &euro;5 &#150; &lt;tag&gt; &bogus; AT&T</p><script type="x">document.write("<p>no</p>")</script>
            <table><tr><td>a</td><td>b</td></tr></table><pre>  keep   this  </pre>
            <a href="https://x.example" title="a > b">link</a>
            </body></html>
            """
        let text = HTMLText.plainText(html)
        #expect(text == "First line\nsecond line\n\n- one\n- two & three\n\n“quoted” €5 – <tag> &bogus; AT&T\n\na b\n\nkeep   this\n\nlink")
        #expect(
            HTMLText.plainText("<head><title>x</title>no body tag, no closing head") == "no body tag, no closing head", "an unclosed head hides only itself")
        #expect(HTMLText.plainText("a < b and c > d") == "a < b and c > d")
        #expect(HTMLText.plainText("<script>never closed") == "")
    }

    // MARK: Reply text

    @Test func replyTextShapes() {
        let gmail = "Sounds good.\n\nOn Thu, Dec 3, 2026 at 4:02 PM Help Desk <help@tandem.example>\nwrote:\n\n> old\n> text\n"
        #expect(ReplyText.newText(gmail) == "Sounds good.")
        let outlook = "Done.\n\n-----Original Message-----\nFrom: Help Desk\nSent: Thursday\n\nold"
        #expect(ReplyText.newText(outlook) == "Done.")
        let outlookNew =
            "Done.\n\n________________________________\nFrom: Help Desk <help@tandem.example>\nSent: Thursday, December 3, 2026 4:02 PM\nTo: Dana\nSubject: x\n\nold"
        #expect(ReplyText.newText(outlookNew) == "Done.")
        let apple = "Yes please.\n\n> On 4 Dec 2026, at 10:05, Help Desk <help@tandem.example> wrote:\n> \n> question\n"
        #expect(ReplyText.newText(apple) == "Yes please.")
        let french = "Merci.\n\nLe jeu. 3 déc. 2026 à 16:02, Help Desk <help@tandem.example> a écrit :\n> old"
        #expect(ReplyText.newText(french) == "Merci.")
        let outlookHTML = HTMLText.plainText(
            "<div>Fixed, thanks.</div><div id=\"appendonsend\"></div><hr><div><b>From:</b> Help Desk &lt;help@tandem.example&gt;<br><b>Sent:</b> Thursday<br><b>To:</b> Dana<br><b>Subject:</b> x</div><div>old</div>"
        )
        #expect(ReplyText.newText(outlookHTML) == "Fixed, thanks.")
        let gmailHTML = HTMLText.plainText(
            "<div dir=\"ltr\">Works now.</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Thu, Dec 3, 2026 at 4:02 PM Help Desk &lt;help@tandem.example&gt; wrote:<br></div><blockquote>old</blockquote></div>"
        )
        #expect(ReplyText.newText(gmailHTML) == "Works now.")
        let interleaved = "> Is it on?\nYes.\n> Is it plugged in?\nAlso yes."
        #expect(ReplyText.newText(interleaved) == interleaved, "quotes answered inline are kept")
        #expect(ReplyText.newText("> only a quote\n> nothing new") == "> only a quote\n> nothing new", "never cut to nothing")
        #expect(ReplyText.newText("On Monday the printer wrote: garbage on every page.") == "On Monday the printer wrote: garbage on every page.")
    }

    // MARK: Ticket references

    @Test func ticketReferences() {
        #expect(TicketReference.string(number: 42) == "[#T-000042]")
        #expect(TicketReference.string(number: 1_234_567) == "[#T-1234567]")
        #expect(TicketReference.find(in: "RE: Fwd: [#T-000042] Printer") == 42)
        #expect(TicketReference.find(in: "[#t-7]") == 7)
        #expect(TicketReference.find(in: "[#T-] [#T-12 ] #T-000042 [T-000042]") == nil)
        #expect(TicketReference.find(in: "[#T-99999999999999999999999999]") == nil, "no overflow")
        #expect(TicketReference.find(in: TicketReference.string(number: 123_456_789)) == 123_456_789)
    }
}

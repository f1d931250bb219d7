import Foundation
import Testing

@testable import TandemCore

/// The server side of SMTP without a socket: every reply code, pipelining, dot-stuffing, the size
/// limit while reading, commands out of sequence, line limits.
@Suite struct SMTPServerSessionTests {
    static func session(maxMessageBytes: Int = 1000, domains: [String] = [], maxRecipients: Int = 100, maxErrors: Int = 20) -> SMTPServerSession {
        SMTPServerSession(
            configuration: SMTPServerConfiguration(
                hostname: "mx.test", maxMessageBytes: maxMessageBytes, acceptedDomains: domains, maxRecipients: maxRecipients, maxErrors: maxErrors))
    }

    /// Feeds `input` and collects every output until more bytes are needed.
    static func run(_ session: inout SMTPServerSession, _ input: String) -> [SMTPServerSession.Output] {
        session.receive(Array(input.utf8))
        var outputs: [SMTPServerSession.Output] = []
        while let output = session.next() { outputs.append(output) }
        return outputs
    }

    /// The reply codes (a message counts as 0).
    static func codes(_ outputs: [SMTPServerSession.Output]) -> [Int] {
        outputs.map {
            switch $0 {
            case .reply(let reply), .close(let reply): reply.code
            case .message: 0
            }
        }
    }

    static func messages(_ outputs: [SMTPServerSession.Output]) -> [SMTPMessage] {
        outputs.compactMap {
            if case .message(let message) = $0 { return message }
            return nil
        }
    }

    @Test func aWholeConversation() {
        var s = Self.session()
        #expect(s.greeting.wire == "220 mx.test ESMTP Tandem mail intake\r\n")
        let ehlo = Self.run(&s, "EHLO client.example\r\n")
        #expect(
            ehlo == [
                .reply(SMTPReply(250, lines: ["mx.test greets client.example", "SIZE 1000", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"]))
            ])
        if case .reply(let reply) = ehlo[0] {
            #expect(reply.wire.hasPrefix("250-mx.test greets client.example\r\n250-SIZE 1000\r\n") && reply.wire.hasSuffix("250 ENHANCEDSTATUSCODES\r\n"))
        }
        #expect(Self.codes(Self.run(&s, "MAIL FROM:<ann@contoso.example> SIZE=200 BODY=8BITMIME\r\n")) == [250])
        #expect(Self.codes(Self.run(&s, "RCPT TO:<help@msp.example>\r\n")) == [250])
        #expect(Self.codes(Self.run(&s, "RCPT TO:<Postmaster>\r\n")) == [250])
        #expect(Self.codes(Self.run(&s, "DATA\r\n")) == [354])
        #expect(s.isReadingMessage)
        let end = Self.run(&s, "Subject: hi\r\n\r\nHello\r\n.\r\n")
        #expect(
            Self.messages(end) == [
                SMTPMessage(
                    reversePath: "ann@contoso.example", recipients: ["help@msp.example", "Postmaster"], data: Array("Subject: hi\r\n\r\nHello\r\n".utf8))
            ])
        // Another message on the same session, from the null reverse-path.
        let second = Self.run(&s, "MAIL FROM:<>\r\nRCPT TO:<help@msp.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
        #expect(Self.codes(second) == [250, 250, 354, 0, 221])
        #expect(Self.messages(second).first?.reversePath == nil)
        #expect(second.last == .close(SMTPReply(221, "2.0.0 mx.test Bye")))
        #expect(s.next() == nil)
        #expect(Self.run(&s, "NOOP\r\n").isEmpty, "nothing after QUIT")
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() {
        var s = Self.session()
        let outputs = Self.run(
            &s, "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<bad>\r\nRCPT TO:<z@y.example>\r\nDATA\r\n.hello\r\n..\r\n.\r\nNOOP\r\n")
        #expect(Self.codes(outputs) == [250, 250, 250, 501, 250, 354, 0, 250])
        #expect(Self.messages(outputs).first?.recipients == ["x@y.example", "z@y.example"])
        #expect(Self.messages(outputs).first?.data == Array("hello\r\n.\r\n".utf8))
    }

    @Test func bytesMayArriveOneAtATime() {
        var s = Self.session()
        var outputs: [SMTPServerSession.Output] = []
        for byte in "HELO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n..x\r\n\r\n.\r\n".utf8 {
            outputs += Self.run(&s, String(decoding: [byte], as: UTF8.self))
        }
        #expect(Self.codes(outputs) == [250, 250, 250, 354, 0])
        #expect(outputs[0] == .reply(SMTPReply(250, "mx.test")))
        #expect(Self.messages(outputs).first?.data == Array(".x\r\n\r\n".utf8))
    }

    @Test func dotStuffingIsUndoneAndOnlyALoneDotEnds() {
        var s = Self.session()
        _ = Self.run(&s, "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n")
        // A bare LF ends a line too; ". " and ".." are not the end; the text gets CRLF line ends.
        let outputs = Self.run(&s, "..\r\n...\r\n. \r\nline\nlast\r\n.\r\n")
        #expect(Self.messages(outputs).first?.data == Array(".\r\n..\r\n \r\nline\r\nlast\r\n".utf8))
        // An empty message.
        let empty = Self.run(&s, "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n.\r\n")
        #expect(Self.messages(empty).first?.data == [])
    }

    @Test func theSizeLimitIsKeptWhileReading() {
        var s = Self.session(maxMessageBytes: 100)
        #expect(Self.codes(Self.run(&s, "EHLO a\r\nMAIL FROM:<a@b.example> SIZE=101\r\n")) == [250, 552])
        #expect(Self.codes(Self.run(&s, "MAIL FROM:<a@b.example> SIZE=100\r\nRCPT TO:<x@y.example>\r\nDATA\r\n")) == [250, 250, 354])
        // 10 KB in lines, then one long line without an end in pieces: refused at the end, never kept.
        for _ in 0..<100 { #expect(Self.run(&s, String(repeating: "x", count: 98) + "\r\n").isEmpty) }
        for _ in 0..<20 { #expect(Self.run(&s, String(repeating: "y", count: 4096)).isEmpty) }
        let end = Self.run(&s, "\r\n.\r\n")
        #expect(end == [.reply(SMTPReply(552, "5.3.4 Message too big (at most 100 bytes)"))])
        // The transaction is over; the next one goes through, exactly at the limit.
        let text = String(repeating: "z", count: 98) + "\r\n"
        let next = Self.run(&s, "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n\(text).\r\n")
        #expect(Self.messages(next).first?.data == Array(text.utf8))
    }

    @Test func aLongLineInDataKeepsItsDotRule() {
        var s = Self.session(maxMessageBytes: 100_000)
        _ = Self.run(&s, "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n")
        let long = String(repeating: "a", count: 3000)
        // Sent in pieces that end on a CR: the CRLF is not split into two line ends.
        #expect(Self.run(&s, "." + long + "\r").isEmpty)
        #expect(Self.run(&s, "\n..\r\n.\r\n").count == 1)
        var t = Self.session(maxMessageBytes: 100_000)
        let outputs = Self.run(&t, "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n." + long + "\r\n..\r\n.\r\n")
        #expect(Self.messages(outputs).first?.data == Array((long + "\r\n.\r\n").utf8))
    }

    @Test func commandsOutOfSequence() {
        var s = Self.session()
        #expect(Self.codes(Self.run(&s, "MAIL FROM:<a@b.example>\r\n")) == [503])
        #expect(Self.codes(Self.run(&s, "RCPT TO:<x@y.example>\r\n")) == [503])
        #expect(Self.codes(Self.run(&s, "DATA\r\n")) == [503])
        #expect(Self.codes(Self.run(&s, "EHLO a\r\nRCPT TO:<x@y.example>\r\nDATA\r\n")) == [250, 503, 503])
        #expect(Self.codes(Self.run(&s, "MAIL FROM:<a@b.example>\r\nMAIL FROM:<a@b.example>\r\nDATA\r\n")) == [250, 503, 503])
        // RSET ends the transaction: RCPT needs a new MAIL.
        #expect(Self.codes(Self.run(&s, "RSET\r\nRCPT TO:<x@y.example>\r\nRSET extra\r\n")) == [250, 503, 501])
        // EHLO again resets too.
        #expect(Self.codes(Self.run(&s, "MAIL FROM:<a@b.example>\r\nEHLO b\r\nRCPT TO:<x@y.example>\r\n")) == [250, 250, 503])
    }

    @Test func syntaxAndUnknownCommands() {
        var s = Self.session()
        let outputs = Self.run(
            &s,
            "EHLO\r\nHELO\r\nFOO bar\r\n\r\nEXPN list\r\nSTARTTLS\r\nAUTH PLAIN x\r\nVRFY ann\r\nNOOP\r\nHELP\r\nehlo a\r\nmail from:<a@b.example>\r\n")
        #expect(Self.codes(outputs) == [501, 501, 500, 500, 502, 502, 502, 252, 250, 214, 250, 250])
        let more = Self.run(
            &s,
            "RCPT TO:x@y.example\r\nRCPT TO:<x y@z.example>\r\nRCPT TO:<nobody>\r\nRCPT TO:<x@y.example> NOTIFY=NEVER\r\nRCPT TO: <@relay.example:x@y.example>\r\nDATA now\r\n"
        )
        #expect(Self.codes(more) == [501, 501, 501, 555, 250, 501])
        var t = Self.session()
        let mail = Self.run(
            &t,
            "EHLO a\r\nMAIL FROM:a@b.example\r\nMAIL FROM:<a b>\r\nMAIL FROM:<a@b.example> SIZE=x\r\nMAIL FROM:<a@b.example> BODY=BINARYMIME\r\nMAIL FROM:<a@b.example> SMTPUTF8\r\nMAIL FROM:<a@b.example>junk\r\n"
        )
        #expect(Self.codes(mail) == [250, 501, 501, 501, 501, 555, 501])
    }

    @Test func recipientsAtTheHelpDeskDomainsOnly() {
        var s = Self.session(domains: ["MSP.example", "help.msp.example"], maxRecipients: 3)
        let outputs = Self.run(
            &s,
            "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<help@msp.example>\r\nRCPT TO:<someone@elsewhere.example>\r\nRCPT TO:<x@HELP.msp.example>\r\nRCPT TO:<x@sub.msp.example>\r\nRCPT TO:<y@msp.example>\r\nRCPT TO:<z@msp.example>\r\n"
        )
        #expect(Self.codes(outputs) == [250, 250, 250, 550, 250, 550, 250, 452])
        #expect(outputs[3] == .reply(SMTPReply(550, "5.1.1 <someone@elsewhere.example>: Recipient address rejected: not a help desk address")))
    }

    @Test func aCommandLineOverTheLimitIsRefusedAndDropped() {
        var s = Self.session()
        #expect(Self.codes(Self.run(&s, "NOOP " + String(repeating: "x", count: 995) + "\r\n")) == [250], "1000 characters are fine")
        #expect(Self.codes(Self.run(&s, "NOOP " + String(repeating: "x", count: 996) + "\r\n")) == [500])
        // A line without an end is dropped as it comes, then refused once when it ends.
        for _ in 0..<50 { #expect(Self.run(&s, String(repeating: "x", count: 4096)).isEmpty) }
        #expect(Self.codes(Self.run(&s, "tail\r\nNOOP\r\n")) == [500, 250])
    }

    @Test func tooManyErrorsCloseTheSession() {
        var s = Self.session(maxErrors: 3)
        let outputs = Self.run(&s, "FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
        #expect(Self.codes(outputs) == [500, 500, 421])
        #expect(s.next() == nil)
        #expect(s.timeoutReply.code == 421 && s.shutdownReply.code == 421)
    }

    @Test func repliesAreOneLineOfASCII() {
        #expect(SMTPReply(554, "5.6.0 bad\r\nheader: ünïcode").wire == "554 5.6.0 bad  header: ?n?code\r\n")
    }
}

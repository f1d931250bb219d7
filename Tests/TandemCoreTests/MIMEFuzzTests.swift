import Foundation
import TandemCore
import Testing

/// Mutations of the fixture corpus (and generated nests) through the parser: every input must come back parsed
/// or refused with a `MailParseError`, never crash, and every parse must be quick.
@Suite struct MIMEFuzzTests {
    static let maxInput = 64 * 1024
    static let tokens: [[UInt8]] = [
        "\r\n", "\n", "\r", "--", "=?", "?=", "=?UTF-8?B?", "=?utf-8?q?=E2=82?=", "=?x?Q?", "\r\n--b\r\n", "\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n", "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n",
        "Content-Type: message/rfc822\r\n\r\n", "Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: quoted-printable\r\n",
        "Content-Disposition: attachment; filename*0*=UTF-8''%E2%82; filename*1*=%AC\r\n", "=\r\n", "=C3", "=ZZ", "&#x", "&#", "&amp", "<script>",
        "<!--", "<head>", "<li>", "<", ">", "\"", "(", ")", "\\", ";", ":", "*0*=", "''%", "\t", " ", "\r\n\r\n", "\0", "\u{FF}", "\u{80}",
        "From: ", "Subject: =?UTF-8?B?4oKs?=", "charset=utf-16", "format=flowed", "report-type=delivery-status", "[#T-", "On x wrote:",
    ].map { Array($0.utf8) }

    static func corpus() throws -> [[UInt8]] {
        let folder = MIMECorpusTests.folder
        var seeds = try MIMECorpusTests.files().map { [UInt8](try Data(contentsOf: folder.appendingPathComponent($0))) }
        seeds.append(MIMELimitsTests.nested(depth: 30, boundaryPrefix: "n"))
        seeds.append(Array("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n".utf8))
        return seeds
    }

    static func mutate(_ input: [UInt8], corpus: [[UInt8]], rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0:
                // Byte flips.
                for _ in 0..<Int.random(in: 1...16, using: &rng) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            case 1, 2:
                bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: position)
            case 3:
                // A long run of one token or byte.
                let token = Bool.random(using: &rng) ? tokens.randomElement(using: &rng)! : [UInt8.random(in: 0...255, using: &rng)]
                let length = min(16 * 1024, token.count * Int.random(in: 1...4096, using: &rng))
                var run = token
                while run.count < length { run += run }
                bytes.insert(contentsOf: run.prefix(length), at: position)
            case 4:
                bytes = Array(bytes.prefix(position))
            case 5:
                // Splice: this one's start, another's end.
                let other = corpus.randomElement(using: &rng)!
                bytes = Array(bytes.prefix(position)) + other.suffix(Int.random(in: 0...other.count, using: &rng))
            case 6:
                // Duplicate a chunk.
                guard !bytes.isEmpty else { break }
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let chunk = bytes[start..<min(bytes.count, start + Int.random(in: 1...2048, using: &rng))]
                bytes.insert(contentsOf: chunk, at: Int.random(in: 0...bytes.count, using: &rng))
            case 7:
                // Delete a chunk.
                guard !bytes.isEmpty else { break }
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...512, using: &rng)))
            default:
                // A boundary line of this message's own boundary (or of a made-up one) somewhere.
                let boundary = boundaryOf(bytes) ?? Array("b".utf8)
                let line = Array("\r\n--".utf8) + boundary + (Bool.random(using: &rng) ? Array("--".utf8) : []) + Array("\r\n".utf8)
                bytes.insert(contentsOf: line, at: position)
            }
            if bytes.count > maxInput { bytes.removeLast(bytes.count - maxInput) }
        }
        return bytes
    }

    static func boundaryOf(_ bytes: [UInt8]) -> [UInt8]? {
        let needle = Array("boundary=".utf8)
        guard bytes.count > needle.count else { return nil }
        for index in 0...(bytes.count - needle.count) where bytes[index] == needle[0] && bytes[index..<index + needle.count].elementsEqual(needle) {
            var value = Array(bytes[(index + needle.count)...].prefix(80).prefix { $0 != 0x0D && $0 != 0x0A && $0 != 0x3B })
            value.removeAll { $0 == 0x22 }
            return value
        }
        return nil
    }

    /// One batch of mutated inputs: the number parsed, refused, and the slowest parse.
    static func run(seed: UInt64, count: Int) throws -> (parsed: Int, refused: Int, slowest: Duration) {
        let corpus = try corpus()
        var rng = SeededGenerator(seed: seed)
        var parsed = 0
        var refused = 0
        var slowest = Duration.zero
        let clock = ContinuousClock()
        for _ in 0..<count {
            let input = mutate(corpus.randomElement(using: &rng)!, corpus: corpus, rng: &rng)
            let start = clock.now
            do {
                let mail = try MailParser.parse(input)
                _ = MailClassification.classify(mail, ownDomain: "tandem.example")
                _ = mail.replyText
                _ = mail.subject.flatMap(TicketReference.find)
                // Decoding never grows a body beyond its input; what is stored as text holds no NUL (databases
                // refuse it) and one-line fields no line break. (Checked plainly and recorded only on failure:
                // a hundred thousand expectations would cost more than the parses.)
                let oneLine = [mail.subject, mail.messageId, mail.from?.email, mail.from?.name].compactMap { $0 } + mail.inReplyTo + mail.references
                let sound =
                    mail.attachments.allSatisfy { $0.bytes.count <= input.count } && !mail.text.utf8.contains(0) && !(mail.html ?? "").utf8.contains(0)
                    && oneLine.allSatisfy { !$0.utf8.contains { $0 < 0x20 } }
                if !sound { Issue.record("unsound result for input \(input.prefix(200))") }
                parsed += 1
            } catch {
                if error.reason.isEmpty { Issue.record("a refusal without a reason") }
                refused += 1
            }
            if clock.now - start > slowest, let path = ProcessInfo.processInfo.environment["MIME_FUZZ_SLOWEST"] {
                try Data(input).write(to: URL(fileURLWithPath: path + "-\(seed)"))
            }
            slowest = max(slowest, clock.now - start)
        }
        return (parsed, refused, slowest)
    }

    /// 4 × 25,000 = 100,000 inputs, in four tests so they run side by side.
    @Test(arguments: [UInt64(1), 2, 3, 4]) func mutatedCorpus(seed: UInt64) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try Self.run(seed: seed &* 0x1234_5678_9ABC_DEF1, count: 25_000)
        let elapsed = clock.now - start
        #expect(result.parsed + result.refused == 25_000)
        #expect(result.parsed > 1000, "mutations should mostly still be mail")
        #expect(result.slowest < .seconds(1), "slowest parse: \(result.slowest)")
        print("MIME fuzz seed \(seed): \(result.parsed) parsed, \(result.refused) refused, slowest \(result.slowest), total \(elapsed)")
    }
}

/// The limits hold, quickly, however a message is built to break them.
@Suite struct MIMELimitsTests {
    static func nested(depth: Int, boundaryPrefix: String = "L") -> [UInt8] {
        var text = "From: a@fabrikam.example\r\nContent-Type: multipart/mixed; boundary=\"\(boundaryPrefix)0\"\r\n\r\n"
        for level in 0..<depth { text += "--\(boundaryPrefix)\(level)\r\nContent-Type: multipart/mixed; boundary=\"\(boundaryPrefix)\(level + 1)\"\r\n\r\n" }
        text += "--\(boundaryPrefix)\(depth)\r\n\r\ndeep\r\n"
        return Array(text.utf8)
    }

    func refusal(_ raw: [UInt8], limits: MailLimits = .init()) -> (MailParseError?, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try MailParser.parse(raw, limits: limits)
            return (nil, clock.now - start)
        } catch {
            return (error, clock.now - start)
        }
    }

    @Test func nestingIsBounded() throws {
        let (error, elapsed) = refusal(Self.nested(depth: 1000))
        #expect(error?.reason == "nesting deeper than 10 levels")
        #expect(error?.isOversized == false)
        #expect(elapsed < .seconds(1))
        // Ten levels are fine.
        let mail = try MailParser.parse(Self.nested(depth: 9))
        #expect(mail.text == "deep")
    }

    @Test func partsAreBounded() {
        var text = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        text += String(repeating: "--b\r\n\r\nx\r\n", count: 100_000)
        let (error, elapsed) = refusal(Array(text.utf8))
        #expect(error?.reason == "more than 200 parts")
        #expect(elapsed < .seconds(1))
        let (small, _) = refusal(Array(text.utf8).prefix(70 + 9 * 4).map { $0 }, limits: MailLimits(maxParts: 3))
        #expect(small?.reason == "more than 3 parts")
    }

    @Test func oversizedMessagesAreRefusedAsOversized() {
        let raw = [UInt8](repeating: 0x61, count: 30 * 1024 * 1024)
        let (error, elapsed) = refusal(raw)
        #expect(error?.isOversized == true)
        #expect(error?.reason == "the message is 30 MB; the limit is 25 MB")
        #expect(elapsed < .milliseconds(100), "refused on its size alone, without reading it")
    }

    @Test func headerSectionsAreBounded() {
        // 10 MB of one header that never ends.
        let huge = Array("Subject: ".utf8) + [UInt8](repeating: 0x61, count: 10 * 1024 * 1024)
        let (error, elapsed) = refusal(huge)
        #expect(error?.reason.contains("the header section never ends") == true)
        #expect(error?.isOversized == false)
        #expect(elapsed < .seconds(1))
        // 10 MB of short headers: the count limit comes first.
        let many = Array(String(repeating: "X-Spam: y\r\n", count: 1_000_000).utf8)
        #expect(refusal(many).0?.reason == "more than 1000 header fields")
        // Many folded lines of one header: the size limit.
        let folded = Array(("Subject: a" + String(repeating: "\r\n a", count: 200_000) + "\r\n\r\nbody").utf8)
        #expect(refusal(folded).0?.reason.contains("never ends") == true)
        // 1,000 fields are fine.
        let thousand = Array(("From: a@b.example\r\n" + String(repeating: "X-A: 1\r\n", count: 999) + "\r\nbody").utf8)
        #expect((try? MailParser.parse(thousand))?.text == "body")
    }

    @Test func notMailIsRefused() {
        #expect(refusal([]).0?.reason == "the message is empty")
        #expect(refusal(Array("\r\n\r\n".utf8)).0?.reason == "the message is empty")
        #expect(refusal(Array("%PDF-1.4\n%\u{E2}\u{E3}\n1 0 obj".utf8)).0?.reason.contains("not a mail") == true)
        #expect(refusal(Array("\r\nbody without headers".utf8)).0?.reason.contains("not a mail") == true)
    }

    /// Inputs shaped to make a naive parser quadratic: each must stay quick.
    @Test(arguments: [
        "Subject: " + String(repeating: "=?x?Q?", count: 40_000) + "\r\n\r\nbody",
        "Subject: " + String(repeating: "=?utf-8?B?", count: 25_000) + "?=\r\n\r\nbody",
        "To: " + String(repeating: "(", count: 100_000) + "\r\n\r\nbody",
        "To: " + String(repeating: "\"a\" <", count: 30_000) + "\r\n\r\nbody",
        "From: a@b.example\r\nReferences: " + String(repeating: "<", count: 200_000) + "\r\n\r\nbody",
        "From: a@b.example\r\nContent-Type: text/plain; " + String(repeating: "name*0*=x; ", count: 20_000) + "\r\n\r\nbody",
        "From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + String(repeating: "<head><title>", count: 100_000),
        "From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + String(repeating: "<!-<a <p &#x &amp", count: 50_000),
        "From: a@b.example\r\nContent-Type: text/plain\r\n\r\n" + String(repeating: "On x\nFrom: y\n> ", count: 50_000),
        "From: a@b.example\r\nContent-Type: text/plain; format=flowed\r\n\r\n" + String(repeating: "a \r\n", count: 200_000),
        "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + String(repeating: "--b", count: 300_000),
        "From: a@b.example\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + String(repeating: "=  ", count: 300_000),
    ])
    func pathologicalInputsStayLinear(_ text: String) {
        let (_, elapsed) = refusal(Array(text.utf8))
        // Linear, these take tens of milliseconds; quadratic, minutes. The bound leaves room for a
        // machine loaded by parallel tests and builds (1 s failed there at 1.05-1.15 s).
        #expect(elapsed < .seconds(5), "\(text.prefix(60)): \(elapsed)")
    }

    @Test func largeHonestAttachmentsParseInLinearTime() throws {
        let payload = (0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let encoded = Data(payload).base64EncodedString(options: .lineLength76Characters)
        let raw = Array(
            ("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + encoded + "\r\n--b--\r\n").utf8)
        let clock = ContinuousClock()
        let start = clock.now
        let mail = try MailParser.parse(raw)
        #expect(clock.now - start < .seconds(5))
        #expect(mail.attachments.first?.bytes == payload)
        #expect(mail.text == "see attached")
    }
}

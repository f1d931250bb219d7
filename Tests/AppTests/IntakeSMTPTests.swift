import Foundation
import NIOCore
import NIOPosix
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Mail intake over SMTP (`SMTPListener`) with a real client, Python's smtplib
/// (`scripts/smtp-send.py`): a contact's mail becomes a ticket, the same Message-ID a duplicate, a
/// reply a note, a stranger's mail a triage entry; oversized and malformed mail is refused and
/// stores nothing; idle sessions, too many sessions and the stop are told 421.
@Suite struct IntakeSMTPTests {
    struct Answer: Decodable, CustomStringConvertible {
        let stage: String
        let code: Int
        let text: String
        var description: String { "\(stage): \(code) \(text)" }
        /// The id after "Ok: <outcome> ".
        var id: String? { text.split(separator: " ").dropFirst(3).first.map(String.init) }
    }

    /// Sends `messages` in one session with smtplib; one answer per message.
    static func send(
        port: Int, from: String = "ann@contoso.example", to: [String] = ["help@msp.example"], _ messages: [String], size: Bool = true
    ) async throws -> [Answer] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-send-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for (index, message) in messages.enumerated() {
            let file = directory.appendingPathComponent("\(index).eml")
            try Data(message.utf8).write(to: file)
            files.append(file.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", scripts.appendingPathComponent("smtp-send.py").path, "127.0.0.1", String(port), from, to.joined(separator: ",")] + files
            + (size ? [] : ["--no-size"])
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        // Waited for without holding a thread: the server answering it runs in this process.
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard status == 0 else {
            throw TestSetupError("smtp-send.py failed (\(status)): \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Answer.self, from: Data($0.utf8)) }
    }

    static func listen(_ t: TestApp, _ change: (inout SMTPListener.Configuration) -> Void = { _ in }) async throws -> Int {
        var configuration = SMTPListener.Configuration(host: "127.0.0.1", port: 0)
        change(&configuration)
        let listener = try await SMTPListener.start(t.app, configuration)
        #expect(t.app.smtpListener === listener)
        return try #require(listener.port)
    }

    @Test func mailBecomesATicketADuplicateANoteOrATriageEntry() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let ann = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let port = try await Self.listen(t)
            #expect(port > 0)

            // Two messages in one session: the second is the same Message-ID again (a retrying MTA).
            let first = IntakeMailTests.message(
                from: "Ann Contact <ann@contoso.example>", subject: "Printer offline", body: "Hello,\n.dot line stays\nthe printer is offline.\n", id: "smtp-1")
            let answers = try await Self.send(port: port, [first, first])
            #expect(answers.count == 2)
            #expect(answers[0].code == 250 && answers[0].text.hasPrefix("2.0.0 Ok: ticket "), "\(answers)")
            let ticketId = try #require(answers[0].id)
            #expect(answers[1].code == 250 && answers[1].text == "2.0.0 Ok: duplicate \(ticketId)", "\(answers)")
            let ticket = try await t.get("/api/v1/tickets/\(ticketId)").json
            #expect(ticket["title"] == "Printer offline" && ticket["contactId"].string == ann && ticket["source"] == "email")
            #expect((ticket["description"].string ?? "").contains(".dot line stays"), "dot-stuffing undone: \(ticket["description"])")
            #expect(try await t.count("tickets") == 1)

            // A reply naming the ticket: a note on it.
            let reference = TicketReference.string(number: ticket["number"].int ?? 0)
            let reply = try await Self.send(
                port: port, [IntakeMailTests.message(from: "ann@contoso.example", subject: "RE: \(reference) Printer offline", body: "Works again.\n")])
            #expect(reply.first?.code == 250 && reply.first?.text == "2.0.0 Ok: note \(ticketId)", "\(reply)")
            let notes = try await t.get("/api/v1/tickets/\(ticketId)/notes").json["items"].array
            #expect(notes.count == 1 && notes.first?["body"] == "Works again.")

            // A stranger at a public domain: triage, with the envelope's null sender.
            let gmail = try await Self.send(
                port: port, from: "", [IntakeMailTests.message(from: "someone@gmail.com", subject: "My mail is down")])
            #expect(gmail.first?.code == 250 && gmail.first?.text.hasPrefix("2.0.0 Ok: triage ") == true, "\(gmail)")
            let triage = try await t.get("/api/v1/inbound/triage").json["items"].array
            #expect(triage.count == 1 && triage.first?["id"].string == gmail.first?.id && triage.first?["from"] == "someone@gmail.com")
            #expect(try await t.count("tickets") == 1)
            #expect(try await t.count("inbound_mail") == 3)
        }
    }

    @Test func oversizedAndMalformedMailIsRefusedAndStoresNothing() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            _ = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let port = try await Self.listen(t) {
                $0.maxMessageBytes = 4000
                $0.domains = ["msp.example"]
            }
            let counts = try await t.rowCounts()
            let huge = IntakeMailTests.message(from: "ann@contoso.example", subject: "Logs", body: String(repeating: "x", count: 70) + "\n", id: "huge")
                .replacingOccurrences(of: "\r\n\r\n", with: "\r\n\r\n" + String(repeating: String(repeating: "y", count: 76) + "\r\n", count: 100))
            // smtplib says the size in MAIL FROM: refused there. Without it: read, dropped, refused at the end.
            let announced = try await Self.send(port: port, [huge])
            #expect(announced.first?.stage == "mail" && announced.first?.code == 552, "\(announced)")
            let unannounced = try await Self.send(port: port, [huge], size: false)
            #expect(unannounced.first?.stage == "data" && unannounced.first?.code == 552, "\(unannounced)")
            // Not a message at all: 554 with the parser's reason.
            let garbage = try await Self.send(port: port, ["this is not a mail at all"])
            #expect(garbage.first?.stage == "data" && garbage.first?.code == 554 && garbage.first?.text.hasPrefix("5.6.0 ") == true, "\(garbage)")
            // Not the help desk's domain.
            let elsewhere = try await Self.send(
                port: port, to: ["someone@elsewhere.example"], [IntakeMailTests.message(from: "ann@contoso.example", subject: "Hi")])
            #expect(elsewhere.first?.stage == "rcpt" && elsewhere.first?.code == 550, "\(elsewhere)")
            #expect(try await t.rowCounts() == counts)
            #expect(try await t.count("inbound_mail") == 0)
            // The session and the listener still take mail after all that.
            let fine = try await Self.send(port: port, ["this is not a mail at all", IntakeMailTests.message(from: "ann@contoso.example", subject: "Hi")])
            #expect(fine.map(\.code) == [554, 250], "\(fine)")
        }
    }

    @Test func aDatabaseFailureAsksTheSenderToRetry() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            _ = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let port = try await Self.listen(t)
            let message = IntakeMailTests.message(from: "ann@contoso.example", subject: "Printer offline", id: "retried")
            // The intake's table is away: 451, nothing kept, and the sender keeps the message.
            try await t.db.sql.raw("ALTER TABLE inbound_mail RENAME TO inbound_mail_away").run()
            let away = try await Self.send(port: port, [message])
            #expect(away.first?.stage == "data" && away.first?.code == 451 && away.first?.text == "4.3.0 Try again later", "\(away)")
            try await t.db.sql.raw("ALTER TABLE inbound_mail_away RENAME TO inbound_mail").run()
            #expect(try await t.count("tickets") == 0)
            // The retry goes through, once.
            let retried = try await Self.send(port: port, [message, message])
            #expect(retried.map(\.code) == [250, 250] && retried.last?.text.hasPrefix("2.0.0 Ok: duplicate ") == true, "\(retried)")
            #expect(try await t.count("tickets") == 1)
        }
    }

    @Test func idleSessionsTooManySessionsAndTheStopAreTold421() async throws {
        try await withApp { t in
            let port = try await Self.listen(t) {
                $0.maxSessions = 1
                $0.idleTimeout = .seconds(2)
            }
            let group = t.app.eventLoopGroup
            let first = try await Self.connect(port, group)
            let second = try await Self.connect(port, group)
            // Both connections are open before the server accepts either, so either may be the one it takes.
            async let one = Self.transcript(first)
            let other = try await Self.transcript(second)
            let transcripts = [try await one, other]
            let refused = transcripts.filter { $0 == "421 4.3.2 Too many connections, try again later\r\n" }
            let idle = transcripts.filter { $0.hasPrefix("220 ") && $0.hasSuffix("\r\n421 4.4.2 tandem.localhost Idle too long, closing connection\r\n") }
            #expect(refused.count == 1 && idle.count == 1, "\(transcripts)")

            // A session waiting for a command when the listener stops (once the first session is gone).
            var said = ""
            for _ in 0..<50 where !said.hasPrefix("220 ") {
                said = try await Self.connect(port, group).executeThenClose { inbound, outbound in
                    var lines = inbound.makeAsyncIterator()
                    var text = ""
                    while !text.hasSuffix("\r\n"), let buffer = try await lines.next() { text += String(buffer: buffer) }
                    guard text.hasPrefix("220 ") else { return text }
                    try await outbound.write(ByteBuffer(string: "EHLO client.test\r\n"))
                    while !text.hasSuffix("250 ENHANCEDSTATUSCODES\r\n"), let buffer = try await lines.next() { text += String(buffer: buffer) }
                    await t.app.smtpListener?.stop(t.app)
                    while let buffer = try await lines.next() { text += String(buffer: buffer) }
                    return text
                }
                if !said.hasPrefix("220 ") { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(said.hasPrefix("220 ") && said.contains("\r\n250 ENHANCEDSTATUSCODES\r\n"), "\(said)")
            #expect(said.hasSuffix("\r\n421 4.3.2 tandem.localhost Service shutting down, try again later\r\n"), "\(said)")
            #expect(t.app.smtpListener?.port == nil)
            await #expect(throws: (any Error).self) { _ = try await Self.connect(port, group) }
        }
    }

    @Test func theCommandLineOptionIsTandemsNotVapors() {
        typealias Listen = AppOptions.SMTPListen
        #expect(Listen.port(arguments: ["serve", "--port", "8080", "--smtp-port", "2525"], environment: "25") == "2525")
        #expect(Listen.port(arguments: ["serve", "--smtp-port=2526"], environment: nil) == "2526")
        #expect(Listen.port(arguments: ["serve", "--smtp-port"], environment: nil) == "", "a missing value is refused by configure")
        #expect(Listen.port(arguments: ["serve"], environment: "2527") == "2527")
        #expect(Listen.port(arguments: ["serve"], environment: "") == nil)
        #expect(
            Listen.removingOption(from: ["tandem", "serve", "--smtp-port", "2525", "--hostname", "0.0.0.0", "--smtp-port=1", "--port", "80"])
                == ["tandem", "serve", "--hostname", "0.0.0.0", "--port", "80"])
    }

    @Test func aPortOutOfRangeIsRefused() async throws {
        let app = try await Application.make(.testing)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-port-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".vault-key"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        var options = AppOptions(storage: .sqlite(path: path), bcryptCost: 4)
        options.smtpListen = AppOptions.SMTPListen(port: 70000)
        await #expect(throws: TandemError.invalid("--smtp-port", "must be a port number from 0 to 65535 (or TANDEM_SMTP_PORT)")) {
            try await configure(app, options: options)
        }
        try await app.asyncShutdown()
    }

    static func connect(_ port: Int, _ group: any EventLoopGroup) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    }

    /// Everything the server says until it closes the connection.
    static func transcript(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws -> String {
        try await channel.executeThenClose { inbound, _ in
            var text = ""
            for try await buffer in inbound { text += String(buffer: buffer) }
            return text
        }
    }

    private static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts")
}

import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The outbox delivered to a real SMTP server (aiosmtpd, `scripts/smtp-sink.py`): what arrives,
/// what waits while the server is down, retries with backoff, refusals, STARTTLS and AUTH.
@Suite struct DeliveryTests {
    static func message(_ to: String, subject: String = "Ticket T-1", channel: OutboxMessage.Channel = .email, at: Date) -> OutboxMessage {
        let id = "<\(UUID().uuidString)@tandem.test>"
        let body = "From: helpdesk@msp.example\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: \(id)\r\n\r\nHello.\r\n.leading dot\r\n"
        return OutboxMessage(channel: channel, recipient: to, subject: subject, body: body, messageId: id, at: at)
    }

    static func deliver(_ t: TestApp) async throws -> Int {
        try await OutboxDelivery.run(on: t.db, settings: t.app.settings, group: t.app.eventLoopGroup)
    }

    static func states(_ t: TestApp) async throws -> [String: OutboxMessage.State] {
        Dictionary(uniqueKeysWithValues: try await OutboxMessage.query(on: t.db).all().map { ($0.recipient, $0.state) })
    }

    @Test func mailAndSMSArriveWithTheirRecipientsAndBody() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            t.app.settings.mail = sink.settings()
            try await Self.message("ann@contoso.example", at: t.db.now).create(on: t.db)
            try await Self.message("5551234567@txt.carrier.example", channel: .sms, at: t.db.now).create(on: t.db)
            #expect(try await Self.deliver(t) == 2)
            let received = try await sink.waitFor(2)
            #expect(Set(received.flatMap(\.to)) == ["ann@contoso.example", "5551234567@txt.carrier.example"])
            #expect(received.allSatisfy { $0.from == "helpdesk@msp.example" })
            // Dot-stuffing undone by the server: the body is as written.
            #expect(received.allSatisfy { $0.data.contains("Hello.\r\n.leading dot") })
            #expect(try await Self.states(t).values.allSatisfy { $0 == .sent })
            #expect(try await Self.deliver(t) == 0)
        }
    }

    @Test func messagesWaitWhileTheServerIsDownAndGoOnceItIsBack() async throws {
        let clock = SetClock()
        // A port nothing listens on yet: take one from a sink and stop it.
        let probe = try SMTPSink()
        let port = probe.port
        probe.stop()
        try await withApp(clock: clock) { t in
            t.app.settings.mail = SMTPSettings(host: "127.0.0.1", port: port, from: "helpdesk@msp.example")
            try await Self.message("ann@contoso.example", at: t.db.now).create(on: t.db)
            #expect(try await Self.deliver(t) == 1)
            let waiting = try #require(try await OutboxMessage.query(on: t.db).first())
            #expect(waiting.state == .pending && waiting.attempts == 1)
            #expect(waiting.lastError?.contains("cannot connect") == true)
            #expect(waiting.nextAttemptAt > t.db.now)
            // Not due yet: nothing is tried.
            #expect(try await Self.deliver(t) == 0)

            let sink = try SMTPSink(port: port)
            defer { sink.stop() }
            clock.advance(by: Outbox.backoff(afterAttempts: 1) + 1)
            #expect(try await Self.deliver(t) == 1)
            #expect(try await sink.waitFor(1).count == 1)
            let sent = try #require(try await OutboxMessage.query(on: t.db).first())
            #expect(sent.state == .sent && sent.attempts == 2 && sent.lastError == nil)
        }
    }

    @Test func aRefusedRecipientFailsForGoodAndTheOthersStillGo() async throws {
        let sink = try SMTPSink(reject: ["gone@contoso.example"])
        defer { sink.stop() }
        try await withApp { t in
            t.app.settings.mail = sink.settings()
            for to in ["ann@contoso.example", "gone@contoso.example", "bob@contoso.example"] {
                try await Self.message(to, at: t.db.now).create(on: t.db)
            }
            #expect(try await Self.deliver(t) == 3)
            #expect(Set(try await sink.waitFor(2).flatMap(\.to)) == ["ann@contoso.example", "bob@contoso.example"])
            let states = try await Self.states(t)
            #expect(states["gone@contoso.example"] == .failed)
            #expect(states["ann@contoso.example"] == .sent && states["bob@contoso.example"] == .sent)
            let failed = try #require(try await OutboxMessage.query(on: t.db).filter(\.$state == .failed).first())
            #expect(failed.lastError?.hasPrefix("550") == true)
        }
    }

    @Test func startTLSAndAuthentication() async throws {
        let sink = try SMTPSink(tls: true, auth: "relay:s3cret-pass")
        defer { sink.stop() }
        try await withApp { t in
            t.app.settings.mail = sink.settings(username: "relay", password: "wrong-pass", security: .startTLS)
            try await Self.message("ann@contoso.example", at: t.db.now).create(on: t.db)
            #expect(try await Self.deliver(t) == 1)
            let refused = try #require(try await OutboxMessage.query(on: t.db).first())
            #expect(refused.state == .pending && refused.lastError?.contains("535") == true)
            // The answer is the server's; the password never appears in what is stored.
            #expect(refused.lastError?.contains("wrong-pass") == false)

            t.app.settings.mail = sink.settings(username: "relay", password: "s3cret-pass", security: .startTLS)
            refused.nextAttemptAt = t.db.now
            try await refused.save(on: t.db)
            #expect(try await Self.deliver(t) == 1)
            #expect(try await sink.waitFor(1).count == 1)
            #expect(try await Self.states(t)["ann@contoso.example"] == .sent)
        }
    }

    @Test func withoutSMTPSettingsMailWaits() async throws {
        try await withApp { t in
            #expect(OutboxDelivery.mailBlocked(t.app.settings)?.contains("TANDEM_SMTP_URL") == true)
            try await Self.message("ann@contoso.example", at: t.db.now).create(on: t.db)
            #expect(try await Self.deliver(t) == 0)
            #expect(try await Self.states(t)["ann@contoso.example"] == .pending)
        }
    }
}
extension DeliveryTests {
    /// The outbox's backoff is decided inside write transactions: they must read the app's clock.
    @Test func writeTransactionsReadTheAppClock() async throws {
        let clock = SetClock(Date(timeIntervalSince1970: 2_000_000_000))
        try await withApp(clock: clock) { t in
            let inside = try await t.db.write { $0.now }
            #expect(inside == clock.now())
        }
    }

    @Test func theOutboxIsListedAndRetriedByThoseWhoManageSettings() async throws {
        try await withApp { t in
            let (_, techToken) = try await t.resource("tech")
            let failed = Self.message("gone@contoso.example", at: t.db.now)
            failed.state = .failed
            failed.attempts = Outbox.maxAttempts
            failed.lastError = "550 5.1.1 mailbox unavailable"
            try await failed.create(on: t.db)
            let sent = Self.message("ann@contoso.example", at: t.db.now)
            sent.state = .sent
            try await sent.create(on: t.db)

            expectStatus(try await t.get("/api/v1/outbox", as: techToken), .forbidden)
            expectStatus(try await t.post("/api/v1/outbox/\(failed.id!)/retry", [:], as: techToken), .forbidden)
            let page = try await t.get("/api/v1/outbox?state=failed")
            expectStatus(page, .ok)
            #expect(page.json["items"].array.map { $0["recipient"].string } == ["gone@contoso.example"])
            #expect(page.json["mailBlocked"].string?.contains("TANDEM_SMTP_URL") == true)
            expectStatus(try await t.get("/api/v1/outbox?state=lost"), .unprocessableEntity)

            let retried = try await t.post("/api/v1/outbox/\(failed.id!)/retry", [:])
            expectStatus(retried, .ok)
            #expect(retried.json["state"].string == "pending" && retried.json["attempts"].int == 0)
            expectStatus(try await t.post("/api/v1/outbox/\(sent.id!)/retry", [:]), .conflict)
            expectStatus(try await t.post("/api/v1/outbox/\(UUID())/retry", [:]), .notFound)
        }
    }
}

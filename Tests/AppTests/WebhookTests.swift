import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Webhooks: signed deliveries a receiver verifies, the owner's policy on every event, the SSRF
/// guard on the address (as typed, after DNS, and no redirects), the secret shown once.
@Suite struct WebhookTests {
    /// Fans the events out and delivers what is due, until nothing is left.
    static func deliver(_ t: TestApp) async throws {
        try await WebhookFanOut.run(on: t.db)
        while try await OutboxDelivery.run(on: t.db, settings: t.app.settings, group: t.app.eventLoopGroup) > 0 {}
    }

    static func allowLoopback(_ t: TestApp) {
        t.app.settings.webhookGuard = SSRFGuard(allowedRanges: [CIDRRange("127.0.0.0/8")!])
    }

    @Test func internalAndMetadataAddressesAreRefused() async throws {
        try await withApp { t in
            for url in [
                "http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/hook", "http://2130706433/hook",
                "http://0177.0.0.1/hook", "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://[::1]/hook", "http://localhost:8080/hook",
                "ftp://example.com/hook", "http://user:pw@example.com/hook",
            ] {
                let reply = try await t.post("/api/v1/webhooks", ["url": .string(url), "eventTypes": ["ticket.created"]])
                expectStatus(reply, .unprocessableEntity)
                #expect(reply.json["errors"][0]["field"].string == "url", "\(url)")
            }
            expectStatus(try await t.post("/api/v1/webhooks", ["url": "https://hooks.example.com/x", "eventTypes": ["ticket.exploded"]]), .unprocessableEntity)
            #expect(try await Webhook.query(on: t.db).count() == 0)
            // A range the administrator allows is let through.
            Self.allowLoopback(t)
            expectStatus(try await t.post("/api/v1/webhooks", ["url": "http://127.0.0.1:9/hook", "eventTypes": ["ticket.created"]]), .created)
        }
    }

    /// A name that does not resolve is tried again later (the resolver may be down for a moment), never failed for
    /// good after one attempt; `.invalid` never resolves (RFC 2606).
    @Test func aNameThatDoesNotResolveIsTriedAgain() async throws {
        await #expect(throws: WebhookDelivery.Unresolved.self) { try await WebhookDelivery.checkedAddress(host: "hooks.tandem-test.invalid", SSRFGuard()) }
        do {
            _ = try await WebhookDelivery.checkedAddress(host: "hooks.tandem-test.invalid", SSRFGuard())
        } catch {
            #expect("\(error)".contains("did not resolve") && "\(error)".contains("tried again"), "\(error)")
        }
    }

    @Test func deliveriesAreSignedAndTheSecretIsShownOnce() async throws {
        let sink = try WebhookSink()
        defer { sink.stop() }
        try await withApp { t in
            Self.allowLoopback(t)
            let created = try await t.post(
                "/api/v1/webhooks", ["url": .string("http://127.0.0.1:\(sink.port)/tandem"), "eventTypes": ["ticket.created", "note.added"]])
            expectStatus(created, .created)
            let secret = try #require(created.json["secret"].string)
            let hookId = try #require(created.json["id"].string)
            #expect(try await t.get("/api/v1/webhooks/\(hookId)").json["secret"] == .null)
            // At rest it is sealed under the vault, bound to its webhook; the plain column is empty.
            let row = try #require(try await t.db.sql.raw("SELECT secret, secret_sealed FROM webhooks WHERE id = \(bind: UUID(uuidString: hookId)!)").first())
            #expect(try row.decode(column: "secret", as: String.self) == "")
            let sealed = try row.decode(column: "secret_sealed", as: String.self)
            #expect(sealed.hasPrefix("tv1.") && !sealed.contains(secret))
            #expect(try t.db.vault().open(stored: sealed, for: WebhookSecrets.binding(UUID(uuidString: hookId)!)) == secret)

            let organization = try await t.organization("Contoso")
            let ticket = try await t.ticket(organization).id
            _ = try await t.note(ticket, "Rebooted", publishTo: "internal")
            expectStatus(try await t.patch("/api/v1/tickets/\(ticket)", ["priority": "high"]), .ok)
            try await Self.deliver(t)

            let calls = try await sink.waitFor(2)
            #expect(calls.count == 2)
            for call in calls {
                let header = try #require(call.header(WebhookSignature.headerName))
                try WebhookSignature.verify(header: header, body: Data(call.body.utf8), secret: secret, now: Int(Date().timeIntervalSince1970))
                #expect(throws: WebhookSignature.Failure.mismatch) {
                    try WebhookSignature.verify(header: header, body: Data((call.body + " ").utf8), secret: secret, now: Int(Date().timeIntervalSince1970))
                }
            }
            let types = try calls.map { try JSONDecoder().decode(JSON.self, from: Data($0.body.utf8))["event"]["type"].string }
            #expect(Set(types) == ["ticket.created", "note.added"], "the priority change is not subscribed")
            let log = try await t.get("/api/v1/webhooks/\(hookId)/deliveries")
            #expect(log.json["items"].array.map { $0["state"].string } == ["sent", "sent"])
        }
    }

    @Test func aCoManagingUsersWebhookHearsOnlyWhatTheyMaySee() async throws {
        let sink = try WebhookSink()
        defer { sink.stop() }
        try await withApp { t in
            Self.allowLoopback(t)
            try await t.setCoManagement(enabled: true)
            let contoso = try await t.coManagedOrganization("Contoso")
            let fabrikam = try await t.coManagedOrganization("Fabrikam")
            let queue = try await t.queue("Service Desk")
            let user = try await t.coManagingUser("ana", organizationId: contoso, queueIds: [queue])
            try await t.setUp(contoso, users: [user.id])
            let token = try await t.loginCoManaging(user.id, "ana")
            let hook = try await t.post(
                "/api/v1/webhooks", ["url": .string("http://127.0.0.1:\(sink.port)/ana"), "eventTypes": ["ticket.created", "note.added"]],
                as: token)
            expectStatus(hook, .created)

            let shown = try await t.ticket(contoso, "Shared", extra: ["coManagedVisible": true]).id
            let hidden = try await t.ticket(contoso, "MSP only").id
            let elsewhere = try await t.ticket(fabrikam, "Fabrikam's", extra: ["coManagedVisible": true]).id
            let internalNote = try await t.note(shown, "Internal", publishTo: "internal").id
            let sharedNote = try await t.note(shown, "Shared", publishTo: "internalAndCoManaged").id
            _ = try await t.note(hidden, "Hidden ticket's note", publishTo: "all")
            try await Self.deliver(t)

            let heard = try await sink.waitFor(2).map { try JSONDecoder().decode(JSON.self, from: Data($0.body.utf8))["event"]["entityId"].string }
            #expect(Set(heard) == [shown, sharedNote])
            #expect(!heard.contains(hidden) && !heard.contains(elsewhere) && !heard.contains(internalNote))
            // Their webhooks are theirs alone; the administrator sees them all.
            let (_, techToken) = try await t.resource("tech")
            expectStatus(try await t.get("/api/v1/webhooks", as: techToken), .forbidden)
            #expect(try await t.get("/api/v1/webhooks").json["items"].array.count == 1)
        }
    }

    @Test func redirectsAreNotFollowedAndFailuresRetry() async throws {
        let sink = try WebhookSink()
        defer { sink.stop() }
        try await withApp { t in
            Self.allowLoopback(t)
            for path in ["redirect", "fail"] {
                expectStatus(
                    try await t.post("/api/v1/webhooks", ["url": .string("http://127.0.0.1:\(sink.port)/\(path)"), "eventTypes": ["ticket.created"]]),
                    .created)
            }
            _ = try await t.ticket(try await t.organization("Contoso"))
            try await Self.deliver(t)
            #expect(try sink.calls().isEmpty, "the redirect's target is never called")
            let messages = try await OutboxMessage.query(on: t.db).all()
            let redirected = try #require(messages.first { $0.recipient.hasSuffix("/redirect") })
            #expect(redirected.state == .failed && redirected.lastError?.contains("redirects are not followed") == true)
            let failing = try #require(messages.first { $0.recipient.hasSuffix("/fail") })
            #expect(failing.state == .pending && failing.attempts == 1 && failing.lastError?.hasPrefix("500") == true)
        }
    }

    /// An upgrade: a secret an older version stored in plain text still signs, migration 076's step seals it (the
    /// receiver's secret unchanged), and a sealed secret this server's vault key does not open sends nothing.
    @Test func plainSecretsOfAnOlderVersionAreSealedAndAWrongKeySendsNothing() async throws {
        let sink = try WebhookSink()
        defer { sink.stop() }
        try await withApp { t in
            Self.allowLoopback(t)
            let created = try await t.post("/api/v1/webhooks", ["url": .string("http://127.0.0.1:\(sink.port)/old"), "eventTypes": ["ticket.created"]])
            expectStatus(created, .created)
            let hookId = try #require(created.json["id"].string.flatMap(UUID.init(uuidString:)))
            let plain = "whsec-of-an-older-version"
            try await t.db.sql.raw("UPDATE webhooks SET secret = \(bind: plain), secret_sealed = NULL WHERE id = \(bind: hookId)").run()
            let organization = try await t.organization("Contoso")
            func deliveredAndVerified(_ count: Int) async throws {
                _ = try await t.ticket(organization)
                try await Self.deliver(t)
                let calls = try await sink.waitFor(count)
                #expect(calls.count == count)
                let header = try #require(calls.last?.header(WebhookSignature.headerName))
                try WebhookSignature.verify(header: header, body: Data(calls.last!.body.utf8), secret: plain, now: Int(Date().timeIntervalSince1970))
            }
            try await deliveredAndVerified(1)

            #expect(try await SealWebhookSecrets.sealPlainSecrets(on: t.db) == 1)
            let hook = try #require(try await Webhook.find(hookId, on: t.db))
            #expect(hook.plainSecret == "" && hook.secretSealed?.contains(plain) == false)
            try await deliveredAndVerified(2)
            #expect(try await SealWebhookSecrets.sealPlainSecrets(on: t.db) == 0, "nothing plain is left")

            // Sealed under another key (a server given the wrong key file): nothing is sent, and the delivery log
            // says why without naming either key.
            let other = Vault(masterKey: .generate())
            let foreign = try other.seal(stored: plain, for: WebhookSecrets.binding(hookId))
            try await t.db.sql.raw("UPDATE webhooks SET secret_sealed = \(bind: foreign) WHERE id = \(bind: hookId)").run()
            _ = try await t.ticket(organization)
            try await Self.deliver(t)
            #expect(try sink.calls().count == 2)
            let waiting = try #require(try await OutboxMessage.query(on: t.db).filter(\.$state == .pending).first())
            #expect(waiting.lastError?.contains("the webhook's secret did not open: the vault key does not match") == true)
            #expect(waiting.lastError?.contains(other.masterKey.id) == false)
        }
    }
}

import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Notifications out of the box, through the outbox to a real SMTP server: the contact's
/// acknowledgement and replies, assignment notices, co-managing users' notes; the policy deciding
/// who hears of each item; people's own channels (SMS through the carrier's gateway).
@Suite struct NotificationTests {
    /// Runs the notifications consumer and delivers what it wrote.
    static func notify(_ t: TestApp) async throws {
        while try await Automation.run(on: t.db, settings: t.app.settings) ?? 0 > 0 {}
        while try await OutboxDelivery.run(on: t.db, settings: t.app.settings, group: t.app.eventLoopGroup) > 0 {}
    }

    /// The outbox's recipients, in the order written.
    static func recipients(_ t: TestApp) async throws -> [String] {
        try await OutboxMessage.query(on: t.db).sort(\.$id).all().map(\.recipient)
    }

    @Test func aFreshInstallAcknowledgesRepliesAndAnnouncesAssignments() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            t.app.settings.mail = sink.settings()
            let organization = try await t.organization("Contoso")
            let contact = try await t.contact(organization, "Cora", email: "cora@contoso.example")
            let (techId, _) = try await t.resource("tech")
            let ticket = try await t.ticket(organization, "Printer offline", extra: ["contactId": .string(contact)])
            try await Self.notify(t)
            var received = try await sink.waitFor(1)
            #expect(received.count == 1 && received.first?.to == ["cora@contoso.example"])
            let number = ticket["number"].int ?? 0
            #expect(received.first?.header("Subject") == "\(TicketReference.string(number: number)) We have received your request: Printer offline")
            #expect(received.first?.header("Message-ID")?.hasSuffix("@msp.example>") == true)

            _ = try await t.note(ticket.id, "Internal only", publishTo: "internal")
            _ = try await t.note(ticket.id, "We replaced the toner.", publishTo: "all")
            expectStatus(try await t.patch("/api/v1/tickets/\(ticket.id)", ["assigneeIds": [.string(techId)]]), .ok)
            try await Self.notify(t)
            received = try await sink.waitFor(3)
            #expect(received.count == 3)
            let reply = try #require(received.first { $0.header("Subject")?.contains("New reply") == true })
            #expect(reply.to == ["cora@contoso.example"] && reply.data.contains("We replaced the toner."))
            #expect(!received.contains { $0.data.contains("Internal only") }, "an internal note reaches no one outside the MSP")
            let assignment = try #require(received.first { $0.header("Subject")?.contains("Assigned to you") == true })
            #expect(assignment.to == ["tech@msp.example"])
            // The administrator made every change: no mail to them.
            #expect(!received.contains { $0.to.contains("admin@msp.example") })
            // Each event once: a second run finds nothing new.
            try await Self.notify(t)
            #expect(try sink.messages().count == 3)
        }
    }

    /// For a ticket with a note of each publish-to, who is told equals who the access policy lets read
    /// that note: the contact only `all`, the co-managing user `internalAndCoManaged` and `all`.
    @Test func whoIsToldOfANoteIsWhoMayReadIt() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let contoso = try await t.coManagedOrganization("Contoso")
            let queue = try await t.queue("Service Desk")
            let user = try await t.coManagingUser("ana", organizationId: contoso, queueIds: [queue])
            try await t.setUp(contoso, users: [user.id])
            let contact = try await t.contact(contoso, "Cora", email: "cora@contoso.example")
            let shared = try await t.ticket(contoso, "Shared", extra: ["contactId": .string(contact), "coManagedVisible": true, "queueId": .string(queue)])
            let mspOnly = try await t.ticket(contoso, "MSP only", extra: ["contactId": .string(contact)])
            while try await Automation.run(on: t.db, settings: t.app.settings) ?? 0 > 0 {}
            try await OutboxMessage.query(on: t.db).delete()

            var told: [String: [String]] = [:]
            for (ticket, name) in [(shared.id, "shared"), (mspOnly.id, "mspOnly")] {
                for publishTo in ["internal", "internalAndCoManaged", "all"] {
                    _ = try await t.note(ticket, "\(name) \(publishTo)", publishTo: publishTo)
                    while try await Automation.run(on: t.db, settings: t.app.settings) ?? 0 > 0 {}
                    told["\(name) \(publishTo)"] = try await Self.recipients(t).sorted()
                    try await OutboxMessage.query(on: t.db).delete()
                }
            }
            #expect(told["shared internal"] == [])
            #expect(told["shared internalAndCoManaged"] == ["ana@client.example"])
            #expect(told["shared all"] == ["ana@client.example", "cora@contoso.example"])
            // Not visible to co-managing users: only the contact hears, and only of `all`.
            #expect(told["mspOnly internal"] == [] && told["mspOnly internalAndCoManaged"] == [])
            #expect(told["mspOnly all"] == ["cora@contoso.example"])
        }
    }

    @Test func aPersonMayChooseSMSThroughTheirCarriersGateway() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            t.app.settings.mail = sink.settings()
            let organization = try await t.organization("Contoso")
            let site = try await t.site(organization, "HQ")
            let contact = try await t.profile(
                site, "Cora", "Contact", email: "cora@contoso.example",
                extra: ["mobileProvider": "AT&T", "smsGateway": "txt.att.com", "phones": [["number": "5550199", "countryCode": "US", "kind": "mobile"]]]
            ).id
            let token = try await t.portalLogin(contact, email: "cora@contoso.example")
            expectStatus(try await t.put("/api/v1/me/notification-settings", ["ticketAcknowledgement": "sms", "noteToContact": "none"], as: token), .ok)
            expectStatus(try await t.put("/api/v1/me/notification-settings", ["ticketAcknowledgement": "pigeon"], as: token), .unprocessableEntity)
            let mine = try await t.get("/api/v1/me/notification-settings", as: token)
            #expect(mine.json["ticketAcknowledgement"].string == "sms" && mine.json["assignment"].string == "email")

            let ticket = try await t.ticket(organization, extra: ["contactId": .string(contact)])
            _ = try await t.note(ticket.id, "Fixed.", publishTo: "all")
            try await Self.notify(t)
            let received = try await sink.waitFor(1)
            #expect(received.map(\.to) == [["5550199@txt.att.com"]], "the acknowledgement by SMS; the reply not at all")
        }
    }

    /// A subject with a line break cannot add a header, all the way to the SMTP server.
    @Test func aLineBreakInASubjectAddsNoHeader() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            t.app.settings.mail = sink.settings()
            let id = UUID.v7()
            let mail = OutgoingMail(
                from: MailAddress("helpdesk@msp.example"), to: [MailAddress("cora@contoso.example", name: "Cora\r\nBcc: y@evil.example")],
                subject: "Hi\r\nBcc: x@evil.example", text: "Body", messageId: MailMessage.messageId(id, domain: "msp.example"), date: Date())
            let message = OutboxMessage(
                channel: .email, recipient: "cora@contoso.example", subject: mail.subject, body: try MailMessage.build(mail), messageId: mail.messageId,
                at: t.db.now)
            try await message.create(on: t.db)
            try await Self.notify(t)
            let received = try #require(try await sink.waitFor(1).first)
            #expect(received.to == ["cora@contoso.example"])
            #expect(received.header("Bcc") == nil)
            #expect(!received.headers.contains { $0.name.lowercased() == "bcc" })
        }
    }

    @Test func templatesAreKeptValidatedAndReset() async throws {
        try await withApp { t in
            let (_, techToken) = try await t.resource("tech")
            expectStatus(try await t.get("/api/v1/notification-templates", as: techToken), .forbidden)
            let list = try await t.get("/api/v1/notification-templates")
            #expect(list.json.array.contains { $0["kind"] == "ticketAcknowledgement" && $0["isDefault"] == true })
            let path = "/api/v1/notification-templates/ticketAcknowledgement"
            expectStatus(try await t.put(path, ["subject": "Got it: {ticket.nonsense}", "body": "x"]), .unprocessableEntity)
            let saved = try await t.put(path, ["subject": "Got it: {ticket.title}", "body": "Hello {contact.name}"])
            expectStatus(saved, .ok)
            #expect(saved.json["isDefault"] == false)
            expectStatus(try await t.put("/api/v1/notification-templates/unknownKind", ["subject": "x", "body": "y"]), .notFound)
            let reset = try await t.delete(path)
            #expect(reset.json["isDefault"] == true)
        }
    }

    /// A ticket opened in the portal is acknowledged to the contact who opened it; a ticket created with
    /// an assignee tells the assignee once.
    @Test func aContactsOwnTicketIsAcknowledgedAndAnAssigneeToldOnce() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let contact = try await t.contact(organization, "Cora", email: "cora@contoso.example")
            let token = try await t.portalLogin(contact, email: "cora@contoso.example")
            let (techId, _) = try await t.resource("tech")
            _ = try await t.ticket(organization, "Mine", as: token)
            _ = try await t.ticket(organization, "Assigned", extra: ["assigneeIds": [.string(techId)]])
            while try await Automation.run(on: t.db, settings: t.app.settings) ?? 0 > 0 {}
            let recipients = try await Self.recipients(t)
            #expect(recipients.filter { $0 == "cora@contoso.example" }.count == 1)
            #expect(recipients.filter { $0 == "tech@msp.example" }.count == 1)
        }
    }
}

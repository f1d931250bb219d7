import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Email to ticket through `POST /api/v1/inbound/email`: new tickets, threading by reference and by
/// In-Reply-To, duplicates, loops, triage and its decisions, spoofed MSP senders, and refusals
/// that store nothing.
@Suite struct IntakeMailTests {
    static func message(
        from: String, subject: String, body: String = "Hello,\nthe printer on the 3rd floor is offline again.\n", id: String? = nil,
        extra: [String] = []
    ) -> String {
        var headers = ["From: \(from)", "To: help@msp.example", "Subject: \(subject)", "Date: Mon, 07 Dec 2026 10:00:00 +0000"]
        headers.append("Message-ID: <\(id ?? UUID().uuidString)@client.example>")
        headers += extra
        headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body.replacingOccurrences(of: "\n", with: "\r\n")
    }

    static func deliver(_ t: TestApp, _ raw: String, as token: String? = nil, live: Bool = false) async throws -> Reply {
        try await t.send(.POST, "/api/v1/inbound/email", as: token, raw: raw, headers: ["Content-Type": "message/rfc822"], live: live)
    }

    @Test func aKnownContactOpensATicketAndTheReplyThreads() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            let ann = try await t.contact(
                contoso, "Ann", email: "ann@contoso.example",
                extra: ["siteId": .string(site), "phones": [["kind": "office", "number": "2125550100", "countryCode": "US"]]])
            let first = try await Self.deliver(t, Self.message(from: "Ann Contact <Ann@Contoso.example>", subject: "Printer offline", id: "first"))
            expectStatus(first, .ok)
            #expect(first.json["outcome"] == "ticket")
            let ticketId = try #require(first.json["ticketId"].string)
            let ticket = try await t.get("/api/v1/tickets/\(ticketId)").json
            #expect(ticket["title"] == "Printer offline" && ticket["contactId"].string == ann && ticket["siteId"].string == site)
            #expect(ticket["source"] == "email" && (ticket["description"].string ?? "").contains("3rd floor is offline"))

            // The same message again (a retrying MTA): one ticket.
            let again = try await Self.deliver(t, Self.message(from: "ann@contoso.example", subject: "Printer offline", id: "first"))
            #expect(again.json["outcome"] == "duplicate" && again.json["ticketId"].string == ticketId)

            // A reply with the reference in its subject: a note published to all, without the quoted history.
            let number = ticket["number"].int ?? 0
            let reference = TicketReference.string(number: number)
            #expect(ticket["reference"].string == reference)
            let listed = try await t.get("/api/v1/tickets?limit=10").json["items"].array
            #expect(listed.first { $0["id"].string == ticketId }?["reference"].string == reference)
            let reply = try await Self.deliver(
                t,
                Self.message(
                    from: "ann@contoso.example", subject: "RE: \(reference) Printer offline",
                    body: "It works again, thanks!\n\nOn Mon, 7 Dec 2026 at 10:05, Help desk wrote:\n> We are on it.\n"))
            #expect(reply.json["outcome"] == "note" && reply.json["ticketId"].string == ticketId)
            let notes = try await t.get("/api/v1/tickets/\(ticketId)/notes").json["items"].array
            #expect(notes.count == 1 && notes[0]["publishTo"] == "all" && notes[0]["body"] == "It works again, thanks!")
            #expect(notes[0]["authorName"] == "Ann Contact")

            // A reply found by In-Reply-To alone: the Message-ID of the message that opened the ticket.
            let threaded = try await Self.deliver(
                t,
                Self.message(from: "ann@contoso.example", subject: "one more thing", body: "Also the scanner.", extra: ["In-Reply-To: <first@client.example>"]))
            #expect(threaded.json["outcome"] == "note" && threaded.json["ticketId"].string == ticketId)
        }
    }

    /// A retrying MTA may deliver one message several times at once: one ticket, the rest duplicates.
    @Test func parallelDeliveriesOfOneMessageMakeOneTicket() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            _ = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let raw = Self.message(from: "ann@contoso.example", subject: "Printer offline", id: "retried")
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 { group.addTask { try await Self.deliver(t, raw).json["outcome"].string ?? "?" } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.sorted() == ["duplicate", "duplicate", "duplicate", "duplicate", "duplicate", "duplicate", "duplicate", "ticket"])
            #expect(try await t.count("tickets") == 1)
        }
    }

    /// `tandem mail-intake-token`'s principal posts mail and reads nothing.
    @Test func theMailIntakeTokenPostsMailOnly() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            _ = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let resource = try await MailIntakeTokenCommand.principal(on: t.db, passwords: t.app.password.async)
            let again = try await MailIntakeTokenCommand.principal(on: t.db, passwords: t.app.password.async)
            #expect(again.id == resource.id, "made once")
            let (secret, _) = try await Tokens.issue(for: (resource.id!, .resource), kind: .personal, lifetime: 3600, on: t.db)
            let posted = try await Self.deliver(t, Self.message(from: "ann@contoso.example", subject: "Printer offline"), as: secret)
            #expect(posted.json["outcome"] == "ticket")
            #expect(try await t.get("/api/v1/tickets", as: secret).json["items"].array.isEmpty, "it sees no ticket")
            expectStatus(try await t.get("/api/v1/organizations/\(contoso)", as: secret), .notFound)
            expectStatus(try await t.get("/api/v1/inbound/triage", as: secret), .notFound)
        }
    }

    @Test func loopsBouncesAndAutoRepliesOpenNothing() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            _ = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let counts = try await t.rowCounts()
            let outOfOffice = try await Self.deliver(
                t, Self.message(from: "ann@contoso.example", subject: "Automatic reply: Printer offline", extra: ["Auto-Submitted: auto-replied"]))
            #expect(outOfOffice.json["outcome"] == "ignored")
            let own = try await Self.deliver(
                t,
                Self.message(
                    from: "helpdesk@tandem.localhost", subject: "[#T-000001] We have your ticket", id: "x@tandem.localhost",
                    extra: ["Auto-Submitted: auto-generated"]))
            #expect(own.json["outcome"] == "ignored")
            #expect(try await t.rowCounts() == counts, "no ticket or note")
            let (outbox, received) = (try await t.count("outbox"), try await t.count("inbound_mail"))
            #expect(outbox == 0 && received == 2)
        }
    }

    @Test func unknownSendersWaitInTriageAndAreSettledOnce() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            expectStatus(try await t.patch("/api/v1/sites/\(site)", ["clientEmailDomain": "contoso.example"]), .ok)
            // Known by the exact domain: a ticket for the site, without a contact.
            let byDomain = try await Self.deliver(t, Self.message(from: "new.hire@contoso.example", subject: "Need a laptop"))
            #expect(byDomain.json["outcome"] == "ticket")
            #expect(try await t.get("/api/v1/tickets/\(byDomain.json["ticketId"].string ?? "")").json["siteId"].string == site)
            // A look-alike domain and a public one are not Contoso's.
            let lookalike = try await Self.deliver(t, Self.message(from: "eve@contoso.example.evil.test", subject: "Wire the money"))
            #expect(lookalike.json["outcome"] == "triage")
            let gmail = try await Self.deliver(t, Self.message(from: "someone@gmail.com", subject: "My mail is down"))
            #expect(gmail.json["outcome"] == "triage" && (gmail.json["reason"].string ?? "").contains("gmail.com"))
            let triageId = try #require(gmail.json["triageId"].string)

            let list = try await t.get("/api/v1/inbound/triage").json["items"].array
            #expect(Set(list.compactMap { $0["from"].string }) == ["someone@gmail.com", "eve@contoso.example.evil.test"])
            let (_, restricted) = try await t.resource("rick", .technician, restrictions: [contoso])
            expectStatus(try await t.get("/api/v1/inbound/triage", as: restricted), .notFound)

            let accepted = try await t.post("/api/v1/inbound/triage/\(triageId)/accept", ["organizationId": .string(contoso), "siteId": .string(site)])
            expectStatus(accepted, .ok)
            #expect(accepted.json["outcome"] == "ticket")
            let ticket = try await t.get("/api/v1/tickets/\(accepted.json["ticketId"].string ?? "")").json
            #expect(ticket["title"] == "My mail is down" && ticket["organizationId"].string == contoso)
            expectStatus(try await t.post("/api/v1/inbound/triage/\(triageId)/accept", ["organizationId": .string(contoso)]), .notFound)

            let lookalikeId = try #require(lookalike.json["triageId"].string)
            expectStatus(try await t.post("/api/v1/inbound/triage/\(lookalikeId)/merge", ["ticketId": .string(UUID().uuidString)]), .notFound)
            expectStatus(try await t.send(.POST, "/api/v1/inbound/triage/\(lookalikeId)/discard"), .noContent)
            #expect(try await t.get("/api/v1/inbound/triage").json["items"].array.isEmpty)
        }
    }

    @Test func mailClaimingAnMSPResourceIsNotTrusted() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            _ = try await t.resource("tess")
            _ = try await t.contact(fabrikam, "Fred", email: "fred@fabrikam.example")
            let ticket = try await t.ticket(contoso)
            let reference = TicketReference.string(number: ticket["number"].int ?? 0)
            let spoofed = try await Self.deliver(t, Self.message(from: "tess@msp.example", subject: "RE: \(reference) closing this"))
            #expect(spoofed.json["outcome"] == "triage")
            // Fabrikam's contact names Contoso's ticket: not threaded, and no ticket of Fabrikam's either (a reply
            // quotes the ticket it answers, which Fabrikam's people would then read): triage.
            let tickets = try await Ticket.query(on: t.db).count()
            let crossed = try await Self.deliver(t, Self.message(from: "fred@fabrikam.example", subject: "RE: \(reference) see attached"))
            #expect(crossed.json["outcome"] == "triage" && crossed.json["ticketId"] == .null, "\(crossed)")
            #expect(try await Ticket.query(on: t.db).count() == tickets)
            #expect(try await t.get("/api/v1/tickets/\(ticket.id)/notes").json["items"].array.isEmpty)

            // Mail intake reaches every organization: a resource with client restrictions cannot post it.
            let (_, rita) = try await t.resource("rita", .administrator, restrictions: [fabrikam])
            let refused = try await Self.deliver(t, Self.message(from: "fred@fabrikam.example", subject: "Hi"), as: rita)
            expectProblem(refused, .forbidden)
            #expect(try await Ticket.query(on: t.db).count() == tickets)
        }
    }

    @Test func refusedMessagesStoreNothing() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            _ = try await t.contact(contoso, "Ann", email: "ann@contoso.example")
            let counts = try await t.rowCounts()
            let garbage = try await Self.deliver(t, "this is not a mail at all")
            expectStatus(garbage, .badRequest)
            #expect(garbage.contentType.hasPrefix("application/problem+json"))
            let huge = Self.message(from: "ann@contoso.example", subject: "Logs", body: String(repeating: "x", count: 26 << 20))
            expectStatus(try await Self.deliver(t, huge, live: true), .payloadTooLarge)
            let json = try await t.send(.POST, "/api/v1/inbound/email", raw: Self.message(from: "ann@contoso.example", subject: "Hi"))
            expectStatus(json, .unsupportedMediaType)
            let (_, tech) = try await t.resource("tech")
            expectStatus(try await Self.deliver(t, Self.message(from: "ann@contoso.example", subject: "Hi"), as: tech), .forbidden)
            var after = try await t.rowCounts()
            for table in ["resources", "audit_events", "events"] { after[table] = counts[table] }
            #expect(after == counts)
            #expect(try await t.count("inbound_mail") == 0)
        }
    }
}

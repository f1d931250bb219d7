import Foundation
import Testing
import VaporTesting

@testable import App

/// Contacts in the portal (SPEC §3): their own tickets, and only items published to all.
@Suite struct PortalTests {
    @Test func contactsSeeOnlyTheirOwnTicketsAndSharedItems() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: "portal-pass-2026")
            let bob = try await t.contact(northwind, "Bob", email: "bob@northwind.example")
            let carol = try await t.contact(contoso, "Carol")
            let mine = try await t.ticket(northwind, "Alice's laptop", extra: ["contactId": .string(alice)]).id
            let bobs = try await t.ticket(northwind, "Bob's phone", extra: ["contactId": .string(bob)]).id
            let other = try await t.ticket(contoso, "Carol's printer", extra: ["contactId": .string(carol)]).id
            let internalNote = try await t.note(mine, "Internal: user is VIP", publishTo: "internal").id
            let coManagedNote = try await t.note(mine, "For the client's IT", publishTo: "internalAndCoManaged").id
            let sharedNote = try await t.note(mine, "We ordered a new battery", publishTo: "all").id
            let internalTime = try await t.create("/api/v1/tickets/\(mine)/time-entries", ["minutes": 10, "summary": "Triage"]).id
            let sharedTime = try await t.create("/api/v1/tickets/\(mine)/time-entries", ["minutes": 20, "summary": "Repair", "publishTo": "all"]).id

            let token = try await t.login("alice@northwind.example", "portal-pass-2026")
            let me = try await t.get("/api/v1/me", as: token).json
            #expect(me["kind"] == "contact")
            #expect(me["id"] == .string(alice))

            // Tickets: their own only, everywhere the policy applies.
            #expect(try await allIds(t, "/api/v1/tickets", as: token) == [mine])
            #expect(try await t.get("/api/v1/tickets/count", as: token).json["count"] == 1)
            expectStatus(try await t.get("/api/v1/tickets/\(mine)", as: token), .ok)
            for hidden in [bobs, other] {
                expectProblem(try await t.get("/api/v1/tickets/\(hidden)", as: token), .notFound)
                expectProblem(try await t.get("/api/v1/tickets/\(hidden)/notes", as: token), .notFound)
            }
            #expect(try await t.get("/api/v1/search?q=phone", as: token).json["tickets"].ids == [])

            // Items: only those published to all.
            #expect(try await allIds(t, "/api/v1/tickets/\(mine)/notes", as: token) == [sharedNote])
            expectStatus(try await t.get("/api/v1/tickets/\(mine)/notes/\(sharedNote)", as: token), .ok)
            for hidden in [internalNote, coManagedNote] {
                expectProblem(try await t.get("/api/v1/tickets/\(mine)/notes/\(hidden)", as: token), .notFound)
                expectProblem(try await t.patch("/api/v1/tickets/\(mine)/notes/\(hidden)", ["body": "x"], as: token), .notFound)
            }
            #expect(try await allIds(t, "/api/v1/tickets/\(mine)/time-entries", as: token) == [sharedTime])
            expectProblem(try await t.get("/api/v1/tickets/\(mine)/time-entries/\(internalTime)", as: token), .notFound)

            // A contact's note is always published to all; asking for less is refused.
            let reply = try await t.note(mine, "Thanks, it works again", as: token)
            #expect(reply["publishTo"] == "all")
            #expect(reply["authorKind"] == "contact")
            expectProblem(
                try await t.post("/api/v1/tickets/\(mine)/notes", ["body": "secret", "publishTo": "internal"], as: token), .unprocessableEntity,
                field: "publishTo")
            expectProblem(
                try await t.post("/api/v1/tickets/\(mine)/notes", ["body": "secret", "publishTo": "internalAndCoManaged"], as: token),
                .unprocessableEntity, field: "publishTo")

            // Reading is not changing: the contact's portal does not edit tickets or items or log time.
            expectProblem(try await t.patch("/api/v1/tickets/\(mine)", ["priority": "critical"], as: token), .forbidden)
            expectProblem(try await t.delete("/api/v1/tickets/\(mine)/notes/\(sharedNote)", as: token), .forbidden)
            expectProblem(try await t.post("/api/v1/tickets/\(mine)/time-entries", ["minutes": 5, "summary": "x"], as: token), .forbidden)

            // The rest of the directory: their organization and themselves; no staff, no configuration, no audit log.
            #expect(try await allIds(t, "/api/v1/organizations", as: token) == [northwind])
            #expect(try await allIds(t, "/api/v1/contacts", as: token) == [alice])
            expectProblem(try await t.get("/api/v1/contacts/\(bob)", as: token), .notFound)
            #expect(try await allIds(t, "/api/v1/resources", as: token) == [])
            #expect(try await allIds(t, "/api/v1/audit-events", as: token) == [])
            #expect(try await allIds(t, "/api/v1/queues", as: token) == [])

            // Nor do they filter their tickets by a field they are not shown: that would tell which are in a queue,
            // or assigned to someone whose id they hold.
            for filter in ["queueId", "assigneeId"] {
                for path in ["/api/v1/tickets", "/api/v1/tickets/count"] {
                    let refused = try await t.get("\(path)?\(filter)=\(UUID())", as: token)
                    expectProblem(refused, .unprocessableEntity)
                    #expect(refused.json["errors"][0]["field"] == .string(filter), "\(refused)")
                }
                expectStatus(try await t.get("/api/v1/tickets?\(filter)=\(UUID())"), .ok)
            }
        }
    }

    @Test func contactsOpenTicketsForThemselves() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: "portal-pass-2026")
            let bob = try await t.contact(northwind, "Bob")
            let token = try await t.login("alice@northwind.example", "portal-pass-2026")

            let ticket = try await t.ticket(northwind, "Screen flickers", as: token)
            #expect(ticket["contactId"] == .string(alice))
            #expect(ticket["source"] == "portal")
            #expect(ticket["status"] == "new")

            let before = try await t.rowCounts()
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(contoso), "title": "x"], as: token), .unprocessableEntity,
                field: "organizationId")
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(northwind), "title": "x", "contactId": .string(bob)], as: token),
                .unprocessableEntity, field: "contactId")
            let queue = try await t.create("/api/v1/queues", ["name": "Service Desk"]).id
            let afterQueue = try await t.rowCounts()
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(northwind), "title": "x", "queueId": .string(queue)], as: token),
                .unprocessableEntity, field: "queueId")
            #expect(try await t.rowCounts() == afterQueue)
            #expect(before["tickets"] == afterQueue["tickets"])
        }
    }

    @Test func organizationWidePortalShowsTheOrganizationsTickets() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: "portal-pass-2026")
            let bob = try await t.contact(northwind, "Bob")
            let bobs = try await t.ticket(northwind, "Bob's phone", extra: ["contactId": .string(bob)]).id
            let unassigned = try await t.ticket(northwind, "Office Wi-Fi").id
            let other = try await t.ticket(contoso, "Contoso printer").id
            let token = try await t.login("alice@northwind.example", "portal-pass-2026")
            #expect(try await allIds(t, "/api/v1/tickets", as: token) == [])

            expectStatus(try await t.patch("/api/v1/contacts/\(alice)", ["portalOrganizationWide": true]), .ok)
            #expect(Set(try await allIds(t, "/api/v1/tickets", as: token)) == [bobs, unassigned])
            expectProblem(try await t.get("/api/v1/tickets/\(other)", as: token), .notFound)
        }
    }
}

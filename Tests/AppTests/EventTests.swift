import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Domain events: every change records exactly its events in its own transaction, a refused or
/// rolled-back change none; the feed pages in position order under the policy; consumers resume
/// and never handle an event twice.
@Suite struct EventTests {
    /// The events after `after`, read straight from the table (type, entity, data), in position order.
    static func stored(_ t: TestApp, after: Int = 0) async throws -> [EventDTO] {
        try await Events.after(after, limit: .max, on: t.db)
    }

    static func lastPosition(_ t: TestApp) async throws -> Int {
        try await stored(t).last?.position ?? 0
    }

    /// Runs `change` and answers the events it recorded.
    static func events(_ t: TestApp, of change: () async throws -> Void) async throws -> [EventDTO] {
        let before = try await lastPosition(t)
        try await change()
        return try await stored(t, after: before)
    }

    /// The whole feed as `token` reads it, page by page.
    static func feed(_ t: TestApp, as token: String? = nil, limit: Int = 7) async throws -> [JSON] {
        var items: [JSON] = [], after = "0"
        while true {
            let page = try await t.get("/api/v1/events?after=\(after)&limit=\(limit)", as: token)
            guard page.status == .ok, let next = page.json["nextCursor"].string else { throw TestSetupError("feed answered \(page)") }
            items += page.json["items"].array
            if next == after { return items }
            after = next
        }
    }

    @Test func everyKindOfTicketChangeRecordsItsEvents() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let (techId, _) = try await t.resource("tech")
            var ticketId = ""
            let created = try await Self.events(t) { ticketId = try await t.ticket(organizationId).id }
            #expect(created.map(\.type) == ["ticket.created"])
            #expect(created.first?.entityId?.uuidString == ticketId && created.first?.ticketId?.uuidString == ticketId)
            #expect(created.first?.organizationId?.uuidString == organizationId)
            #expect(created.first?.actorId?.uuidString == t.adminId && created.first?.actorKind == "resource")

            let path = "/api/v1/tickets/\(ticketId)"
            let fields = try await Self.events(t) { expectStatus(try await t.patch(path, ["title": "Printer on fire", "priority": "high"]), .ok) }
            #expect(fields.map(\.type) == ["ticket.updated"])
            #expect(fields.first?.data?.fields == ["title", "priority"])

            let status = try await Self.events(t) { expectStatus(try await t.patch(path, ["status": "inProgress"]), .ok) }
            #expect(status.map(\.type) == ["ticket.statusChanged"])
            #expect(status.first?.data == DomainEventData(from: "new", to: "inProgress"))

            let assigned = try await Self.events(t) { expectStatus(try await t.patch(path, ["assigneeIds": [.string(techId)]]), .ok) }
            #expect(assigned.map(\.type) == ["ticket.assigned"])
            #expect(assigned.first?.data == DomainEventData(added: [UUID(uuidString: techId)!], removed: []))

            // One PATCH of three kinds of change: one event of each kind.
            let all = try await Self.events(t) {
                expectStatus(try await t.patch(path, ["dueAt": "2027-01-04T09:00:00Z", "status": "waitingCustomer", "assigneeIds": .null]), .ok)
            }
            #expect(all.map(\.type) == ["ticket.updated", "ticket.statusChanged", "ticket.assigned"])
            #expect(all.first?.data?.fields == ["dueAt"])
            #expect(all.last?.data == DomainEventData(added: [], removed: [UUID(uuidString: techId)!]))

            // A PATCH that changes nothing is no event (the audit log still has it).
            #expect(try await Self.events(t) { expectStatus(try await t.patch(path, ["title": "Printer on fire"]), .ok) }.isEmpty)

            // Items: added, updated, deleted, each with its publish-to.
            let fileContent = Data("log".utf8).base64EncodedString()
            for (collection, body, update, kind) in [
                ("notes", ["body": "Checked", "publishTo": "all"] as JSON, ["body": "Checked twice"] as JSON, "note"),
                ("time-entries", ["minutes": 15, "summary": "Remote session", "publishTo": "internalAndCoManaged"], ["minutes": 20], "timeEntry"),
                (
                    "attachments", ["filename": "log.txt", "contentType": "text/plain", "content": .string(fileContent), "publishTo": "internal"],
                    ["filename": "printer.txt"], "attachment"
                ),
            ] {
                var itemId = ""
                let added = try await Self.events(t) { itemId = try await t.create("\(path)/\(collection)", body).id }
                #expect(added.map(\.type) == ["\(kind).added"])
                #expect(added.first?.entityId?.uuidString == itemId && added.first?.ticketId?.uuidString == ticketId)
                #expect(added.first?.publishTo == body["publishTo"].string)
                let updated = try await Self.events(t) { expectStatus(try await t.patch("\(path)/\(collection)/\(itemId)", update), .ok) }
                #expect(updated.map(\.type) == ["\(kind).updated"])
                let deleted = try await Self.events(t) { expectStatus(try await t.delete("\(path)/\(collection)/\(itemId)"), .noContent) }
                #expect(deleted.map(\.type) == ["\(kind).deleted"])
            }

            let gone = try await Self.events(t) { expectStatus(try await t.delete(path), .noContent) }
            #expect(gone.map(\.type) == ["ticket.deleted"])
            #expect(gone.first?.organizationId?.uuidString == organizationId)

            // A new ticket with assignees: created, then assigned.
            let withAssignee = try await Self.events(t) { try await t.ticket(organizationId, extra: ["assigneeIds": [.string(techId)]]) }
            #expect(withAssignee.map(\.type) == ["ticket.created", "ticket.assigned"])

            // Every event has the audit entry of its change: nothing records one without the other.
            let audited = try await t.count("audit_events"), events = try await Self.stored(t)
            #expect(audited >= events.count)
            #expect(events.map(\.position) == events.map(\.position).sorted() && Set(events.map(\.position)).count == events.count)
        }
    }

    @Test func refusedAndRolledBackChangesRecordNoEvent() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let ticket = try await t.ticket(organizationId)
            let path = "/api/v1/tickets/\(ticket.id)"
            let before = try await t.rowCounts()
            // Refused by validation, by the version check, by the state machine, by a reference that does not exist.
            expectProblem(try await t.patch(path, ["title": ""]), .unprocessableEntity, field: "title")
            expectProblem(try await t.patch(path, ["title": "Lost"], headers: ["If-Match": "\"7\""]), .preconditionFailed)
            expectProblem(try await t.patch(path, ["status": "closed"]), .unprocessableEntity, field: "status")
            expectProblem(try await t.post("/api/v1/tickets", ["organizationId": .string(UUID().uuidString), "title": "Nowhere"]), .unprocessableEntity)
            expectProblem(try await t.patch(path, ["assigneeIds": [.string(UUID().uuidString)]]), .unprocessableEntity, field: "assigneeIds")
            #expect(try await t.rowCounts() == before)

            // A change that fails after its events were written rolls them back with it.
            let admin = try await t.adminPrincipal()
            await #expect(throws: TandemError.self) {
                try await t.db.write { db in
                    try await Audit.record("updated", Contact.schema, id: UUID(), by: admin, organizationId: UUID(uuidString: organizationId), on: db)
                    #expect(try await db.sql.raw("SELECT COUNT(*) AS n FROM events").first()?.decode(column: "n", as: Int.self) == before["events"]! + 1)
                    throw TandemError.conflict("fails after its events")
                }
            }
            #expect(try await t.rowCounts() == before)
        }
    }

    @Test func coManagementAndProfileChangesRecordTheirEvents() async throws {
        try await withApp { t in
            let enabled = try await Self.events(t) { try await t.setCoManagement(enabled: true) }
            #expect(enabled.map(\.type) == ["coManagement.activated"])
            let organizationId = try await t.coManagedOrganization("Contoso")
            let queue = try await t.queue("Service Desk")
            var user = JSON.null
            let created = try await Self.events(t) { user = try await t.coManagingUser("ana", organizationId: organizationId, queueIds: [queue]) }
            #expect(created.map(\.type).contains("coManagingUser.created"))
            #expect(created.first { $0.type == "coManagingUser.created" }?.organizationId?.uuidString == organizationId)

            var contactId = ""
            #expect(try await Self.events(t) { contactId = try await t.contact(organizationId, "Cora") }.map(\.type) == ["contact.created"])
            #expect(
                try await Self.events(t) { expectStatus(try await t.patch("/api/v1/contacts/\(contactId)", ["firstName": "Corinna"]), .ok) }
                    .map(\.type) == ["contact.updated"])
            #expect(
                try await Self.events(t) { expectStatus(try await t.delete("/api/v1/contacts/\(contactId)"), .noContent) }.map(\.type) == ["contact.deleted"])

            // Erasure goes through the pipeline: the user's tickets lose them, with one event each.
            try await t.setUp(organizationId, users: [user.id])
            let ticket = try await t.ticket(organizationId, extra: ["coManagedVisible": true, "assigneeIds": [.string(user.id)]])
            let versionBefore = ticket["version"].int
            let erased = try await Self.events(t) { expectStatus(try await t.delete("/api/v1/co-managing-users/\(user.id)"), .noContent) }
            #expect(erased.map(\.type).suffix(2) == ["ticket.assigned", "coManagingUser.erased"])
            #expect(erased.first { $0.type == "ticket.assigned" }?.data == DomainEventData(added: [], removed: [UUID(uuidString: user.id)!]))
            let after = try await t.get("/api/v1/tickets/\(ticket.id)").json
            #expect(after["assigneeIds"] == JSON([String]()))
            #expect(after["version"].int == versionBefore.map { $0 + 1 }, "an unassignment is a new version of the ticket")
        }
    }

    @Test func concurrentWritesGetDistinctPositionsInCommitOrder() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for number in 0..<40 { group.addTask { try await t.ticket(organizationId, "Parallel \(number)").id } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            let events = try await Self.stored(t).filter { $0.type == "ticket.created" }
            #expect(Set(events.compactMap { $0.entityId?.uuidString }) == Set(ids))
            #expect(events.count == ids.count, "one event per ticket")
            // Positions follow the ticket numbers: a reader that has seen a position has seen every earlier commit.
            var numbers: [Int] = []
            for event in events { numbers.append(try await t.get("/api/v1/tickets/\(event.entityId!.uuidString)").json["number"].int ?? 0) }
            #expect(numbers == numbers.sorted())
        }
    }

    @Test func theFeedPagesAndRefusesBadInput() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            for number in 0..<5 { try await t.ticket(organizationId, "Ticket \(number)") }
            let first = try await t.get("/api/v1/events?limit=2")
            expectStatus(first, .ok)
            #expect(first.json["items"].array.count == 2)
            let next = try #require(first.json["nextCursor"].string)
            #expect(Int(next) == first.json["items"][1]["position"].int)
            let all = try await Self.feed(t)
            #expect(all.map { $0["position"].int ?? 0 } == all.map { $0["position"].int ?? 0 }.sorted())
            #expect(all.filter { $0["type"] == "ticket.created" }.count == 5)
            // At the end the cursor stays where it is, to poll from.
            let end = try #require(all.last?["position"].int)
            let tail = try await t.get("/api/v1/events?after=\(end)")
            #expect(tail.json["items"].array.isEmpty && tail.json["nextCursor"].string == String(end))
            for query in ["after=-1", "after=x", "limit=0", "limit=1001"] {
                expectProblem(try await t.get("/api/v1/events?\(query)"), .unprocessableEntity, field: String(query.prefix { $0 != "=" }))
            }
            expectStatus(try await t.get("/api/v1/events", as: ""), .unauthorized)
        }
    }

    /// What a contact and a co-managing user read: their tickets' events, never an internal item's,
    /// never fields or assignees they are not shown, never anyone else's organization.
    @Test func restrictedReadersSeeOnlyWhatThePolicyShowsThem() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let contoso = try await t.coManagedOrganization("Contoso")
            let fabrikam = try await t.coManagedOrganization("Fabrikam")
            let queue = try await t.queue("Service Desk")
            let user = try await t.coManagingUser("ana", organizationId: contoso, queueIds: [queue])
            try await t.setUp(contoso, users: [user.id])
            let (techId, _) = try await t.resource("tech")
            let contactId = try await t.contact(contoso, "Cora")
            let contactToken = try await t.portalLogin(contactId, email: "cora@contoso.example")
            let userToken = try await t.loginCoManaging(user.id, "ana")

            let mine = try await t.ticket(contoso, "Cora's printer", extra: ["contactId": .string(contactId), "coManagedVisible": true]).id
            let hidden = try await t.ticket(contoso, "MSP only").id
            let elsewhere = try await t.ticket(fabrikam, "Fabrikam's", extra: ["coManagedVisible": true]).id
            let internalNote = try await t.note(mine, "Internal", publishTo: "internal").id
            let shared = try await t.note(mine, "Shared", publishTo: "internalAndCoManaged").id
            let everyone = try await t.note(mine, "Everyone", publishTo: "all").id
            expectStatus(try await t.patch("/api/v1/tickets/\(mine)", ["queueId": .string(queue)]), .ok)
            expectStatus(try await t.patch("/api/v1/tickets/\(mine)", ["assigneeIds": [.string(techId)], "priority": "high"]), .ok)

            func seen(_ token: String) async throws -> [String: [String]] {
                var byEntity: [String: [String]] = [:]
                for event in try await Self.feed(t, as: token) { byEntity[event["entityId"].string ?? "", default: []].append(event["type"].string ?? "") }
                return byEntity
            }
            let contact = try await seen(contactToken)
            #expect(contact[mine] == ["ticket.created", "ticket.updated"], "the queue change is hidden; the priority change shows")
            #expect(contact[everyone] == ["note.added"])
            #expect(contact[internalNote] == nil && contact[shared] == nil && contact[hidden] == nil && contact[elsewhere] == nil)
            #expect(contact.keys.allSatisfy { [mine, everyone].contains($0) }, "a contact reads its tickets' events only")
            let fieldsShown = try await Self.feed(t, as: contactToken).first { $0["type"] == "ticket.updated" }?["data"]["fields"]
            #expect(fieldsShown == JSON(["priority"]))

            let coManaging = try await seen(userToken)
            #expect(coManaging[mine] == ["ticket.created", "ticket.updated", "ticket.updated", "ticket.assigned"])
            #expect(coManaging[shared] == ["note.added"] && coManaging[everyone] == ["note.added"])
            #expect(coManaging[internalNote] == nil && coManaging[hidden] == nil && coManaging[elsewhere] == nil)

            let admin = try await seen(t.adminToken)
            for id in [mine, hidden, elsewhere, internalNote, shared, everyone] { #expect(admin[id] != nil) }
        }
    }

    @Test func consumersResumeAndHandleEachEventOnce() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            for number in 0..<30 { try await t.ticket(organizationId, "Ticket \(number)") }
            let total = try await Self.stored(t).count

            actor Seen {
                var positions: [Int] = []
                func add(_ more: [Int]) { positions += more }
            }
            let seen = Seen()
            // Two instances of one consumer run side by side until the backlog is done.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        var idle = 0
                        while idle < 3 {
                            let handled = try await EventConsumers.run("test-consumer", limit: 4, on: t.db) { events, _ in
                                await seen.add(events.map(\.position))
                            }
                            if handled == 0 { idle += 1 } else { idle = 0 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let positions = await seen.positions
            #expect(positions.count == total, "every event once")
            #expect(Set(positions).count == positions.count, "no event twice")
            #expect(positions == positions.sorted())

            // After a restart (a new run) it resumes where it stopped: only new events.
            try await t.ticket(organizationId, "After the restart")
            let resumed = Seen()
            _ = try await EventConsumers.run("test-consumer", on: t.db) { events, _ in await resumed.add(events.map(\.position)) }
            #expect(await resumed.positions.count == 1)

            // A consumer whose work fails moves no cursor: the events come again.
            let retried = Seen()
            await #expect(throws: TandemError.self) {
                try await EventConsumers.run("failing", on: t.db) { _, _ in throw TandemError.conflict("fails") }
            }
            _ = try await EventConsumers.run("failing", limit: 1000, on: t.db) { events, _ in await retried.add(events.map(\.position)) }
            #expect(await retried.positions.count == total + 1)
        }
    }

    /// A ticket created on the fast path (no assignees: one statement for the row, its audit and its event) dates its
    /// audit and domain events as the ticket, by the application's clock, not the machine's.
    @Test func aNewTicketsEventsAreDatedByTheApplicationsClock() async throws {
        let clock = SetClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(clock: clock) { t in
            let ticket = try await t.ticket(try await t.organization("Contoso"), "Printer")
            #expect(ticket["createdAt"] == "2026-09-21T14:13:20Z")
            let event = try #require(try await t.get("/api/v1/events?limit=200").json["items"].array.first { $0["type"] == "ticket.created" })
            #expect(event["at"] == ticket["createdAt"])
            let audit = try await t.get("/api/v1/audit-events?ticketId=\(ticket.id)").json["items"].array
            #expect(audit.map { $0["at"] } == [ticket["createdAt"]])
        }
    }

    /// Of two instances, the one holding a consumer's lease plans its events; the other skips without reading them
    /// (it used to plan the same batch and throw it away). A lease its holder never released (a dead instance) is
    /// taken over once it ends; a run that failed releases it at once.
    @Test func aConsumersLeaseKeepsOtherInstancesFromPlanningTheSameEvents() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let organizationId = try await t.organization("Contoso")
            for number in 0..<3 { try await t.ticket(organizationId, "Ticket \(number)") }

            actor Planned {
                var by: [String] = []
                func add(_ owner: String) { by.append(owner) }
            }
            let planned = Planned()
            let (planning, started) = AsyncStream.makeStream(of: Void.self)
            let (finish, release) = AsyncStream.makeStream(of: Void.self)
            @Sendable func run(_ owner: String, waiting: Bool = false) async throws -> Int? {
                try await EventConsumers.run(
                    "leased", limit: 2, on: t.db, owner: owner,
                    prepare: { events, _ in
                        await planned.add(owner)
                        if waiting {
                            started.yield()
                            for await _ in finish { break }
                        }
                        return events.count
                    }, apply: { _, _ in })
            }
            let first = Task { try await run("instance-a", waiting: true) }
            for await _ in planning { break }
            // While a plans, b finds the consumer held: nil, and it planned nothing.
            #expect(try await run("instance-b") == nil)
            #expect(await planned.by == ["instance-a"])
            release.yield()
            #expect(try await first.value == 2)
            // a's write released the lease: b runs the next batch.
            #expect(try await run("instance-b") ?? 0 > 0)
            #expect(await planned.by == ["instance-a", "instance-b"])

            // A lease whose holder died: the others skip it until it ends, then take it.
            try await t.ticket(organizationId, "While a holds it")
            try await t.db.sql.raw(
                "UPDATE event_consumers SET claimed_by = 'dead', claimed_until = \(bind: t.db.now.addingTimeInterval(EventConsumers.lease)) WHERE name = 'leased'"
            ).run()
            #expect(try await run("instance-b") == nil)
            clock.advance(by: EventConsumers.lease + 1)
            #expect(try await run("instance-b") ?? 0 > 0)

            // A run that fails lets another instance in at once.
            try await t.ticket(organizationId, "Fails first")
            await #expect(throws: TandemError.self) {
                try await EventConsumers.run("leased", on: t.db, owner: "instance-a") { _, _ in throw TandemError.conflict("fails") }
            }
            #expect(try await run("instance-b") ?? 0 > 0)
        }
    }
}

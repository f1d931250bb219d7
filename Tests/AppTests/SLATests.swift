import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// SLA policies, a ticket's clocks in business hours, the SLA watch's events (once, also with two passes at
/// once) and the responsibility handoff, through the API on both databases.
@Suite struct SLATests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    /// Monday 2026-12-07 09:00 in New York (EST).
    static let monday = date("2026-12-07T14:00:00Z")

    /// New York office hours, Monday to Friday 08:00–18:00; a site there; the organization's policy for
    /// high priority: first response in 60 business minutes, resolution in 600.
    struct Office {
        var organization: String
        var site: String
        var policy: String
    }

    static func office(_ t: TestApp, organization: String? = nil) async throws -> Office {
        let organization = if let organization { organization } else { try await t.organization("Contoso") }
        let location = try await t.create(
            "/api/v1/internal-locations",
            [
                "name": .string("New York \(organization.prefix(8))"), "timeZone": "America/New_York",
                "businessHours": .array((1...5).map { ["weekday": .number(Double($0)), "start": "08:00", "end": "18:00"] }),
            ]
        ).id
        let site = try await t.site(organization, "HQ")
        try await t.must(.ok, .PATCH, "/api/v1/sites/\(site)", ["internalLocationId": .string(location)])
        let policy = try await t.create(
            "/api/v1/sla-policies",
            ["organizationId": .string(organization), "priority": "high", "firstResponseMinutes": 60, "resolutionMinutes": 600]
        ).id
        return Office(organization: organization, site: site, policy: policy)
    }

    static func watch(_ t: TestApp) async throws -> Int { try await SLAWatch.run(on: t.db, interval: 0) ?? 0 }

    static func events(_ t: TestApp, _ type: String) async throws -> [JSON] {
        try await t.get("/api/v1/events?limit=1000").json["items"].array.filter { $0["type"].string == type }
    }

    static func target(_ sla: JSON, _ name: String) -> JSON {
        sla["targets"].array.first { $0["target"].string == name } ?? .null
    }

    // MARK: Policies

    @Test func policiesAreValidatedAndOnePerOrganizationAndPriority() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let body: JSON = ["organizationId": .string(contoso), "priority": "high", "firstResponseMinutes": 60, "resolutionMinutes": 480]
            let created = try await t.create("/api/v1/sla-policies", body)
            #expect(created["approachingPercent"] == 80)
            expectStatus(try await t.post("/api/v1/sla-policies", body), .conflict)
            let counts = try await t.rowCounts()
            let cases: [(JSON, String)] = [
                (body.merging(["priority": "urgent"]), "priority"),
                (body.merging(["priority": "low", "resolutionMinutes": 30]), "resolutionMinutes"),
                (body.merging(["priority": "low", "firstResponseMinutes": 0]), "firstResponseMinutes"),
                (body.merging(["priority": "low", "approachingPercent": 100]), "approachingPercent"),
                (body.merging(["priority": "low", "organizationId": .string(UUID().uuidString)]), "organizationId"),
                (["priority": "low", "firstResponseMinutes": 60, "resolutionMinutes": 480], "organizationId"),
            ]
            for (bad, field) in cases {
                let reply = try await t.post("/api/v1/sla-policies", bad)
                #expect(reply.status == .unprocessableEntity && reply.json["errors"].array.contains { $0["field"].string == field }, "\(field): \(reply)")
            }
            #expect(try await t.rowCounts() == counts, "a refused policy writes nothing")
            let changed = try await t.must(.ok, .PATCH, "/api/v1/sla-policies/\(created.id)", ["resolutionMinutes": 900, "approachingPercent": 75])
            #expect(changed["resolutionMinutes"] == 900 && changed["approachingPercent"] == 75 && changed["firstResponseMinutes"] == 60)
            expectStatus(try await t.patch("/api/v1/sla-policies/\(created.id)", ["resolutionMinutes": 10]), .unprocessableEntity)
            expectStatus(try await t.delete("/api/v1/sla-policies/\(created.id)"), .noContent)
            expectStatus(try await t.get("/api/v1/sla-policies/\(created.id)"), .notFound)
        }
    }

    /// An internal location's hours may run past midnight (night shifts); the same start and end, or a start at
    /// 24:00, are refused beside the day.
    @Test func internalLocationsTakeOvernightHours() async throws {
        try await withApp { t in
            let nights = try await t.create(
                "/api/v1/internal-locations",
                ["name": "Night desk", "timeZone": "Europe/London", "businessHours": [["weekday": 1, "start": "22:00", "end": "06:00"]]])
            #expect(nights["businessHours"][0]["end"] == "06:00")
            for (start, end, field) in [("09:00", "09:00", "businessHours[0]"), ("24:00", "06:00", "businessHours[0].start")] {
                let reply = try await t.post(
                    "/api/v1/internal-locations",
                    ["name": "Bad", "timeZone": "Europe/London", "businessHours": [["weekday": 1, "start": .string(start), "end": .string(end)]]])
                #expect(
                    reply.status == .unprocessableEntity && reply.json["errors"].array.contains { $0["field"].string == field }, "\(start)–\(end): \(reply)")
            }
        }
    }

    /// Who reads and changes policies: MSP staff read them within their client restrictions; `manageSettings`
    /// changes them; co-managing users and contacts reach none (404, empty lists).
    @Test func policyAccessMatrix() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let contoso = try await t.coManagedOrganization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            var policies: [String: String] = [:]
            for organization in [contoso, fabrikam] {
                policies[organization] = try await t.create(
                    "/api/v1/sla-policies",
                    ["organizationId": .string(organization), "priority": "medium", "firstResponseMinutes": 30, "resolutionMinutes": 240]
                ).id
            }
            let technician = try await t.resource("tess").token
            let restricted = try await t.resource("rick", .administrator, restrictions: [contoso]).token
            let queue = try await t.queue("Service desk")
            let nina = try await t.coManagingUser("nina", organizationId: contoso, queueIds: [queue])
            try await t.setUp(contoso, users: [nina.id])
            let coManaging = try await t.loginCoManaging(nina.id, "nina")
            let contact = try await t.contact(contoso, "Pat")
            let portal = try await t.portalLogin(contact, email: "pat@contoso.example", organizationWide: true)

            // principal → (policies it reads, whether it may change them)
            let expected: [(String, String?, Set<String>, Bool)] = [
                ("admin", nil, [contoso, fabrikam], true),
                ("technician", technician, [contoso, fabrikam], false),
                ("restricted admin", restricted, [contoso], true),
                ("co-managing user", coManaging, [], false),
                ("contact", portal, [], false),
            ]
            for (name, token, reads, changes) in expected {
                let listed = Set(try await t.get("/api/v1/sla-policies", as: token).json["items"].array.compactMap { $0["organizationId"].string })
                #expect(listed == reads, "\(name) lists")
                for organization in [contoso, fabrikam] {
                    let id = policies[organization]!
                    let read = try await t.get("/api/v1/sla-policies/\(id)", as: token)
                    #expect(read.status == (reads.contains(organization) ? .ok : .notFound), "\(name) reads \(organization)")
                    let patch = try await t.patch("/api/v1/sla-policies/\(id)", ["firstResponseMinutes": 31], as: token)
                    let status: HTTPStatus = !reads.contains(organization) ? .notFound : changes ? .ok : .forbidden
                    #expect(patch.status == status, "\(name) changes \(organization): \(patch)")
                }
                let create = try await t.post(
                    "/api/v1/sla-policies",
                    ["organizationId": .string(fabrikam), "priority": "low", "firstResponseMinutes": 30, "resolutionMinutes": 60], as: token)
                // A restricted admin does not reach Fabrikam: an unknown organization, as the policy sees it.
                let created: HTTPStatus = name == "admin" ? .created : name == "restricted admin" ? .unprocessableEntity : .forbidden
                #expect(create.status == created, "\(name) creates: \(create)")
            }
        }
    }

    /// A ticket's clocks are read exactly by those who read the ticket (matrix: principals × tickets), and the
    /// handoff answers 404 to those who do not see the ticket, 403 to contacts, never more than the ticket tells.
    @Test func ticketSLAMatrixFollowsTheTicket() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue])
            try await t.setUp(northwind, users: [nina.id])
            let pat = try await t.contact(northwind, "Pat"), sam = try await t.contact(northwind, "Sam")
            let tickets: [String: String] = [
                "co-managed": try await t.ticket(
                    northwind, extra: ["coManagedVisible": true, "queueId": .string(queue), "contactId": .string(pat), "priority": "high"]
                ).id,
                "hidden from client IT": try await t.ticket(northwind, extra: ["queueId": .string(queue), "contactId": .string(sam)]).id,
                "Contoso": try await t.ticket(contoso).id,
            ]
            let policy = try await t.create(
                "/api/v1/sla-policies", ["organizationId": .string(northwind), "priority": "high", "firstResponseMinutes": 60, "resolutionMinutes": 480]
            ).id
            let principals: [(String, String?)] = [
                ("admin", nil), ("technician", try await t.resource("tess").token),
                ("restricted", try await t.resource("rick", .technician, restrictions: [contoso]).token),
                ("co-managing user", try await t.loginCoManaging(nina.id, "nina")),
                ("contact Pat", try await t.portalLogin(pat, email: "pat@northwind.example")),
                ("contact Sam", try await t.portalLogin(sam, email: "sam@northwind.example")),
            ]
            var seen = 0
            for (name, token) in principals {
                for (label, id) in tickets {
                    let ticket = try await t.get("/api/v1/tickets/\(id)", as: token).status
                    let sla = try await t.get("/api/v1/tickets/\(id)/sla", as: token)
                    #expect(sla.status == ticket, "\(name) reads \(label)'s SLA as the ticket: \(sla)")
                    if ticket == .ok { seen += 1 }
                    if label == "co-managed", ticket == .ok {
                        // The targets show to all who read the ticket; the policy's id only to those who may open it.
                        #expect(!sla.json["targets"].array.isEmpty, "\(name): \(sla)")
                        let staff = name == "admin" || name == "technician"
                        #expect(sla.json["policyId"] == (staff ? .string(policy) : .null), "\(name): \(sla)")
                    }
                    if ticket == .notFound {
                        expectStatus(try await t.post("/api/v1/tickets/\(id)/handoff", ["to": "clientIT"], as: token), .notFound)
                    }
                }
            }
            #expect(seen == 3 + 3 + 1 + 1 + 1 + 1, "the matrix holds both answers")
        }
    }

    // MARK: Clocks and the watch

    /// Business hours, the pause in "waiting customer", the first response, and the watch's events: once each,
    /// also on later passes (a restart reads the same table), and the rules they trigger.
    @Test func clocksRunInBusinessHoursAndTheWatchTellsOnce() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            for (trigger, text) in [("slaApproaching", "SLA approaching."), ("slaBreached", "SLA breached.")] {
                try await t.must(
                    .created, .POST, "/api/v1/workflow-rules",
                    [
                        "name": .string(text), "triggers": [.string(trigger)],
                        "actions": ["addNote": ["text": .string(text), "publishTo": "internal"]],
                    ])
            }
            for kind in ["slaApproaching", "slaBreached"] {
                try await t.must(
                    .created, .POST, "/api/v1/workflow-rules",
                    [
                        "name": .string("Tell the assignees: \(kind)"), "triggers": [.string(kind)],
                        "actions": ["notify": [["kind": .string(kind), "roles": ["assignees"]]]],
                    ])
            }
            let tara = try await t.resource("tara").id
            let ticket = try await t.ticket(
                office.organization, extra: ["siteId": .string(office.site), "priority": "high", "assigneeIds": [.string(tara)]]
            ).id
            let other = try await t.ticket(office.organization, "No policy for low", extra: ["priority": "low"]).id
            #expect(try await t.get("/api/v1/tickets/\(other)/sla").json["targets"].array.isEmpty)

            clock.advance(by: 30 * 60)  // 09:30
            var sla = try await t.get("/api/v1/tickets/\(ticket)/sla").json
            #expect(sla["responsibleSide"] == "msp" && sla["timeZone"] == "America/New_York" && sla["policyId"].string == office.policy)
            #expect(Self.target(sla, "firstResponse")["state"] == "running" && Self.target(sla, "firstResponse")["elapsedMinutes"] == 30)
            #expect(Self.target(sla, "firstResponse")["dueAt"].string == "2026-12-07T15:00:00Z")
            #expect(try await Self.watch(t) == 0)

            clock.advance(by: 20 * 60)  // 09:50: past 80 % of an hour
            #expect(try await Self.watch(t) == 1)
            #expect(try await Self.watch(t) == 0, "once")

            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["status": "waitingCustomer"])
            clock.advance(by: 3 * 3600)  // 12:50, paused all along
            sla = try await t.get("/api/v1/tickets/\(ticket)/sla").json
            #expect(Self.target(sla, "firstResponse")["elapsedMinutes"] == 50 && Self.target(sla, "resolution")["state"] == "paused")
            #expect(try await Self.watch(t) == 0)

            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["status": "inProgress"])
            clock.advance(by: 15 * 60)  // 13:05: 65 business minutes
            #expect(try await Self.watch(t) == 1)
            #expect(try await Self.watch(t) == 0, "once, also on a later pass")
            sla = try await t.get("/api/v1/tickets/\(ticket)/sla").json
            #expect(
                Self.target(sla, "firstResponse")["state"] == "breached" && Self.target(sla, "firstResponse")["breachedAt"].string == "2026-12-07T18:00:00Z")

            // The reply ends the first-response clock, too late; the resolution clock runs on.
            try await t.note(ticket, "On it.", publishTo: "all")
            clock.advance(by: 10 * 60)
            sla = try await t.get("/api/v1/tickets/\(ticket)/sla").json
            #expect(Self.target(sla, "firstResponse")["state"] == "breached" && Self.target(sla, "firstResponse")["elapsedMinutes"] == 65)
            #expect(Self.target(sla, "resolution")["state"] == "running" && Self.target(sla, "resolution")["elapsedMinutes"] == 75)

            let approaching = try await Self.events(t, "ticket.slaApproaching"), breached = try await Self.events(t, "ticket.slaBreached")
            #expect(approaching.map { $0["data"]["target"].string } == ["firstResponse"] && approaching.first?["ticketId"].string == ticket)
            #expect(breached.map { $0["data"]["target"].string } == ["firstResponse"])
            while try await Automation.run(on: t.db, settings: t.app.settings) ?? 0 > 0 {}
            let notes = try await t.get("/api/v1/tickets/\(ticket)/notes").json["items"].array.compactMap { $0["body"].string }
            #expect(notes.filter { $0.hasPrefix("SLA") }.sorted() == ["SLA approaching.", "SLA breached."])
            // And the notifications: the assignee hears of each once, in the kinds' own templates.
            let mail = try await OutboxMessage.query(on: t.db).filter(\.$recipient == "tara@msp.example").all().compactMap(\.subject)
            #expect(mail.filter { $0.contains("SLA target near") }.count == 1 && mail.filter { $0.contains("SLA breached") }.count == 1, "\(mail)")
        }
    }

    /// Two watch passes at once (two instances on one PostgreSQL): each event is recorded once.
    @Test func twoWatchPassesAtOnceRecordEachEventOnce() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            var tickets: [String] = []
            for number in 0..<6 {
                tickets.append(try await t.ticket(office.organization, "Ticket \(number)", extra: ["siteId": .string(office.site), "priority": "high"]).id)
            }
            clock.advance(by: 2 * 3600)  // first response breached on every ticket
            let recorded = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 { group.addTask { try await SLAWatch.run(on: t.db, interval: 0) ?? 0 } }
                return try await group.reduce(0, +)
            }
            #expect(recorded == tickets.count)
            #expect(try await Self.watch(t) == 0)
            let breached = try await Self.events(t, "ticket.slaBreached")
            #expect(breached.count == tickets.count && Set(breached.compactMap { $0["ticketId"].string }) == Set(tickets))
            #expect(try await t.count("sla_alerts") == tickets.count)
            // Throttled: a pass within the interval of the last does nothing.
            #expect(try await SLAWatch.run(on: t.db, interval: 60) == nil)
            // The timeline's query names the partial index's condition word for word (migration CreateSLAAlerts).
            #expect(TicketSLA.timelineCondition == "type IN ('ticket.created', 'ticket.statusChanged', 'note.added', 'ticket.handedOff')")
        }
    }

    /// A backlog is worked a batch per pass, so every due event is recorded once, a few passes later at most.
    @Test func aBacklogIsWorkedABatchPerPass() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            var tickets: [String] = []
            for number in 0..<5 {
                tickets.append(try await t.ticket(office.organization, "Ticket \(number)", extra: ["siteId": .string(office.site), "priority": "high"]).id)
            }
            clock.advance(by: 2 * 3600)  // first response breached on every ticket
            #expect(try await SLAWatch.run(on: t.db, interval: 0, batch: 2) == 2)
            #expect(try await SLAWatch.run(on: t.db, interval: 0, batch: 2) == 2)
            #expect(try await SLAWatch.run(on: t.db, interval: 0, batch: 2) == 1, "the last batch, then the watch starts over")
            #expect(try await SLAWatch.run(on: t.db, interval: 0, batch: 2) == 0)
            let breached = try await Self.events(t, "ticket.slaBreached")
            #expect(breached.count == tickets.count && Set(breached.compactMap { $0["ticketId"].string }) == Set(tickets))
        }
    }

    /// The watch reads only the tickets whose clocks can alert next (`sla_schedule`): tickets waiting on their customers
    /// leave the schedule, so however many there are, an alert comes on the first pass after its moment; a ticket
    /// that starts counting again is back in it at once.
    @Test func anAlertComesOnTimeWhateverWaitsOnTheCustomer() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            var waiting: [String] = []
            for number in 0..<6 {
                let ticket = try await t.ticket(office.organization, "Waiting \(number)", extra: ["siteId": .string(office.site), "priority": "high"]).id
                try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["status": "waitingCustomer"])
                waiting.append(ticket)
            }
            let running = try await t.ticket(office.organization, "Running", extra: ["siteId": .string(office.site), "priority": "high"]).id
            // Seven tickets, two a pass: a full pass lets the next run at once (the interval is 60 s here).
            var passes = 0
            while try await SLAWatch.run(on: t.db, interval: 60, batch: 2) != nil { passes += 1 }
            #expect(passes == 4)
            let scheduled = try await t.db.sql.raw("SELECT ticket_id, due_at FROM sla_schedule").all()
            #expect(try scheduled.map { try $0.decode(column: "ticket_id", as: UUID.self).uuidString.lowercased() } == [running.lowercased()])
            // Its next moment: 80 % of an hour of New York business time from 09:00.
            #expect(try scheduled.first?.decode(column: "due_at", as: Date.self) == Self.date("2026-12-07T14:48:00Z"))

            clock.advance(by: 2 * 3600)
            #expect(try await SLAWatch.run(on: t.db, interval: 60, batch: 2) == 1, "the breach, on the first pass")
            #expect(try await Self.events(t, "ticket.slaBreached").compactMap { $0["ticketId"].string } == [running])

            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(waiting[3])", ["status": "inProgress"])
            clock.advance(by: 61)
            #expect(try await SLAWatch.run(on: t.db, interval: 60, batch: 2) == 0, "counting again, nothing due yet")
            #expect(try await t.count("sla_schedule") == 2)
            clock.advance(by: 3600)
            #expect(try await SLAWatch.run(on: t.db, interval: 60, batch: 2) == 1)
            #expect(Set(try await Self.events(t, "ticket.slaBreached").compactMap { $0["ticketId"].string }) == [running, waiting[3]])
        }
    }

    /// After a long stop the events are marked a bounded number a pass, and the next pass runs at once until they are
    /// all read.
    @Test func eventsAreMarkedABoundedNumberAPass() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            for number in 0..<3 {
                try await t.ticket(office.organization, "Ticket \(number)", extra: ["siteId": .string(office.site), "priority": "high"])
            }
            let events = try await t.count("events")
            var passes = 0
            while try await SLAWatch.run(on: t.db, interval: 60, events: 1) != nil { passes += 1 }
            #expect(passes == events, "a pass an event, none held back by the interval")
            #expect(try await t.count("sla_schedule") == 3)
        }
    }

    /// A policy, a location's calendar or a site's location saved: the tickets under it are worked out again on the next
    /// pass, not at the moment the old one scheduled.
    @Test func savingAPolicyACalendarOrASiteRecomputesItsTickets() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            let ticket = try await t.ticket(office.organization, "Printer", extra: ["siteId": .string(office.site), "priority": "high"]).id
            #expect(try await Self.watch(t) == 0)
            clock.advance(by: 20 * 60)  // 09:20; next moment 09:48
            #expect(try await Self.watch(t) == 0)

            // A first response within 15 minutes: breached at 09:15, recorded now.
            try await t.must(.ok, .PATCH, "/api/v1/sla-policies/\(office.policy)", ["firstResponseMinutes": 15])
            #expect(try await Self.watch(t) == 1)
            #expect(try await Self.events(t, "ticket.slaBreached").map { $0["data"]["target"].string } == ["firstResponse"])

            // Resolution in 600 minutes: 80 % at 17:00 New York time. A location closing at 16:00 moves it to Tuesday 09:00.
            let location = try await t.get("/api/v1/sites/\(office.site)").json["internalLocationId"].string ?? ""
            try await t.must(
                .ok, .PATCH, "/api/v1/internal-locations/\(location)",
                ["businessHours": .array((1...5).map { ["weekday": .number(Double($0)), "start": "08:00", "end": "16:00"] })])
            #expect(try await Self.watch(t) == 0)
            #expect(try await Self.scheduled(t, ticket) == Self.date("2026-12-08T14:00:00Z"))

            // The site off any location: all hours, in UTC, counted from 09:00 New York (14:00 UTC): 480 minutes later.
            try await t.must(.ok, .PATCH, "/api/v1/sites/\(office.site)", ["internalLocationId": .null])
            #expect(try await Self.watch(t) == 0)
            #expect(try await Self.scheduled(t, ticket) == Self.date("2026-12-07T22:00:00Z"))
        }
    }

    /// The moment the SLA watch next works the ticket out.
    static func scheduled(_ t: TestApp, _ ticket: String) async throws -> Date? {
        try await t.db.sql.select().column("due_at").from("sla_schedule").where("ticket_id", .equal, UUID(uuidString: ticket)!).first()?
            .decode(column: "due_at", as: Date.self)
    }

    /// `seed-bench` records the alerts already due without their events, as a running install would have: the watch then
    /// finds nothing to record for them, and still records what falls due later.
    @Test func theBenchSeedLeavesTheWatchNoBacklog() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            for number in 0..<3 {
                try await t.ticket(office.organization, "Ticket \(number)", extra: ["siteId": .string(office.site), "priority": "high"])
            }
            clock.advance(by: 2 * 3600)  // first response breached on every ticket
            #expect(try await BenchSeedCommand.recordDueSLAAlerts(on: t.db) == 3)
            #expect(try await BenchSeedCommand.recordDueSLAAlerts(on: t.db) == 0, "recorded once")
            #expect(try await Self.watch(t) == 0)
            #expect(try await Self.events(t, "ticket.slaBreached").isEmpty)
            clock.advance(by: 30 * 24 * 3600)  // the resolution target too, later
            #expect(try await Self.watch(t) == 3)
        }
    }

    /// Another instance holding the watch's row (PostgreSQL: `FOR UPDATE SKIP LOCKED`): a pass skips at once
    /// rather than wait or record twice, and the next pass records what is due. (SQLite has one writer.)
    @Test(.enabled(if: TestDatabase.postgresURL != nil)) func aPassSkipsWhileAnotherInstanceHoldsTheWatch() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            let office = try await Self.office(t)
            try await t.ticket(office.organization, extra: ["siteId": .string(office.site), "priority": "high"])
            #expect(try await Self.watch(t) == 0, "nothing due yet; the watch's row exists from now on")
            clock.advance(by: 2 * 3600)
            let app = t.app
            let skipped = try await t.db.write { db in
                _ = try await db.sql.raw("SELECT name FROM sla_watch FOR UPDATE").all()
                // Detached: another connection and transaction, as another instance's would be.
                return try await Task.detached { try await SLAWatch.run(on: app.db, interval: 0) }.value
            }
            #expect(skipped == nil)
            #expect(try await Self.watch(t) == 1)
            #expect(try await Self.events(t, "ticket.slaBreached").count == 1)
        }
    }

    // MARK: Handoff

    /// Handing a co-managed ticket over: who may (the policy), when (co-managed only, not to the side that
    /// holds it), what it records, and each side's time counted apart.
    @Test func handoffMovesTheTicketAndSplitsItsTime() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let office = try await Self.office(t, organization: northwind)
            let queue = try await t.queue("Service desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue])
            try await t.setUp(northwind, users: [nina.id])
            let coManaging = try await t.loginCoManaging(nina.id, "nina")
            let contact = try await t.contact(northwind, "Pat")
            let portal = try await t.portalLogin(contact, email: "pat@northwind.example")
            let contoso = try await t.organization("Contoso")
            let restricted = try await t.resource("rick", .administrator, restrictions: [contoso]).token

            let ticket = try await t.ticket(
                northwind,
                extra: [
                    "siteId": .string(office.site), "priority": "high", "coManagedVisible": true, "contactId": .string(contact), "queueId": .string(queue),
                ]
            ).id
            let plain = try await t.ticket(contoso, "Not co-managed").id
            // A workflow rule on handoffs to the client's IT (read at the end: its note would count as a response).
            try await t.must(
                .created, .POST, "/api/v1/workflow-rules",
                [
                    "name": "Over to their IT", "triggers": ["handedOff"],
                    "conditions": [["field": "responsibleSide", "op": "changedTo", "values": ["clientIT"]]],
                    "actions": ["addNote": ["text": "Now with your IT team.", "publishTo": "internalAndCoManaged"]],
                ])

            clock.advance(by: 3600)  // 10:00, an hour on the MSP's side
            let counts = try await t.rowCounts()
            for (body, field) in [(["to": "them"] as JSON, "to"), ([:] as JSON, "to"), (["to": "clientIT", "reason": "Line\nbreak"], "reason")] {
                let reply = try await t.post("/api/v1/tickets/\(ticket)/handoff", body)
                #expect(reply.status == .unprocessableEntity && reply.json["errors"].array.contains { $0["field"].string == field }, "\(body): \(reply)")
            }
            expectStatus(try await t.post("/api/v1/tickets/\(ticket)/handoff", ["to": "clientIT"], as: portal), .forbidden)
            expectStatus(try await t.post("/api/v1/tickets/\(ticket)/handoff", ["to": "clientIT"], as: restricted), .notFound)
            expectStatus(try await t.post("/api/v1/tickets/\(plain)/handoff", ["to": "clientIT"]), .conflict)
            expectStatus(try await t.post("/api/v1/tickets/\(ticket)/handoff", ["to": "msp"]), .conflict)
            expectStatus(
                try await t.send(.POST, "/api/v1/tickets/\(ticket)/handoff", json: ["to": "clientIT"], headers: ["If-Match": "\"99\""]), .preconditionFailed)
            #expect(try await t.rowCounts() == counts, "a refused handoff writes nothing")

            let handed = try await t.must(.ok, .POST, "/api/v1/tickets/\(ticket)/handoff", ["to": "clientIT", "reason": "Their firewall"])
            #expect(handed["responsibleSide"] == "clientIT")
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["version"] == 2)
            // The ticket itself says which side holds it, to whoever sees it, and the list and count filter by it,
            // under each caller's scope.
            for token in [nil, coManaging, portal] {
                #expect(try await t.get("/api/v1/tickets/\(ticket)", as: token).json["responsibleSide"] == "clientIT")
                let held = try await t.get("/api/v1/tickets?responsibleSide=clientIT", as: token).json["items"].array
                #expect(held.map { $0["id"].string } == [ticket] && held.first?["responsibleSide"] == "clientIT")
            }
            #expect(try await t.get("/api/v1/tickets?responsibleSide=clientIT", as: restricted).json["items"].array.isEmpty)
            #expect(try await t.get("/api/v1/tickets/count?responsibleSide=clientIT").json["count"] == 1)
            let byMSP = try await t.get("/api/v1/tickets?responsibleSide=msp").json["items"].array
            #expect(byMSP.contains { $0["id"].string == plain } && !byMSP.contains { $0["id"].string == ticket })
            #expect(byMSP.allSatisfy { $0["responsibleSide"] == "msp" })
            let unknownSide = try await t.get("/api/v1/tickets?responsibleSide=them")
            #expect(
                unknownSide.status == .unprocessableEntity && unknownSide.json["errors"].array.contains { $0["field"].string == "responsibleSide" },
                "\(unknownSide)")
            // Only a handoff changes the side: an edit that sends one leaves it.
            let edited = try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["title": "Renamed", "responsibleSide": "msp"])
            #expect(edited["responsibleSide"] == "clientIT" && edited["version"] == 3)
            clock.advance(by: 2 * 3600)  // 12:00, two hours on the client's side
            let back = try await t.must(.ok, .POST, "/api/v1/tickets/\(ticket)/handoff", ["to": "msp"], as: coManaging)
            #expect(back["responsibleSide"] == "msp")
            clock.advance(by: 30 * 60)

            let sla = try await t.get("/api/v1/tickets/\(ticket)/sla", as: coManaging).json
            let resolution = Self.target(sla, "resolution")
            let sides = Dictionary(uniqueKeysWithValues: resolution["sides"].array.map { ($0["side"].string ?? "", $0["elapsedMinutes"].int ?? -1) })
            #expect(resolution["elapsedMinutes"] == 210 && sides == ["msp": 90, "clientIT": 120])
            #expect(Self.target(sla, "firstResponse")["breachedBy"] == "msp")
            expectStatus(try await t.get("/api/v1/tickets/\(ticket)/sla", as: portal), .ok)
            expectStatus(try await t.get("/api/v1/tickets/\(ticket)/sla", as: restricted), .notFound)

            let events = try await Self.events(t, "ticket.handedOff")
            #expect(events.map { "\($0["data"]["from"].string ?? "")→\($0["data"]["to"].string ?? "")" } == ["msp→clientIT", "clientIT→msp"])
            let audit = try await t.get("/api/v1/audit-events?ticketId=\(ticket)").json["items"].array.filter { $0["action"] == "handedOff" }
            #expect(audit.count == 2 && audit.contains { $0["after"].string?.contains("\"reason\":\"Their firewall\"") == true })
            // The reason is the MSP's and the client IT's business, never the contact's.
            #expect(try await t.get("/api/v1/tickets/\(ticket)/history", as: portal).text.contains("Their firewall") == false)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/history").text.contains("Their firewall"))

            // For reports: compliance by side of the handed-off ticket, under the reader's scope.
            let admin = try await t.adminPrincipal()
            let period = DateInterval(start: Self.monday.addingTimeInterval(-3600), end: Self.monday.addingTimeInterval(86400))
            let report = try await SLAReports.compliance(
                organizationId: UUID(uuidString: northwind)!, period: period, scope: AccessPolicy.ticketScope(for: admin), on: t.db)
            #expect(report.tickets == 1 && report.handedOffTickets == 1)
            let first = report.targets.first { $0.target == .firstResponse }!, resolved = report.targets.first { $0.target == .resolution }!
            #expect(first.all.breached == 1 && resolved.all.open == 1)
            #expect(resolved.handedOff.map(\.withinTarget) == [1, 1] && resolved.handedOff.map(\.minutes) == [90, 120])
            let nobody = try await SLAReports.compliance(organizationId: UUID(uuidString: northwind)!, period: period, scope: .none, on: t.db)
            #expect(nobody.tickets == 0)

            // The rule fired on the handoff to the client's IT, not on the one back.
            try await AutomationTests.automate(t)
            let notes = try await t.get("/api/v1/tickets/\(ticket)/notes", as: coManaging).json["items"].array
            #expect(notes.map { $0["body"].string } == ["Now with your IT team."])
        }
    }

    // MARK: Pages

    @Test func policyPagesAndTheTicketsPanel() async throws {
        let clock = SetClock(Self.monday)
        try await withApp(clock: clock) { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let office = try await Self.office(t, organization: northwind)
            let session = try await t.pageSession("admin", TestApp.adminPassword)

            let list = try await t.page("/admin/sla-policies", session: session)
            #expect(list.status == .ok && list.text.contains("Northwind · High"))
            let refused = try await t.submitForm(
                "/admin/sla-policies/new",
                [
                    ("organizationId", northwind), ("priority", "low"), ("firstResponseMinutes", "ten"), ("resolutionMinutes", "60"),
                    ("approachingPercent", "80"),
                ],
                session: session)
            #expect(refused.status == .unprocessableEntity && refused.text.contains("is not a whole number"))
            let created = try await t.submitForm(
                "/admin/sla-policies/new",
                [
                    ("organizationId", northwind), ("priority", "low"), ("firstResponseMinutes", "30"), ("resolutionMinutes", "60"),
                    ("approachingPercent", "80"),
                ],
                session: session)
            #expect(created.status == .seeOther)
            #expect(try await t.get("/api/v1/sla-policies?organizationId=\(northwind)").json["items"].array.count == 2)
            _ = office

            let ticket = try await t.ticket(northwind, extra: ["siteId": .string(office.site), "priority": "high", "coManagedVisible": true]).id
            clock.advance(by: 30 * 60)
            let page = try await t.page("/tickets/\(ticket)", session: session)
            #expect(page.text.contains("id=\"sla\"") && page.text.contains("Hand to Client IT") && page.text.contains("30 min of 1 h"))
            let version = try await t.get("/api/v1/tickets/\(ticket)").json["version"].int ?? 0
            let stale = try await t.submitForm("/tickets/\(ticket)/handoff", [("to", "clientIT"), ("version", "\(version + 5)")], session: session)
            #expect(stale.status == .conflict)
            let posted = try await t.submitForm(
                "/tickets/\(ticket)/handoff", [("to", "clientIT"), ("reason", "Waiting on their vendor"), ("version", "\(version)")], session: session)
            #expect(posted.status == .seeOther)
            let after = try await t.page("/tickets/\(ticket)", session: session)
            #expect(after.text.contains("Hand to MSP") && after.text.contains("handed the ticket to Client IT"))
        }
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `tandem seed-bench --tickets N [--organizations M]`: the data set `scripts/bench` measures on.
///
/// Migrates, loads the demo tenant when absent, then bulk-inserts N tickets spread over M
/// organizations (the six demo ones plus "Bench Organization NN" as needed), two thirds of them
/// with an assignee. Rows go in with multi-row INSERTs, several thousand per transaction, and
/// their numbers are reserved the way `TicketService.nextNumber` hands them out (the SQLite
/// counter row, the PostgreSQL sequence), so tickets created afterwards over HTTP continue the
/// series. Seeded tickets have no audit entries; the SLA alerts already due on them are recorded (without events),
/// as a running install would have. Run it while no server writes to the database.
struct BenchSeedCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "tickets", help: "How many tickets to add (required)") var tickets: Int?
        @Option(name: "organizations", help: "Spread them over this many organizations (default 10; the demo has 6)") var organizations: Int?
        @Option(name: "notes-per-ticket", help: "Notes to add to each seeded ticket, for the search benchmark (default 0)") var notesPerTicket: Int?
        @Option(name: "time-entries-per-ticket", help: "Time entries to add to each seeded ticket, for the report benchmark (default 0)")
        var timeEntriesPerTicket: Int?
        @Flag(name: "report-events", help: "Give seeded tickets the events reports read: a first response, and a resolution for resolved and closed ones")
        var reportEvents: Bool
    }

    var help: String { "Benchmark data: the demo tenant plus N bulk-inserted tickets (used by scripts/bench)." }

    /// Rows per INSERT statement (18 binds each) and per transaction.
    static let rowsPerStatement = 500
    static let rowsPerTransaction = 10_000

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let count = signature.tickets, count >= 0 else {
            context.console.error("seed-bench: give --tickets N (N >= 0)")
            throw TandemError.invalid("tickets", "give --tickets N")
        }
        let app = context.application
        let db = app.db
        let started = Date()
        try await app.migrateSchema()
        _ = try await DemoTenant.load(on: db, passwords: app.password.async)

        let plan = try await BenchPlan.load(organizations: max(1, signature.organizations ?? 10), on: db)
        var done = 0
        while done < count {
            let batch = min(Self.rowsPerTransaction, count - done)
            let offset = done
            try await db.write { db in
                let first = try await Self.reserveNumbers(batch, on: db)
                try await Self.insertTickets(
                    batch, firstNumber: first, offset: offset, total: count, notesPerTicket: max(0, signature.notesPerTicket ?? 0),
                    extras: Extras(timeEntriesPerTicket: max(0, signature.timeEntriesPerTicket ?? 0), reportEvents: signature.reportEvents), plan: plan, on: db)
            }
            done += batch
        }
        let alerts = try await Self.recordDueSLAAlerts(on: db)
        if !db.isSQLite {
            // Autovacuum would get there within a minute; measure on settled statistics right away.
            try await db.sql.raw("ANALYZE").run()
        }
        let total = try await Ticket.query(on: db).count()
        let seconds = Date().timeIntervalSince(started)
        context.console.print(
            "Seeded \(count) tickets over \(plan.organizations.count) organizations in \(String(format: "%.1f", seconds)) s; \(total) tickets in all; "
                + "\(alerts) SLA alerts already due recorded.")
    }

    /// What a running install recorded as its tickets' clocks passed: the SLA alerts already due, without their events
    /// (seeded tickets have no history either), and the watch's schedule of what falls due next. The SLA watch then
    /// starts with no backlog, as the event consumers do when a benchmark moves them to the last event; otherwise every
    /// measurement at 1M tickets ran beside a watch recording about 800 alerts a pass, and their rules. Answers how
    /// many it recorded.
    static func recordDueSLAAlerts(on db: any Database) async throws -> Int {
        let now = db.now
        try await db.write { db in
            try await SLASchedule.recheck("1 = 1", now: now, on: db)
            try await SLAWatch.startAfterLatestEvent(on: db)
        }
        var recorded = 0
        // Each batch's tickets move to their next moment (after `now`) or leave the schedule, so this ends.
        while true {
            let scheduled = try await SLASchedule.due(now: now, limit: 5_000, on: db)
            if scheduled.isEmpty { break }
            let (alerts, next) = try await SLAWatch.evaluate(scheduled, now: now, on: db)
            for chunk in alerts.chunked(rowsPerStatement).map(Array.init) {
                recorded += try await db.write { db in try await SLAWatch.claim(chunk, at: now, on: db).count }
            }
            try await SLASchedule.reschedule(next, now: now, on: db)
        }
        return recorded
    }

    /// Reserves `count` consecutive ticket numbers and returns the first.
    static func reserveNumbers(_ count: Int, on db: any Database) async throws -> Int {
        let row =
            db.isSQLite
            ? try await db.sql.raw("UPDATE counters SET value = value + \(bind: count) WHERE name = 'ticket_number' RETURNING value").first()
            : try await db.sql.raw("SELECT setval('ticket_number_seq', nextval('ticket_number_seq') + \(bind: count - 1)) AS value").first()
        guard let last = try row?.decode(column: "value", as: Int.self) else { throw TandemError.conflict("could not reserve ticket numbers") }
        return last - count + 1
    }

    /// Words of the seeded notes: `kx0` … `kx499` each in one note of 500, so a search for one of them
    /// (`scripts/bench` asks for `kx105`, which falls on rick's organizations) matches a known share of 1M notes.
    static let noteWords = 500

    /// What the report benchmark adds to each seeded ticket.
    struct Extras: Sendable {
        var timeEntriesPerTicket = 0
        var reportEvents = false
    }

    static func insertTickets(
        _ count: Int, firstNumber: Int, offset: Int, total: Int, notesPerTicket: Int = 0, extras: Extras = Extras(), plan: BenchPlan, on db: any Database
    ) async throws {
        let statuses = TicketStatus.allCases.map(\.rawValue)
        let priorities = TicketPriority.allCases.map(\.rawValue)
        let sources = SourceChannel.allCases.map(\.rawValue)
        let problems = DemoTenant.problems
        // Spread creation times over the past, two minutes apart, oldest first like the numbers.
        let now = Date()
        var rng = SystemRandomNumberGenerator()
        var start = 0
        while start < count {
            let end = min(start + rowsPerStatement, count)
            var tickets = db.sql.insert(into: Ticket.schema).columns(Ticket.sqlColumns)
            var assignees = db.sql.insert(into: TicketAssignee.schema).columns("id", "ticket_id", "principal_id", "principal_kind", "position")
            var anyAssignee = false
            var ids: [UUID] = []
            var seeded: [SeededTicket] = []
            for i in start..<end {
                let index = offset + i
                let organization = plan.organizations[index % plan.organizations.count]
                let createdAt = now.addingTimeInterval(-Double(total - index) * 120)
                let id = UUID.v7(now: createdAt)
                ids.append(id)
                let problem = problems[index % problems.count]
                let site = organization.sites.randomElement(using: &rng), contact = organization.contacts.randomElement(using: &rng)
                let queue = plan.queues.isEmpty ? nil : plan.queues[index % plan.queues.count]
                let team = plan.teams.isEmpty ? nil : plan.teams[index % plan.teams.count]
                seeded.append(
                    SeededTicket(
                        id: id, index: index, createdAt: createdAt, organizationId: organization.id, siteId: site, queueId: queue, teamId: team,
                        contactId: contact,
                        status: statuses[index % statuses.count], coManagedVisible: index % 3 != 0))
                tickets = tickets.values([
                    SQLBind(id), SQLBind(firstNumber + i), SQLBind(problem),
                    SQLBind("Reported by the client. \(problems[(index * 5) % problems.count]) may be related; see the attached logs."),
                    SQLBind(organization.id), bind(site), bind(contact), bind(queue), bind(team),
                    SQLBind(statuses[index % statuses.count]), SQLBind(priorities[index % priorities.count]), SQLBind(sources[index % sources.count]),
                    SQLBind(index % 3 != 0), SQLLiteral.null, SQLBind(1), bind(plan.creator), SQLBind(createdAt), SQLBind(createdAt),
                ])
                if index % 3 != 2, let assignee = plan.assignee(for: organization.id, index: index) {
                    assignees = assignees.values([
                        SQLBind(UUID.v7(now: createdAt)), SQLBind(id), SQLBind(assignee), SQLBind(PrincipalKind.resource.rawValue), SQLBind(0),
                    ])
                    anyAssignee = true
                }
            }
            try await tickets.run()
            if anyAssignee { try await assignees.run() }
            if notesPerTicket > 0 {
                try await insertNotes(of: ids, first: offset + start, perTicket: notesPerTicket, plan: plan, on: db)
            }
            if extras.timeEntriesPerTicket > 0 { try await insertTimeEntries(of: seeded, perTicket: extras.timeEntriesPerTicket, plan: plan, on: db) }
            if extras.reportEvents { try await insertReportEvents(of: seeded, plan: plan, on: db) }
            start = end
        }
    }

    /// `perTicket` notes on each of the tickets `ids` (the seeded tickets `first`, `first + 1`, …), their
    /// publish-to in turn, each with one of the `noteWords` words.
    static func insertNotes(of ids: [UUID], first: Int, perTicket: Int, plan: BenchPlan, on db: any Database) async throws {
        let publish = PublishTo.allCases.map(\.rawValue)
        let phrases = ["Called the user back", "Checked the event log", "Replaced the cable", "Waiting for the vendor", "Rebooted the device"]
        var rows: [[any SQLExpression]] = []
        for (offset, ticketId) in zip(first..., ids) {
            for k in 0..<perTicket {
                let n = offset * perTicket + k
                rows.append([
                    SQLBind(UUID.v7()), SQLBind(ticketId),
                    SQLBind("\(phrases[n % phrases.count]); part kx\(n % noteWords) ordered, \(DemoTenant.problems[n % DemoTenant.problems.count])."),
                    SQLBind(publish[n % publish.count]), bind(plan.creator), SQLBind(PrincipalKind.resource.rawValue), SQLBind("Bench Seeder"),
                    SQLBind(Date()), SQLBind(Date()),
                ])
            }
        }
        for chunk in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            var insert = db.sql.insert(into: Note.schema).columns(
                "id", "ticket_id", "body", "publish_to", "author_id", "author_kind", "author_name", "created_at", "updated_at")
            for row in rows[chunk..<min(chunk + rowsPerStatement, rows.count)] { insert = insert.values(row) }
            try await insert.run()
        }
    }

    /// A seeded ticket's facts, for the rows that go with it.
    struct SeededTicket: Sendable {
        var id: UUID
        var index: Int
        var createdAt: Date
        var organizationId: UUID
        var siteId: UUID?
        var queueId: UUID?
        var teamId: UUID?
        var contactId: UUID?
        var status: String
        var coManagedVisible: Bool
    }

    /// `perTicket` time entries on each ticket, 10 to 120 minutes, an hour apart after its creation, their roles and
    /// publish-to in turn (the report benchmark: 100k tickets with 3 each is 300k time entries).
    static func insertTimeEntries(of tickets: [SeededTicket], perTicket: Int, plan: BenchPlan, on db: any Database) async throws {
        let publish = PublishTo.allCases.map(\.rawValue)
        var rows: [[any SQLExpression]] = []
        for ticket in tickets {
            for k in 0..<perTicket {
                let n = ticket.index * perTicket + k
                let at = ticket.createdAt.addingTimeInterval(Double(k + 1) * 3600)
                rows.append([
                    SQLBind(UUID.v7(now: at)), SQLBind(ticket.id), bind(plan.roles.isEmpty ? nil : plan.roles[n % plan.roles.count]),
                    SQLBind(10 + (n * 7) % 111),
                    SQLBind("Worked on the ticket"), SQLBind(publish[n % publish.count]), bind(plan.creator), SQLBind("Bench Seeder"), SQLBind(at), SQLBind(at),
                    SQLBind(at),
                ])
            }
        }
        for chunk in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            var insert = db.sql.insert(into: TimeEntry.schema).columns(
                "id", "ticket_id", "role_id", "minutes", "summary", "publish_to", "author_id", "author_name", "created_at", "updated_at", "worked_at")
            for row in rows[chunk..<min(chunk + rowsPerStatement, rows.count)] { insert = insert.values(row) }
            try await insert.run()
        }
    }

    /// The events reports read (`Reports`): a first response (a note to all by staff) 5 to 300 minutes after creation
    /// on four tickets of five, and for resolved and closed tickets a status change to resolved 1 to 72 hours after.
    static func insertReportEvents(of tickets: [SeededTicket], plan: BenchPlan, on db: any Database) async throws {
        var rows: [[any SQLExpression]] = []
        for ticket in tickets {
            func event(_ type: DomainEventType, at: Date, entity: UUID, publishTo: String?, data: String?) -> [any SQLExpression] {
                [
                    SQLBind(type.rawValue), SQLBind(type.area.rawValue), SQLBind(at), SQLBind(entity), SQLBind(ticket.organizationId), SQLBind(ticket.id),
                    bind(ticket.siteId), bind(ticket.queueId), bind(ticket.teamId), bind(ticket.contactId), SQLBind(ticket.coManagedVisible),
                    publishTo.map { SQLBind($0) } ?? SQLLiteral.null, bind(plan.creator), SQLBind(PrincipalKind.resource.rawValue),
                    data.map { SQLBind($0) } ?? SQLLiteral.null,
                ]
            }
            if ticket.index % 5 != 4 {
                let at = ticket.createdAt.addingTimeInterval(Double(5 + (ticket.index * 37) % 296) * 60)
                rows.append(event(.noteAdded, at: at, entity: UUID.v7(now: at), publishTo: PublishTo.all.rawValue, data: nil))
            }
            if ticket.status == TicketStatus.resolved.rawValue || ticket.status == TicketStatus.closed.rawValue {
                let at = ticket.createdAt.addingTimeInterval(Double(1 + (ticket.index * 13) % 72) * 3600)
                rows.append(event(.ticketStatusChanged, at: at, entity: ticket.id, publishTo: nil, data: "{\"from\":\"inProgress\",\"to\":\"resolved\"}"))
            }
        }
        for chunk in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            var insert = db.sql.insert(into: EventLog.schema).columns(EventLog.columns)
            for row in rows[chunk..<min(chunk + rowsPerStatement, rows.count)] { insert = insert.values(row) }
            try await insert.run()
        }
    }

    private static func bind(_ value: UUID?) -> any SQLExpression {
        value.map { SQLBind($0) } ?? SQLLiteral.null
    }
}

/// What the seeded tickets point at: organizations with their sites and contacts, queues, teams, staff.
struct BenchPlan: Sendable {
    struct OrganizationPlan: Sendable {
        var id: UUID
        var sites: [UUID]
        var contacts: [UUID]
    }

    var organizations: [OrganizationPlan]
    var queues: [UUID]
    var teams: [UUID]
    /// Roles, for seeded time entries.
    var roles: [UUID] = []
    var creator: UUID?
    /// Active resources, with the organizations they are restricted to (nil: all).
    var staff: [(id: UUID, restrictions: Set<UUID>?)]

    /// A staff member who can see tickets of `organization`, rotating with `index`.
    func assignee(for organization: UUID, index: Int) -> UUID? {
        guard !staff.isEmpty else { return nil }
        for step in 0..<staff.count {
            let candidate = staff[(index + step) % staff.count]
            if candidate.restrictions?.contains(organization) ?? true { return candidate.id }
        }
        return nil
    }

    static func load(organizations wanted: Int, on db: any Database) async throws -> BenchPlan {
        var existing = try await Organization.query(on: db).sort(\.$name).all()
        let names = Set(existing.map(\.name))
        var number = 1
        while existing.count < wanted {
            let name = String(format: "Bench Organization %02d", number)
            number += 1
            if names.contains(name) { continue }
            let organization = Organization()
            organization.id = .v7()
            organization.name = name
            try await organization.create(on: db)
            existing.append(organization)
        }
        // The demo organizations first, so every run uses the same ones.
        let demoNames = DemoTenant.organizations.map(\.0)
        let ordered = existing.filter { demoNames.contains($0.name) } + existing.filter { !demoNames.contains($0.name) }
        let chosen = Array(ordered.prefix(wanted))
        let ids = chosen.compactMap(\.id)
        let sites = Dictionary(grouping: try await Site.query(on: db).filter(\.$organizationId ~~ ids).all(), by: \.organizationId)
        let contacts = Dictionary(grouping: try await Contact.query(on: db).filter(\.$organizationId ~~ ids).all(), by: \.organizationId)

        let resources = try await Resource.query(on: db).filter(\.$active == true).sort(\.$username).all()
        var staff: [(id: UUID, restrictions: Set<UUID>?)] = []
        for resource in resources {
            let id = try resource.requireID()
            let restrictions =
                resource.clientRestricted
                ? Set(try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).all().map(\.organizationId))
                : nil
            staff.append((id, restrictions))
        }
        return BenchPlan(
            organizations: chosen.map {
                OrganizationPlan(id: $0.id!, sites: sites[$0.id!]?.compactMap(\.id) ?? [], contacts: contacts[$0.id!]?.compactMap(\.id) ?? [])
            },
            queues: try await Queue.query(on: db).sort(\.$name).all().compactMap(\.id),
            teams: try await Team.query(on: db).sort(\.$name).all().compactMap(\.id),
            roles: try await Role.query(on: db).sort(\.$name).all().compactMap(\.id),
            creator: resources.first { $0.username == "admin" }?.id,
            staff: staff)
    }
}

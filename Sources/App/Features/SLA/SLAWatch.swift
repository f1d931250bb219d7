import Fluent
import Foundation
import SQLKit
import TandemCore

/// The SLA watch: finds open tickets whose SLA clocks passed their approaching share or their target and
/// records `ticket.slaApproaching` / `ticket.slaBreached` once per ticket and target, which the
/// automation consumer hands to the workflow rules (triggers `slaApproaching`, `slaBreached`) and so to
/// notifications and webhooks.
///
/// Once, also after a restart and with several instances: an event is recorded only by the write whose
/// `INSERT` into `sla_alerts` (UNIQUE ticket, target, kind) inserted the row, in the same transaction.
/// A pass claims the watch's row in `sla_watch` (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so of several
/// instances one runs at a time and the others skip; and it runs at most once per `interval`. The events
/// are then written 50 to a transaction.
///
/// A pass reads at most `batch` candidate tickets, going on after the last one the previous pass read (kept in
/// the watch's row) and starting over at the end: a backlog (a policy added over thousands of open tickets)
/// is worked through a batch per pass rather than in one long write, at the cost of an alert coming up to
/// (candidates ÷ batch) passes late.
enum SLAWatch {
    static let batch = 500

    /// Whom the audit and the events name: the server's clock, not a person.
    static let actor = Principal(
        id: UUID(uuidString: "0193A000-0000-7000-8000-00000000A002")!, kind: .resource, displayName: "SLA watch", securityLevelId: nil,
        permissions: .nothing)
    static let name = "sla"

    /// One event the watch found due.
    struct Alert: Sendable {
        var ticketId: UUID
        var facts: TicketEventFacts
        var target: SLATarget
        var kind: SLAAlert.Kind
        var at: Date?

        /// The alert's row key in `sla_alerts`, as text.
        var key: String { SLAWatch.key(ticketId, target.rawValue, kind.rawValue) }
    }

    /// One pass; answers how many events it recorded, nil when another instance holds the watch or a pass
    /// ran less than `interval` ago. Claims the pass, then reads outside any transaction.
    @discardableResult
    static func run(on db: any Database, interval: TimeInterval = 30, batch: Int = batch) async throws -> Int? {
        let now = db.now
        if let last = try await lastRun(on: db), now < last.addingTimeInterval(interval) { return nil }
        // The pass is claimed before it works anything out, so that of several instances one reads and computes the
        // clocks (they all used to, and all but one threw the result away).
        let claimed = try await db.write { db -> Pass? in
            try await db.sql.raw("INSERT INTO sla_watch (name, last_run_at) VALUES (\(bind: name), NULL) ON CONFLICT (name) DO NOTHING").run()
            let row = try await db.sql.select().columns("last_run_at", "after_ticket_id").from("sla_watch").where("name", .equal, name)
                .lockingClause(SQLRaw(db.stores.claimLocking)).first()
            guard let row else { return nil }
            if let last = try row.decode(column: "last_run_at", as: Date?.self), now < last.addingTimeInterval(interval) { return nil }
            try await db.sql.update("sla_watch").set("last_run_at", to: SQLBind(now)).where("name", .equal, name).run()
            return Pass(after: try row.decode(column: "after_ticket_id", as: UUID?.self))
        }
        guard let claimed else { return nil }
        let (alerts, last) = try await due(now: now, after: claimed.after, batch: batch, on: db)
        // Where the next pass goes on. A crash before this only makes the next pass read the same tickets again.
        try await db.write { db in
            try await db.sql.update("sla_watch").set("after_ticket_id", to: last.map { SQLBind($0) } ?? SQLBind(UUID?.none))
                .where("name", .equal, name).run()
        }
        // The events in short transactions (the alerts' rows, inserted 50 at once, are their claims), so a backlog
        // never holds the writer long; one cut off by a crash is due again when the watch next comes round. Each
        // transaction records its audit entries and events last and at once: the events take the event position lock,
        // which ticket creation waits on, only for the commit (recorded one by one, a chunk held it for a second).
        var recorded = 0
        for chunk in alerts.chunked(50).map(Array.init) {
            recorded += try await db.write { db -> Int in
                var entries: [AuditEntry] = []
                let inserted = try await claim(chunk, at: now, on: db)
                for alert in chunk where inserted.contains(alert.key) {
                    entries.append(
                        Audit.entry(
                            alert.kind.action, Ticket.schema, id: alert.ticketId, by: actor,
                            organizationId: alert.facts.organizationId, ticketId: alert.ticketId,
                            after: ["target": alert.target.rawValue, "at": alert.at.map(ISO8601.string(from:)) ?? ""],
                            events: [
                                DomainEvent(
                                    alert.kind.eventType, entityId: alert.ticketId, ticket: alert.facts, data: DomainEventData(target: alert.target.rawValue))
                            ]))
                }
                try await Audit.recordAll(entries, on: db)
                return entries.count
            }
        }
        return recorded
    }

    /// An `sla_alerts` row's key (ticket, target, kind) as one text, for sets of alerts.
    private static func key(_ ticketId: UUID, _ target: String, _ kind: String) -> String { "\(ticketId) \(target) \(kind)" }

    /// A claimed pass: it goes on after this ticket (nil: from the first).
    private struct Pass { let after: UUID? }

    /// When a pass last ran (nil: never), read without claiming.
    private static func lastRun(on db: any Database) async throws -> Date? {
        try await db.sql.select().column("last_run_at").from("sla_watch").where("name", .equal, name).first()?
            .decode(column: "last_run_at", as: Date?.self)
    }

    /// The events due now and not yet recorded, for up to `batch` open tickets after `after` with a policy that
    /// have a target not yet breached; and the last ticket read (nil when the batch reached the end). A clock
    /// found already breached is told as breached only (it will never be "approaching" again).
    static func due(now: Date, after: UUID? = nil, batch: Int = batch, on db: any Database) async throws -> (alerts: [Alert], last: UUID?) {
        let ids = try await db.sql.raw(
            """
            SELECT t.id FROM tickets t JOIN sla_policies p ON p.organization_id = t.organization_id AND p.priority = t.priority
            WHERE t.status NOT IN (\(bind: TicketStatus.resolved.rawValue), \(bind: TicketStatus.closed.rawValue))
            AND (SELECT COUNT(*) FROM sla_alerts a WHERE a.ticket_id = t.id AND a.kind = \(bind: SLAAlert.Kind.breached.rawValue)) < \(bind: SLATarget.allCases.count)
            \(after.map { SQLQueryString("AND t.id > \(bind: $0)") } ?? "")
            ORDER BY t.id LIMIT \(literal: batch)
            """
        ).all(decoding: IdRow.self).map(\.id)
        var alerts: [Alert] = []
        for chunk in ids.chunked(500).map(Array.init) {
            let recorded = Set(
                try await db.sql.select().columns("ticket_id", "target", "kind").from(SLAAlert.schema).where("ticket_id", .in, SQLBind.group(chunk))
                    .all(decoding: AlertRow.self).map(\.key))
            // Read with SQLKit, not as `Ticket` models: Fluent decodes its models on the event loop, which in `serve` also
            // answers requests (500 of them held it long enough to show in the restricted page's p99).
            let tickets = try await db.sql.select().columns(TicketSLA.Subject.columns + Candidate.columns).from(Ticket.schema)
                .where("id", .in, SQLBind.group(chunk)).all().map(Candidate.init(row:))
            // Each calendar's days worked out once for the chunk: walking them per ticket was most of a pass.
            let unprepared = try await TicketSLA.inputs(for: tickets.map(\.subject), on: db)
            let earliest = unprepared.timelines.values.map(\.createdAt).min() ?? now
            let inputs = unprepared.prepared(from: min(earliest, now), to: now)
            for ticket in tickets {
                guard let clock = inputs.clock(ticket.subject, now: now) else { continue }
                for target in clock.clocks {
                    let alert: Alert
                    switch target.state {
                    case .breached: alert = Alert(ticketId: ticket.facts.id, facts: ticket.facts, target: target.target, kind: .breached, at: target.breachedAt)
                    case .approaching:
                        alert = Alert(ticketId: ticket.facts.id, facts: ticket.facts, target: target.target, kind: .approaching, at: target.approachedAt)
                    default: continue
                    }
                    guard !recorded.contains(alert.key) else { continue }
                    alerts.append(alert)
                }
            }
        }
        return (alerts, ids.count == batch ? ids.last : nil)
    }

    /// Inserts the alerts' rows in one statement; answers the keys of those this write inserted (a concurrent
    /// write of the same key waits on it, then inserts nothing). `seed-bench` records the alerts already due with it.
    static func claim(_ alerts: [Alert], at now: Date, on db: any Database) async throws -> Set<String> {
        guard !alerts.isEmpty else { return [] }
        var insert = db.sql.insert(into: SLAAlert.schema).columns("ticket_id", "target", "kind", "at")
        for alert in alerts {
            insert = insert.values(SQLBind(alert.ticketId), SQLBind(alert.target.rawValue), SQLBind(alert.kind.rawValue), SQLBind(now))
        }
        let inserted = try await insert.ignoringConflicts(with: ["ticket_id", "target", "kind"]).returning("ticket_id", "target", "kind")
            .all(decoding: AlertRow.self)
        return Set(inserted.map(\.key))
    }

    private struct IdRow: Decodable { let id: UUID }

    /// A candidate ticket: what its clocks read, and what its events name.
    private struct Candidate {
        var subject: TicketSLA.Subject
        var facts: TicketEventFacts

        /// The columns read besides `TicketSLA.Subject.columns`.
        static let columns = ["queue_id", "team_id", "contact_id", "co_managed_visible"].map { SQLColumn($0, table: Ticket.schema) }

        init(row: any SQLRow) throws {
            subject = try TicketSLA.Subject(row: row)
            facts = TicketEventFacts(
                id: subject.id, organizationId: subject.organizationId, siteId: subject.siteId, queueId: try row.decode(column: "queue_id", as: UUID?.self),
                teamId: try row.decode(column: "team_id", as: UUID?.self), contactId: try row.decode(column: "contact_id", as: UUID?.self),
                coManagedVisible: try row.decode(column: "co_managed_visible", as: Bool.self))
        }
    }

    private struct AlertRow: Decodable {
        let ticketId: UUID
        let target: String
        let kind: String

        var key: String { SLAWatch.key(ticketId, target, kind) }

        enum CodingKeys: String, CodingKey { case ticketId = "ticket_id", target, kind }
    }
}

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
/// A pass reads only the tickets its schedule says are due (`SLASchedule`): it first marks the tickets of the ticket
/// events since its last pass (its position in the event log is kept in its row), then works out the clocks of at
/// most `batch` due tickets and sets each one's next moment. A full batch lets the next round run a pass at once, so a
/// backlog (a policy added over thousands of open tickets) is worked through a batch at a time, never in one long write.
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
    static func run(on db: any Database, interval: TimeInterval = 30, batch: Int = batch, events: Int = eventsPerPass) async throws -> Int? {
        let now = db.now
        // The pass is claimed before it works anything out, so that of several instances one reads and computes the
        // clocks (they all used to, and all but one threw the result away).
        let claimed = try await PeriodicTask.claim(name, in: "sla_watch", columns: ["after_position"], interval: interval, now: now, on: db) {
            row, db -> Claim in
            // The tickets the events since the last pass changed are due now, in the claim's transaction: a crash
            // before it commits leaves the watch's position where it was.
            // At most `events` (after a long stop, the marks of a million events would hold SQLite's one writer).
            let after = try row.decode(column: "after_position", as: Int?.self) ?? 0
            let latest = try await Events.latestPosition(on: db), upTo = min(latest, after + events)
            try await SLASchedule.mark(eventsAfter: after, upTo: upTo, now: now, on: db)
            try await db.sql.update("sla_watch").set("after_position", to: SQLBind(max(after, upTo))).where("name", .equal, name).run()
            return latest > upTo ? .eventsLeft : .claimed
        }
        guard let claimed else { return nil }
        let scheduled = try await SLASchedule.due(now: now, limit: batch, on: db)
        let (alerts, next) = try await evaluate(scheduled, now: now, on: db)
        // The events in short transactions (the alerts' rows, inserted 50 at once, are their claims), so a backlog
        // never holds the writer long; one cut off by a crash is due again when the watch next comes round (its
        // ticket stays due until `reschedule`). Each transaction records its audit entries and events last and at
        // once: the events take the event position lock, which ticket creation waits on, only for the commit
        // (recorded one by one, a chunk held it for a second).
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
        try await SLASchedule.reschedule(next, now: now, on: db)
        if scheduled.count == batch || claimed == .eventsLeft {
            // More may be due: the next round runs a pass at once.
            try await db.write { db in try await db.sql.update("sla_watch").set("last_run_at", to: SQLLiteral.null).where("name", .equal, name).run() }
        }
        return recorded
    }

    /// The most events a pass marks the tickets of.
    static let eventsPerPass = 20_000

    /// A claimed pass: whether events were left for the next one.
    private enum Claim { case claimed, eventsLeft }

    /// Starts the watch after the latest event, for when every open ticket was marked or scheduled by other means
    /// (the migration that made the schedule, `seed-bench`).
    static func startAfterLatestEvent(on db: any Database) async throws {
        let latest = try await Events.latestPosition(on: db)
        try await db.sql.raw(
            """
            INSERT INTO sla_watch (name, last_run_at, after_position) VALUES (\(bind: name), NULL, \(bind: latest))
            ON CONFLICT (name) DO UPDATE SET after_position = excluded.after_position
            """
        ).run()
    }

    /// An `sla_alerts` row's key (ticket, target, kind) as one text, for sets of alerts.
    private static func key(_ ticketId: UUID, _ target: String, _ kind: String) -> String { "\(ticketId) \(target) \(kind)" }

    /// What the clocks of `scheduled` tickets say at `now`: the events due and not yet recorded, and each ticket's
    /// next moment (nil: none until the ticket changes, as for a closed ticket, one without a policy, or paused clocks).
    /// A clock found already breached is told as breached only (it will never be "approaching" again).
    static func evaluate(_ scheduled: [SLASchedule.Entry], now: Date, on db: any Database) async throws -> (
        alerts: [Alert], next: [(entry: SLASchedule.Entry, at: Date?)]
    ) {
        var alerts: [Alert] = []
        var next: [(entry: SLASchedule.Entry, at: Date?)] = []
        for chunk in scheduled.chunked(500).map(Array.init) {
            let ids = chunk.map(\.ticketId)
            let recorded = Set(
                try await db.sql.select().columns("ticket_id", "target", "kind").from(SLAAlert.schema).where("ticket_id", .in, SQLBind.group(ids))
                    .all(decoding: AlertRow.self).map(\.key))
            // Read with SQLKit, not as `Ticket` models: Fluent decodes its models on the event loop, which in `serve` also
            // answers requests (500 of them held it long enough to show in the restricted page's p99).
            let tickets = try await db.sql.select().columns(TicketSLA.Subject.columns + Candidate.columns).from(Ticket.schema)
                .where("id", .in, SQLBind.group(ids)).all().map(Candidate.init(row:))
            let open = tickets.filter { TicketStatus(rawValue: $0.subject.status)?.isOpen == true }
            // Each calendar's days worked out once for the chunk: walking them per ticket was most of a pass.
            let unprepared = try await TicketSLA.inputs(for: open.map(\.subject), on: db)
            let earliest = unprepared.timelines.values.map(\.createdAt).min() ?? now
            let inputs = unprepared.prepared(from: min(earliest, now), to: now)
            let byId = Dictionary(open.map { ($0.subject.id, $0) }, uniquingKeysWith: { first, _ in first })
            for entry in chunk {
                guard let ticket = byId[entry.ticketId], let clock = inputs.clock(ticket.subject, now: now) else {
                    next.append((entry, nil))
                    continue
                }
                var moment: Date?
                for target in clock.clocks {
                    var alert: Alert?
                    switch target.state {
                    case .breached: alert = Alert(ticketId: entry.ticketId, facts: ticket.facts, target: target.target, kind: .breached, at: target.breachedAt)
                    case .approaching:
                        alert = Alert(ticketId: entry.ticketId, facts: ticket.facts, target: target.target, kind: .approaching, at: target.approachedAt)
                    default: alert = nil
                    }
                    if let due = alert, !recorded.contains(due.key) { alerts.append(due) }
                    func raised(_ kind: SLAAlert.Kind) -> Bool {
                        let raised = key(entry.ticketId, target.target.rawValue, kind.rawValue)
                        return raised == alert?.key || recorded.contains(raised)
                    }
                    if let at = target.nextAlert(approachingRaised: raised(.approaching), breachedRaised: raised(.breached)) {
                        moment = min(moment ?? at, at)
                    }
                }
                next.append((entry, moment))
            }
        }
        return (alerts, next)
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

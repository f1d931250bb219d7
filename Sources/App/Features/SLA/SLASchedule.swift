import Fluent
import Foundation
import SQLKit
import TandemCore

/// The SLA watch's schedule (`sla_schedule`): for each open ticket under a policy whose clocks can still raise an
/// alert, the moment the next one can fall due. A pass reads only the rows due (`due_at <= now`, indexed), so an
/// alert comes within a pass of its moment however many tickets wait on their customers.
///
/// A ticket is due now ("marked") when something its clocks read changed: the watch marks the tickets of the ticket
/// events since its last pass (`markTypes`); saving a policy, a calendar or a site's location marks the tickets under
/// it (`recheck`). After working a ticket's clocks out, the watch sets its next moment, or drops the row when its
/// clocks are paused, stopped or have raised everything; a mark in between moves the row's `stamp`, and the watch
/// then leaves the row due rather than overwrite the newer mark.
enum SLASchedule {
    static let schema = "sla_schedule"

    /// The events that can change a ticket's clocks: its timeline (`TicketSLA.timelineTypes`), and the updates that
    /// change its priority, organization or site (its policy and calendar).
    static let markTypes: [DomainEventType] = TicketSLA.timelineTypes + [.ticketUpdated]

    /// A scheduled ticket as a pass read it.
    struct Entry: Sendable, Hashable {
        var ticketId: UUID
        var stamp: Int
    }

    /// Marks the open tickets under a policy that `condition` selects (a predicate on `tickets t`) due now.
    static func recheck(_ condition: SQLQueryString, now: Date, on db: any Database) async throws {
        try await db.sql.raw(
            """
            INSERT INTO sla_schedule (ticket_id, due_at, stamp)
            SELECT t.id, \(bind: now), 0 FROM tickets t JOIN sla_policies p ON p.organization_id = t.organization_id AND p.priority = t.priority
            WHERE t.status NOT IN (\(bind: TicketStatus.resolved.rawValue), \(bind: TicketStatus.closed.rawValue)) AND \(condition)
            ORDER BY t.id
            ON CONFLICT (ticket_id) DO UPDATE SET due_at = excluded.due_at, stamp = sla_schedule.stamp + 1
            """
        ).run()
    }

    /// Marks the tickets of the events in `(after, upTo]` that can change their clocks.
    static func mark(eventsAfter after: Int, upTo last: Int, now: Date, on db: any Database) async throws {
        guard last > after else { return }
        let types = SQLGroupExpression(markTypes.map { SQLBind($0.rawValue) })
        try await recheck(
            "t.id IN (SELECT e.ticket_id FROM events e WHERE e.position > \(bind: after) AND e.position <= \(bind: last) AND e.type IN \(types))", now: now,
            on: db)
    }

    /// The tickets due at `now`, earliest first.
    static func due(now: Date, limit: Int, on db: any Database) async throws -> [Entry] {
        try await db.sql.select().columns("ticket_id", "stamp").from(schema).where("due_at", .lessThanOrEqual, SQLBind(now)).orderBy("due_at")
            .limit(limit).all(decoding: Row.self).map { Entry(ticketId: $0.ticketId, stamp: $0.stamp) }
    }

    /// Sets each ticket's next moment, or drops its row (nil), unless it was marked since it was read. A moment is
    /// at least a second after `now`, so a pass never finds what it just set due again.
    static func reschedule(_ next: [(entry: Entry, at: Date?)], now: Date, on db: any Database) async throws {
        let floor = now.addingTimeInterval(1)
        // Rows are locked in ticket order, as `recheck` locks them, so a policy saved during a pass cannot deadlock with it.
        let next = next.sorted { $0.entry.ticketId.uuidString < $1.entry.ticketId.uuidString }
        try await db.write { db in
            for chunk in next.chunked(500) {
                try await db.sql.select().column("ticket_id").from(schema).where("ticket_id", .in, SQLBind.group(chunk.map(\.entry.ticketId)))
                    .orderBy("ticket_id").lockingClause(SQLRaw(db.stores.updateLocking)).run()
                let moved = chunk.compactMap { item in
                    item.at.map { SQLGroupExpression([SQLBind(item.entry.ticketId), SQLBind(max($0, floor)), SQLBind(item.entry.stamp)]) }
                }
                let dropped = chunk.filter { $0.at == nil }.map { SQLGroupExpression([SQLBind($0.entry.ticketId), SQLBind($0.entry.stamp)]) }
                if !moved.isEmpty {
                    // VALUES columns are column1, column2, … in both databases.
                    try await db.sql.raw(
                        """
                        UPDATE sla_schedule SET due_at = v.column2 FROM (VALUES \(SQLList(moved))) AS v
                        WHERE sla_schedule.ticket_id = v.column1 AND sla_schedule.stamp = v.column3
                        """
                    ).run()
                }
                if !dropped.isEmpty {
                    try await db.sql.raw("DELETE FROM sla_schedule WHERE (ticket_id, stamp) IN (VALUES \(SQLList(dropped)))").run()
                }
            }
        }
    }

    private struct Row: Decodable {
        let ticketId: UUID
        let stamp: Int

        enum CodingKeys: String, CodingKey { case ticketId = "ticket_id", stamp }
    }
}

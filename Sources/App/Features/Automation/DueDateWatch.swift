import Fluent
import Foundation
import SQLKit
import TandemCore

/// The due date watch (Autotask's "due date approaching"): a ticket whose due date comes within the
/// window records one `ticket.dueDateApproaching` event per due date, which the automation consumer
/// hands to the workflow rules triggered by it. Moving the due date watches the ticket again.
/// Resolved and closed tickets, and tickets already overdue when first seen, are left alone.
enum DueDateWatch {
    /// Whom the audit and the event name: the server's clock, not a person.
    static let actor = Principal(
        id: UUID(uuidString: "0193A000-0000-7000-8000-00000000A001")!, kind: .resource, displayName: "Due date watch", securityLevelId: nil,
        permissions: .nothing)

    /// One run; answers how many events it recorded. Reads first, so a round with nothing due writes nothing.
    @discardableResult
    static func run(on db: any Database, within window: TimeInterval, limit: Int = 100) async throws -> Int {
        let now = db.now
        let ids = try await due(now: now, window: window, limit: limit, on: db)
        guard !ids.isEmpty else { return 0 }
        return try await db.write { db in
            var entries: [AuditEntry] = []
            for id in ids {
                guard let ticket = try await Ticket.find(id, on: db), let dueAt = ticket.dueAt, dueAt > now, dueAt <= now.addingTimeInterval(window),
                    try await claim(id, dueAt: dueAt, at: now, on: db)
                else { continue }
                entries.append(
                    Audit.entry(
                        "dueDateApproaching", Ticket.schema, id: id, by: actor, organizationId: ticket.organizationId, ticketId: id,
                        after: ["dueAt": ISO8601.string(from: dueAt)],
                        events: [DomainEvent(.ticketDueDateApproaching, entityId: id, ticket: ticket.eventFacts)]))
            }
            // Last and at once: the events take the event position lock, which ticket creation waits on, only for the commit.
            try await Audit.recordAll(entries, on: db)
            return entries.count
        }
    }

    /// Open tickets due within the window whose reminder (if any) is for another due date, soonest first.
    private static func due(now: Date, window: TimeInterval, limit: Int, on db: any Database) async throws -> [UUID] {
        let reminders = DueDateReminder.schema, tickets = Ticket.schema
        return try await db.sql.select().column(SQLColumn("id", table: tickets)).from(tickets)
            .join(
                reminders, method: SQLJoinMethod.left, on: SQLColumn("ticket_id", table: reminders), SQLBinaryOperator.equal,
                SQLColumn("id", table: tickets)
            )
            .where(SQLColumn("due_at", table: tickets), .greaterThan, SQLBind(now))
            .where(SQLColumn("due_at", table: tickets), .lessThanOrEqual, SQLBind(now.addingTimeInterval(window)))
            .where(SQLColumn("status", table: tickets), .notIn, SQLBind.group([TicketStatus.resolved.rawValue, TicketStatus.closed.rawValue]))
            .where {
                $0.where(SQLColumn("ticket_id", table: reminders), .is, SQLLiteral.null)
                    .orWhere(SQLColumn("due_at", table: reminders), .notEqual, SQLColumn("due_at", table: tickets))
            }
            .orderBy(SQLColumn("due_at", table: tickets)).limit(limit)
            .all(decoding: IdRow.self).map(\.id)
    }

    /// Moves the ticket's reminder to this due date; true only for the write that moved it, so of
    /// several instances one records the event (the others wait on the row, then find it moved).
    private static func claim(_ id: UUID, dueAt: Date, at now: Date, on db: any Database) async throws -> Bool {
        let reminders = DueDateReminder.schema
        let moved = try await db.sql.insert(into: reminders).columns("ticket_id", "due_at", "reminded_at")
            .values(SQLBind(id), SQLBind(dueAt), SQLBind(now))
            .onConflict(with: ["ticket_id"]) {
                $0.set(excludedValueOf: "due_at").set(excludedValueOf: "reminded_at")
                    .where(SQLColumn("due_at", table: reminders), .notEqual, SQLColumn("due_at", table: "excluded"))
            }
            .returning("ticket_id").all()
        return !moved.isEmpty
    }

    private struct IdRow: Decodable { let id: UUID }
}

/// A ticket's due date reminder: the due date "due date approaching" was last recorded for.
final class DueDateReminder: Model, @unchecked Sendable {
    static let schema = "due_date_reminders"

    @ID(custom: "ticket_id", generatedBy: .user) var id: UUID?
    @Field(key: "due_at") var dueAt: Date
    @Field(key: "reminded_at") var remindedAt: Date

    init() {}
}

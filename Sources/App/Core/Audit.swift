import Fluent
import Foundation
import SQLKit
import TandemCore

/// Writes the append-only audit log and the domain events (`EventLog`). Call it inside the
/// transaction that makes the change, last, so a change, its audit entry and its events land
/// together or not at all.
enum Audit {
    static let columns = [
        "id", "at", "actor_id", "actor_kind", "actor_name", "action", "entity_type", "entity_id", "organization_id", "ticket_id", "before", "after",
    ]

    /// `earlier`: entries of the same change made before this one (`TicketPipeline.unassign`), recorded first.
    static func record(
        _ action: String, _ entityType: String, id entityId: UUID?, by actor: Principal?,
        organizationId: UUID? = nil, ticketId: UUID? = nil,
        before: (any Encodable & Sendable)? = nil, after: (any Encodable & Sendable)? = nil,
        events: [DomainEvent]? = nil, along earlier: [AuditEntry] = [], on db: any Database
    ) async throws {
        try await recordAll(
            earlier + [
                entry(
                    action, entityType, id: entityId, by: actor, organizationId: organizationId, ticketId: ticketId, before: before, after: after,
                    events: events)
            ], on: db)
    }

    /// An entry to record later in the same transaction (`along:`): a write records its audit and
    /// events once, last, so it takes the event position lock only for its commit.
    static func entry(
        _ action: String, _ entityType: String, id entityId: UUID?, by actor: Principal?,
        organizationId: UUID? = nil, ticketId: UUID? = nil,
        before: (any Encodable & Sendable)? = nil, after: (any Encodable & Sendable)? = nil, events: [DomainEvent]? = nil
    ) -> AuditEntry {
        AuditEntry(
            action: action, entityType: entityType, entityId: entityId, actor: actor, organizationId: organizationId, ticketId: ticketId,
            before: before.map { JSONColumn.encode($0) }, after: after.map { JSONColumn.encode($0) }, events: events)
    }

    /// Writes many audit events with multi-row INSERTs (imports), then their domain events, inside the caller's transaction.
    static func recordAll(_ entries: [AuditEntry], on db: any Database) async throws {
        let at = db.now
        try await db.bulkInsert(into: AuditEvent.schema, columns: columns, rows: entries.map { $0.values(at: at) })
        try await EventLog.append(entries.flatMap { entry in entry.domainEvents.map { (entry.actor, $0) } }, at: at, on: db)
    }

    /// One event, for `SQLiteDirectConnection.execute` with `AuditEntry.values`.
    static let insertOne = BulkValue.insertStatement(into: AuditEvent.schema, columns: columns)
}

/// One audit event for `Audit.recordAll`.
struct AuditEntry: Sendable {
    var action: String
    var entityType: String
    var entityId: UUID?
    var actor: Principal?
    var organizationId: UUID?
    var ticketId: UUID? = nil
    /// JSON text, as `JSONColumn.encode` writes it.
    var before: String?
    var after: String?
    /// The domain events of the change; nil: the one the record stands for (`DomainEvent.recorded`), if any.
    var events: [DomainEvent]? = nil

    var domainEvents: [DomainEvent] {
        events ?? DomainEvent.recorded(action: action, entityType: entityType, entityId: entityId, organizationId: organizationId).map { [$0] } ?? []
    }

    /// The row of `Audit.columns`, for an event recorded `at`.
    func values(at: Date) -> [BulkValue] {
        [
            .id(.v7()), .date(at), .id(actor?.id), .text(actor?.kind.rawValue), .text(actor?.displayName ?? "system"),
            .text(action), .text(entityType), .id(entityId), .id(organizationId), .id(ticketId), .text(before), .text(after),
        ]
    }
}

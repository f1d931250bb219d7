import Fluent
import Foundation
import SQLKit
import TandemCore

/// The `events` table: domain events, appended by `Audit.recordAll` in the transaction of their
/// change and never changed after. Positions are drawn by the database (migration `CreateEvents`).
enum EventLog {
    static let schema = "events"
    static let scopeTable = ScopeTable(
        name: schema,
        columns: [.id: "entity_id", .organization: "organization_id", .site: "site_id", .queue: "queue_id", .team: "team_id", .contact: "contact_id"],
        publishTo: "publish_to", coManagedVisible: "co_managed_visible", area: "area", ticketId: "ticket_id")

    /// Every column but the position, in the order of `values`.
    static let columns = [
        "type", "area", "at", "entity_id", "organization_id", "ticket_id", "site_id", "queue_id", "team_id", "contact_id", "co_managed_visible",
        "publish_to", "actor_id", "actor_kind", "data",
    ]

    static func append(_ events: [(actor: Principal?, event: DomainEvent)], at: Date, on db: any Database) async throws {
        guard !events.isEmpty else { return }
        try await db.bulkInsert(into: schema, columns: columns, rows: events.map { values($0.event, by: $0.actor, at: at) })
    }

    /// The row of `columns`.
    static func values(_ event: DomainEvent, by actor: Principal?, at: Date) -> [BulkValue] {
        let ticket = event.ticket
        return [
            .text(event.type.rawValue), .text(event.type.area.rawValue), .date(at), .id(event.entityId), .id(event.organizationId), .id(ticket?.id),
            .id(ticket?.siteId), .id(ticket?.queueId), .id(ticket?.teamId), .id(ticket?.contactId), .bool(ticket?.coManagedVisible ?? false),
            .text(event.publishTo?.rawValue), .id(actor?.id), .text(actor?.kind.rawValue), .text(event.data.isEmpty ? nil : JSONColumn.encode(event.data)),
        ]
    }
}

extension Ticket {
    /// The ticket's facts its events keep.
    var eventFacts: TicketEventFacts {
        TicketEventFacts(
            id: id!, organizationId: organizationId, siteId: siteId, queueId: queueId, teamId: teamId, contactId: contactId,
            coManagedVisible: coManagedVisible)
    }
}

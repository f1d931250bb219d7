import Fluent
import Foundation
import TandemCore

/// Writes the append-only audit log. Call it inside the transaction that makes the change,
/// so a change and its audit entry land together or not at all.
enum Audit {
    static func record(
        _ action: String, _ entityType: String, id entityId: UUID?, by actor: Principal?,
        organizationId: UUID? = nil, ticketId: UUID? = nil,
        before: (any Encodable & Sendable)? = nil, after: (any Encodable & Sendable)? = nil,
        on db: any Database
    ) async throws {
        let event = AuditEvent()
        event.id = .v7()
        event.at = Date()
        event.actorId = actor?.id
        event.actorKind = actor?.kind.rawValue
        event.actorName = actor?.displayName ?? "system"
        event.action = action
        event.entityType = entityType
        event.entityId = entityId
        event.organizationId = organizationId
        event.ticketId = ticketId
        event.before = before.map { JSONColumn.encode($0) }
        event.after = after.map { JSONColumn.encode($0) }
        try await event.create(on: db)
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore

/// Writes the append-only audit log. Call it inside the transaction that makes the change,
/// so a change and its audit entry land together or not at all.
enum Audit {
    static let columns = [
        "id", "at", "actor_id", "actor_kind", "actor_name", "action", "entity_type", "entity_id", "organization_id", "ticket_id", "before", "after",
    ]

    static func record(
        _ action: String, _ entityType: String, id entityId: UUID?, by actor: Principal?,
        organizationId: UUID? = nil, ticketId: UUID? = nil,
        before: (any Encodable & Sendable)? = nil, after: (any Encodable & Sendable)? = nil,
        on db: any Database
    ) async throws {
        // One INSERT through SQLKit (the same row `AuditEvent.create` wrote, without Fluent's model reflection).
        let values: [any SQLExpression] = [
            SQLBind(UUID.v7()), SQLBind(Date()), SQLBind.orNull(actor?.id), SQLBind.orNull(actor?.kind.rawValue),
            SQLBind(actor?.displayName ?? "system"), SQLBind(action), SQLBind(entityType), SQLBind.orNull(entityId),
            SQLBind.orNull(organizationId), SQLBind.orNull(ticketId),
            SQLBind.orNull(before.map { JSONColumn.encode($0) }), SQLBind.orNull(after.map { JSONColumn.encode($0) }),
        ]
        try await db.sql.insert(into: AuditEvent.schema).columns(columns).values(values).run()
    }
}

import Fluent
import Foundation
import SQLiteKit
import SQLKit
import TandemCore

/// Writes the append-only audit log. Call it inside the transaction that makes the change,
/// so a change and its audit entry land together or not at all.
enum Audit {
    static let columns = [
        "id", "at", "actor_id", "actor_kind", "actor_name", "action", "entity_type", "entity_id", "organization_id", "ticket_id", "before", "after",
    ]

    private static let insertSQL = "INSERT INTO audit_events (\(columns.joined(separator: ", "))) VALUES (\((1...columns.count).map { "?\($0)" }.joined(separator: ", ")))"

    static func record(
        _ action: String, _ entityType: String, id entityId: UUID?, by actor: Principal?,
        organizationId: UUID? = nil, ticketId: UUID? = nil,
        before: (any Encodable & Sendable)? = nil, after: (any Encodable & Sendable)? = nil,
        on db: any Database
    ) async throws {
        let before = before.map { JSONColumn.encode($0) }, after = after.map { JSONColumn.encode($0) }
        if let sqlite = SQLiteDirect.database(db) {
            _ = try await sqlite.query(insertSQL, [
                .id(UUID.v7()), .date(Date()), .id(actor?.id), .optionalText(actor?.kind.rawValue), .text(actor?.displayName ?? "system"),
                .text(action), .text(entityType), .id(entityId), .id(organizationId), .id(ticketId), .optionalText(before), .optionalText(after),
            ])
            return
        }
        // One INSERT through SQLKit (the same row `AuditEvent.create` wrote, without Fluent's model reflection).
        let values: [any SQLExpression] = [
            SQLBind(UUID.v7()), SQLBind(Date()), SQLBind.orNull(actor?.id), SQLBind.orNull(actor?.kind.rawValue),
            SQLBind(actor?.displayName ?? "system"), SQLBind(action), SQLBind(entityType), SQLBind.orNull(entityId),
            SQLBind.orNull(organizationId), SQLBind.orNull(ticketId),
            SQLBind.orNull(before), SQLBind.orNull(after),
        ]
        try await db.sql.insert(into: AuditEvent.schema).columns(columns).values(values).run()
    }
}

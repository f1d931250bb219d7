import FluentKit
import Foundation
import SQLKit
import TandemCore

/// One audit event to write with others in a bulk change (imports).
struct AuditEntry: Sendable {
    var action: String
    var entityType: String
    var entityId: UUID?
    var actor: Principal?
    var organizationId: UUID?
    /// JSON text, as `JSONColumn.encode` writes it.
    var before: String?
    var after: String?
}

extension Audit {
    /// Writes many audit events with multi-row INSERTs, inside the caller's transaction like `record`.
    static func recordAll(_ entries: [AuditEntry], on db: any Database) async throws {
        let at = Date()
        for chunk in entries.chunked(200) {
            var insert = db.sql.insert(into: AuditEvent.schema).columns(
                "id", "at", "actor_id", "actor_kind", "actor_name", "action", "entity_type", "entity_id", "organization_id", "ticket_id", "before", "after")
            for entry in chunk {
                insert = insert.values(
                    SQLBind(UUID.v7()), SQLBind(at), SQLBind(entry.actor?.id), SQLBind(entry.actor?.kind.rawValue),
                    SQLBind(entry.actor?.displayName ?? "system"), SQLBind(entry.action), SQLBind(entry.entityType), SQLBind(entry.entityId),
                    SQLBind(entry.organizationId), SQLBind(UUID?.none), SQLBind(entry.before), SQLBind(entry.after))
            }
            try await insert.run()
        }
    }
}

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
        let rows: [[BulkValue]] = entries.map { entry in
            [.id(.v7()), .date(at), .id(entry.actor?.id), .text(entry.actor?.kind.rawValue), .text(entry.actor?.displayName ?? "system"),
             .text(entry.action), .text(entry.entityType), .id(entry.entityId), .id(entry.organizationId), .id(nil), .text(entry.before), .text(entry.after)]
        }
        try await db.bulkInsert(into: AuditEvent.schema, columns: [
            "id", "at", "actor_id", "actor_kind", "actor_name", "action", "entity_type", "entity_id", "organization_id", "ticket_id", "before", "after",
        ], rows: rows)
    }
}

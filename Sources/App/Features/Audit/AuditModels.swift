import Fluent
import Foundation
import TandemCore

/// One row of the append-only audit log: who, what, when, before and after.
final class AuditEvent: Model, @unchecked Sendable {
    static let schema = "audit_events"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "at") var at: Date
    @OptionalField(key: "actor_id") var actorId: UUID?
    @OptionalField(key: "actor_kind") var actorKind: String?
    @Field(key: "actor_name") var actorName: String
    @Field(key: "action") var action: String
    @Field(key: "entity_type") var entityType: String
    @OptionalField(key: "entity_id") var entityId: UUID?
    @OptionalField(key: "organization_id") var organizationId: UUID?
    @OptionalField(key: "ticket_id") var ticketId: UUID?
    @OptionalField(key: "before") var before: String?
    @OptionalField(key: "after") var after: String?

    init() {}
}

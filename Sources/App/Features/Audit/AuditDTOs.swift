import Foundation
import Vapor

struct AuditEventDTO: Content {
    var id: String
    var at: Date
    var actorId: String?
    var actorKind: String?
    var actorName: String
    var action: String
    var entityType: String
    var entityId: String?
    var organizationId: String?
    var ticketId: String?
    var before: String?
    var after: String?

    init(_ event: AuditEvent) {
        id = event.id!.uuidString
        at = event.at
        actorId = event.actorId?.uuidString
        actorKind = event.actorKind
        actorName = event.actorName
        action = event.action
        entityType = event.entityType
        entityId = event.entityId?.uuidString
        organizationId = event.organizationId?.uuidString
        ticketId = event.ticketId?.uuidString
        before = event.before
        after = event.after
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/audit-events`: read-only; the log is append-only. An organization's export is `AuditExport`.
enum AuditAPI {
    static let what = "audit event"

    static func register(_ api: any RoutesBuilder) {
        let events = api.grouped("audit-events")
        events.get { req async throws -> ListPage<AuditEventDTO> in
            let principal = try req.principal
            var validator = FieldValidator()
            let entityId = req.queryText("entityId").flatMap { validator.id($0, "entityId") }
            let ticketId = req.queryText("ticketId").flatMap { validator.id($0, "ticketId") }
            let organizationId = req.queryText("organizationId").flatMap { validator.id($0, "organizationId") }
            try validator.check()
            var query = AuditEvent.query(on: req.db).filter(AccessPolicy.auditScope(for: principal), on: AuditEvent.scopeTable)
            if let entityId { query = query.filter(\.$entityId == entityId) }
            if let ticketId { query = query.filter(\.$ticketId == ticketId) }
            if let organizationId { query = query.filter(\.$organizationId == organizationId) }
            let (items, next) = try await query.page(PageRequest(req))
            return ListPage(items: items.map(AuditEventDTO.init), nextCursor: next)
        }
        events.get(":id") { req async throws -> AuditEventDTO in
            let event = try await Lookup.visible(
                AuditEvent.self, req.id("id", what), scope: AccessPolicy.auditScope(for: req.principal), table: AuditEvent.scopeTable, what: what, on: req.db)
            return AuditEventDTO(event)
        }
        api.grouped("organizations", ":id").get("audit-export", use: AuditExport.download)
        for method in [HTTPMethod.PATCH, .DELETE] {
            events.on(method, ":id") { _ async throws -> Response in
                throw Abort(.methodNotAllowed, headers: ["Allow": "GET"], reason: "The audit log is append-only.")
            }.refusing()
        }
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// Explain access (SPEC §13) beyond tickets: `GET /{organizations|sites|contacts|client-profiles}/{id}/access?principalId=`
/// answers whether a principal can see the row, with the policy's reasons (`AccessPolicy.explainOrganizationRow`).
/// For admins, like the ticket's (`TicketAccessAPI`); the row must be one the admin sees, the principal
/// one it may know, or 404.
enum RowAccessAPI {
    static let collections: [(path: String, area: Area)] = [
        ("organizations", .organizations), ("sites", .sites), ("contacts", .contacts), ("client-profiles", .contacts),
    ]

    static func register(_ api: any RoutesBuilder) {
        for collection in collections {
            api.get(PathComponent(stringLiteral: collection.path), ":id", "access") { req async throws -> RowAccessDTO in
                let principal = try req.principal
                try AccessPolicy.authorizeAdmin(principal, .manageUsers)
                var validator = FieldValidator()
                let subjectId = validator.id(req.queryText("principalId"), "principalId")
                try validator.check()
                return try await explain(area: collection.area, rowId: req.id("id", collection.area.what), subjectId: subjectId!, by: principal, on: req.db)
            }
        }
    }

    static func explain(area: Area, rowId: UUID, subjectId: UUID, by principal: Principal, on db: any Database) async throws -> RowAccessDTO {
        let scope = AccessPolicy.organizationScope(for: principal, area: area, .view)
        let facts: ScopeFacts
        switch area {
        case .organizations:
            let row = try await Lookup.visible(Organization.self, rowId, scope: scope, table: Organization.scopeTable, what: area.what, on: db)
            facts = ScopeFacts(values: [.id: row.id, .organization: row.id])
        case .sites:
            let row = try await Lookup.visible(Site.self, rowId, scope: scope, table: Site.scopeTable, what: area.what, on: db)
            facts = ScopeFacts(values: [.id: row.id, .organization: row.organizationId, .site: row.id])
        default:
            let row = try await Lookup.visible(Contact.self, rowId, scope: scope, table: Contact.scopeTable, what: area.what, on: db)
            facts = ScopeFacts(values: [.id: row.id, .organization: row.organizationId, .site: row.siteId])
        }
        guard try await PeopleDirectory.visible([subjectId], to: principal, on: db).contains(subjectId),
            let subject = try await TicketAccessAPI.anyPrincipal(subjectId, on: db)
        else { throw TandemError.notFound("principal") }
        let explanation = AccessPolicy.explainOrganizationRow(subject, area: area, facts)
        return RowAccessDTO(
            id: rowId.uuidString, principalId: subjectId.uuidString, principalKind: subject.kind.rawValue, principalName: subject.displayName,
            allowed: explanation.allowed, reasons: explanation.reasons)
    }
}

struct RowAccessDTO: Content {
    var id: String
    var principalId: String
    var principalKind: String
    var principalName: String
    var allowed: Bool
    var reasons: [String]
}

extension Area {
    /// What a 404 names.
    var what: String {
        switch self {
        case .organizations: "organization"
        case .sites: "site"
        default: "contact"
        }
    }
}

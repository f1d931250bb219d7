import Fluent
import Foundation
import TandemCore
import Vapor

/// A site's notification rule as stored (`SiteNotificationRule` as JSON).
final class StoredSiteNotificationRule: Model, @unchecked Sendable {
    static let schema = "site_notification_rules"

    @ID(custom: "site_id", generatedBy: .user) var id: UUID?
    @Field(key: "definition") var definition: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var rule: SiteNotificationRule? { JSONColumn.decodeIfValid(definition, as: SiteNotificationRule.self) }
}

/// `GET|PUT /api/v1/sites/{id}/notification-rule`: whom the help desk escalates to at a site, in
/// order and when, and whom to call first for a simple inquiry. Read by whoever sees the site,
/// changed by whoever may change it; the contacts must be the site organization's.
enum SiteNotificationRulesAPI {
    static func register(_ api: any RoutesBuilder) {
        let rule = api.grouped("sites", ":id", "notification-rule")
        rule.get { req async throws -> SiteNotificationRuleDTO in
            let site = try await visibleSite(req)
            guard let stored = try await StoredSiteNotificationRule.find(site.id, on: req.db)?.rule else {
                throw TandemError.notFound("notification rule")
            }
            return SiteNotificationRuleDTO(siteId: site.id!, rule: stored)
        }
        rule.put { req async throws -> SiteNotificationRuleDTO in
            let principal = try req.principal
            let site = try await visibleSite(req)
            try await SitesCollection.authorize(.edit, site, by: principal, on: req.db)
            let given = try req.content.decode(SiteNotificationRule.self)
            try given.validate()
            let named = Array(given.references.ids[.contact] ?? [])
            let found = try await Contact.query(on: req.db).filter(\.$id ~~ named).filter(\.$organizationId == site.organizationId).count()
            guard found == named.count else {
                throw TandemError.invalid("escalation", "every contact must be one of \(site.name)'s organization's contacts")
            }
            return try await req.db.write { db in
                let row = try await StoredSiteNotificationRule.find(site.id, on: db) ?? StoredSiteNotificationRule()
                let before = row.id == nil ? nil : row.rule.map { SiteNotificationRuleDTO(siteId: site.id!, rule: $0) }
                row.id = site.id
                row.definition = JSONColumn.encode(given)
                row.updatedAt = db.now
                try await row.save(on: db)
                let after = SiteNotificationRuleDTO(siteId: site.id!, rule: given)
                try await Audit.record(
                    "updated", StoredSiteNotificationRule.schema, id: site.id, by: principal, organizationId: site.organizationId, before: before, after: after,
                    on: db)
                return after
            }
        }
    }

    private static func visibleSite(_ req: Request) async throws -> Site {
        try await Lookup.visible(
            Site.self, req.id("id", SitesCollection.what), scope: SitesCollection.scope(for: req.principal, .view), table: Site.scopeTable,
            what: SitesCollection.what, on: req.db)
    }
}

struct SiteNotificationRuleDTO: Content {
    var siteId: UUID
    var escalation: [SiteNotificationRule.Contact]
    var callBeforeEscalating: [UUID]?

    init(siteId: UUID, rule: SiteNotificationRule) {
        self.siteId = siteId
        escalation = rule.escalation
        callBeforeEscalating = rule.callBeforeEscalating
    }
}

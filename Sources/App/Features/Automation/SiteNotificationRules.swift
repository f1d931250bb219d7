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
/// order and when, and whom to call first for a simple inquiry. Read by whoever sees the site and works
/// tickets (`AccessPolicy.readsSiteRunbook`), changed by whoever may change it; the contacts must be the
/// site organization's.
enum SiteNotificationRulesAPI {
    static func register(_ api: any RoutesBuilder) {
        let rule = api.grouped("sites", ":id", "notification-rule")
        rule.get { req async throws -> SiteNotificationRuleDTO in
            let site = try await SitesCollection.visible(req)
            guard AccessPolicy.readsSiteRunbook(try req.principal),
                let stored = try await StoredSiteNotificationRule.find(site.id, on: req.db)?.rule
            else {
                throw TandemError.notFound("notification rule")
            }
            return SiteNotificationRuleDTO(siteId: site.id!, rule: stored)
        }
        rule.put { req async throws -> SiteNotificationRuleDTO in
            try await save(try await SitesCollection.visible(req), req.content.decode(SiteNotificationRule.self), by: req.principal, on: req.db)
        }
    }

    /// Sets a site's rule (the API's PUT and the site's rule page): who may change the site, contacts of its organization.
    static func save(_ site: Site, _ given: SiteNotificationRule, by principal: Principal, on db: any Database) async throws -> SiteNotificationRuleDTO {
        try await SitesCollection.authorize(.edit, site, by: principal, on: db)
        try given.validate()
        let named = Array(given.references.ids[.contact] ?? [])
        let found = try await Contact.query(on: db).filter(\.$id ~~ named).filter(\.$organizationId == site.organizationId).count()
        guard found == named.count else {
            throw TandemError.invalid("escalation", "every contact must be one of \(site.name)'s organization's contacts")
        }
        return try await db.write { db in
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

/// The site notification rule as the ticket page shows it to whoever works the ticket: whom to call
/// before escalating, and whom to escalate to now (business hours or after hours), in order, with
/// their phones and instructions. Only contacts the viewer may see are named.
struct WhomToCall: Encodable, Sendable {
    struct Person: Encodable, Sendable {
        var name: String
        var phones: String?
        var instructions: String?
        var hours: String
    }

    /// "Business hours now" or "After hours now"; nil when the site has no internal location (every contact is listed).
    var hoursNow: String?
    var callFirst: [Person]
    var escalateTo: [Person]

    static func load(siteId: UUID?, for principal: Principal, on db: any Database) async throws -> WhomToCall? {
        guard AccessPolicy.worksTickets(principal), let siteId,
            let site = try await Site.query(on: db).filter(\.$id == siteId).filter(SitesCollection.scope(for: principal, .view), on: Site.scopeTable).first(),
            let rule = try await StoredSiteNotificationRule.find(siteId, on: db)?.rule
        else { return nil }
        let hours = try await InternalLocation.find(site.internalLocationId, on: db)?.calendar?.hours(at: db.now)
        let escalation = hours.map { rule.escalationContacts(businessHours: $0 == .businessHours) } ?? rule.escalation
        let named = escalation.map(\.contactId) + (rule.callBeforeEscalating ?? [])
        let contacts = Dictionary(
            uniqueKeysWithValues: try await Contact.query(on: db).filter(\.$id ~~ named)
                .filter(ContactsCollection.scope(for: principal, .view), on: Contact.scopeTable).all().map { ($0.id!, $0) })
        func person(_ id: UUID, _ when: SiteNotificationRule.Hours, _ instructions: String?) -> Person? {
            guard let contact = contacts[id] else { return nil }
            let phones = contact.phones.map { "\($0.number) (\($0.kind))" }.joined(separator: ", ")
            return Person(name: contact.fullName, phones: phones.isEmpty ? nil : phones, instructions: instructions, hours: when.label)
        }
        return WhomToCall(
            hoursNow: hours.map { $0 == .businessHours ? "Business hours now" : "After hours now" },
            callFirst: (rule.callBeforeEscalating ?? []).compactMap { person($0, .always, nil) },
            escalateTo: escalation.compactMap { person($0.contactId, $0.hours, $0.instructions) })
    }
}

extension SiteNotificationRule.Hours {
    var label: String {
        switch self {
        case .businessHours: "Business hours"
        case .afterHours: "After hours"
        case .always: "Any time"
        }
    }
}

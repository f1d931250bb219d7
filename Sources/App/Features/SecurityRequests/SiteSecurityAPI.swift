import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// A site's security-related request settings and unlicensed software list, as stored.
final class StoredSiteSecurity: Model, @unchecked Sendable {
    static let schema = "site_security_settings"

    @ID(custom: "site_id", generatedBy: .user) var id: UUID?
    @OptionalField(key: "settings") var settings: String?
    @OptionalField(key: "software") var software: String?
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var siteSettings: SiteSecuritySettings { settings.flatMap { JSONColumn.decodeIfValid($0, as: SiteSecuritySettings.self) } ?? .init() }
    var softwareList: UnlicensedSoftwareList { software.flatMap { JSONColumn.decodeIfValid($0, as: UnlicensedSoftwareList.self) } ?? .init() }

    static func of(_ siteId: UUID, on db: any Database) async throws -> (SiteSecuritySettings, UnlicensedSoftwareList) {
        let stored = try await find(siteId, on: db)
        return (stored?.siteSettings ?? .init(), stored?.softwareList ?? .init())
    }
}

/// `GET|PUT /api/v1/sites/{id}/security-requests` (per category: approvers in order or "no approval
/// needed", caller and approver authentication, account templates) and `GET|PUT
/// /api/v1/sites/{id}/software-approvals`. Read by whoever sees the site and works security requests
/// (the approvals area: never contacts, 404), changed by whoever may change the site; approvers are
/// contacts of the site's organization or active MSP resources.
enum SiteSecurityAPI {
    /// The site `:id` names, when the principal sees it and may read its security-request settings.
    static func site(_ req: Request) async throws -> Site {
        let site = try await SitesCollection.visible(req)
        // Reading the requests' settings is refused only as a 404 (`authorizeSecurityRequests` at view).
        guard (try? AccessPolicy.authorizeSecurityRequests(req.principal, .view)) != nil else { throw TandemError.notFound(SitesCollection.what) }
        return site
    }

    static func register(_ api: any RoutesBuilder) {
        let settings = api.grouped("sites", ":id", "security-requests")
        settings.get { req async throws -> SiteSecuritySettingsDTO in
            let site = try await SiteSecurityAPI.site(req)
            return try await SiteSecuritySettingsDTO(site: site, settings: StoredSiteSecurity.of(site.id!, on: req.db).0, on: req.db)
        }
        settings.put { req async throws -> SiteSecuritySettingsDTO in
            let site = try await SiteSecurityAPI.site(req)
            let input = try req.content.decode(SiteSecuritySettingsInput.self)
            return try await save(site, input.settings, by: req.principal, on: req.db)
        }
        let software = api.grouped("sites", ":id", "software-approvals")
        software.get { req async throws -> SoftwareApprovalsDTO in
            let site = try await SiteSecurityAPI.site(req)
            return SoftwareApprovalsDTO(siteId: site.id!, list: try await StoredSiteSecurity.of(site.id!, on: req.db).1)
        }
        software.put { req async throws -> SoftwareApprovalsDTO in
            let site = try await SiteSecurityAPI.site(req)
            return try await save(site, req.content.decode(UnlicensedSoftwareList.self), by: req.principal, on: req.db)
        }
    }

    /// Replaces a site's settings (the API's PUT and the site's settings page).
    static func save(_ site: Site, _ given: SiteSecuritySettings, by principal: Principal, on db: any Database) async throws -> SiteSecuritySettingsDTO {
        try await SitesCollection.authorize(.edit, site, by: principal, on: db)
        try given.validate()
        try await requireApprovers(of: given, at: site, on: db)
        let after = try await SiteSecuritySettingsDTO(site: site, settings: given, on: db)
        try await store(site, \.settings, given, stored: \.siteSettings, action: "securityRequestsUpdated", by: principal, on: db)
        return after
    }

    static func save(_ site: Site, _ given: UnlicensedSoftwareList, by principal: Principal, on db: any Database) async throws -> SoftwareApprovalsDTO {
        try await SitesCollection.authorize(.edit, site, by: principal, on: db)
        try given.validate()
        try await store(site, \.software, given, stored: \.softwareList, action: "softwareApprovalsUpdated", by: principal, on: db)
        return SoftwareApprovalsDTO(siteId: site.id!, list: given)
    }

    /// Writes one of the site's two documents, audited with what it replaced.
    private static func store<Value: Codable & Sendable>(
        _ site: Site, _ column: ReferenceWritableKeyPath<StoredSiteSecurity, String?> & Sendable, _ given: Value,
        stored: KeyPath<StoredSiteSecurity, Value> & Sendable, action: String, by principal: Principal, on db: any Database
    ) async throws {
        try await db.write { db in
            // The row made or touched first, which takes its lock until the commit: of two saves at once the second waits, then
            // reads what the first wrote (its audit's "before"), where both used to find no row and the second failed to insert one.
            try await db.sql.raw(
                """
                INSERT INTO \(ident: StoredSiteSecurity.schema) (site_id, updated_at) VALUES (\(bind: site.requireID()), \(bind: db.now))
                ON CONFLICT (site_id) DO UPDATE SET updated_at = excluded.updated_at
                """
            ).run()
            let row = try await StoredSiteSecurity.find(site.id, on: db) ?? StoredSiteSecurity()
            let before = row[keyPath: column] == nil ? nil : row[keyPath: stored]
            row.id = site.id
            row[keyPath: column] = JSONColumn.encode(given)
            row.updatedAt = db.now
            try await row.save(on: db)
            try await Audit.record(action, Site.schema, id: site.id, by: principal, organizationId: site.organizationId, before: before, after: given, on: db)
        }
    }

    /// Contacts (and group contacts) of the site's organization, active MSP resources.
    private static func requireApprovers(of settings: SiteSecuritySettings, at site: Site, on db: any Database) async throws {
        let named = settings.categories.values.flatMap(\.approvers)
        let contactIds = named.filter { !$0.isMSP }.map(\.id), resourceIds = named.filter(\.isMSP).map(\.id)
        var contacts: Set<UUID> = [], resources: Set<UUID> = []
        if !contactIds.isEmpty {
            contacts.formUnion(
                try await Contact.query(on: db).filter(\.$id ~~ contactIds).filter(\.$organizationId == site.organizationId).all().compactMap(\.id))
        }
        if !resourceIds.isEmpty {
            resources.formUnion(try await Resource.query(on: db).filter(\.$id ~~ resourceIds).filter(\.$active == true).all().compactMap(\.id))
        }
        var problems: [FieldError] = []
        for (category, own) in settings.categories.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for (index, approver) in own.approvers.enumerated() where !(approver.isMSP ? resources : contacts).contains(approver.id) {
                problems.append(
                    FieldError(
                        "\(category.rawValue).approvers[\(index)]",
                        approver.isMSP ? "no active MSP resource has this id" : "must be a contact of \(site.name)'s organization"))
            }
        }
        if !problems.isEmpty { throw TandemError.validation(problems) }
    }
}

/// The PUT body: the categories, each replaced whole; a category left out goes back to "approval
/// needed, nobody named" (the MSP decides).
struct SiteSecuritySettingsInput: Decodable, Sendable {
    var categories: [SecurityCategory: SecurityCategorySettings]

    var settings: SiteSecuritySettings { SiteSecuritySettings(categories) }
}

struct SiteSecuritySettingsDTO: Content {
    struct Approver: Codable, Sendable {
        var kind: SecurityApprover.Kind
        var id: UUID
        /// The contact's or resource's name, for the pages; nil when it no longer exists.
        var name: String?
    }

    struct Category: Codable, Sendable {
        var noApprovalNeeded: Bool
        var approvers: [Approver]
        var authenticateCaller: Bool
        var authenticateApprover: Bool
        var templates: AccountTemplates?
    }

    var siteId: UUID
    var categories: [SecurityCategory: Category]
    var summary: [SecurityCategorySummary]

    init(site: Site, settings: SiteSecuritySettings, on db: any Database) async throws {
        let ids = settings.categories.values.flatMap(\.approvers)
        let contactIds = ids.filter { !$0.isMSP }.map(\.id), resourceIds = ids.filter(\.isMSP).map(\.id)
        var names: [UUID: String] = [:]
        if !contactIds.isEmpty { for contact in try await Contact.query(on: db).filter(\.$id ~~ contactIds).all() { names[contact.id!] = contact.fullName } }
        if !resourceIds.isEmpty {
            for resource in try await Resource.query(on: db).filter(\.$id ~~ resourceIds).all() { names[resource.id!] = resource.fullName }
        }
        siteId = site.id!
        categories = Dictionary(
            uniqueKeysWithValues: SecurityCategory.allCases.map { category in
                let own = settings[category]
                return (
                    category,
                    Category(
                        noApprovalNeeded: own.noApprovalNeeded, approvers: own.approvers.map { Approver(kind: $0.kind, id: $0.id, name: names[$0.id]) },
                        authenticateCaller: own.authenticateCaller, authenticateApprover: own.authenticateApprover, templates: own.templates)
                )
            })
        summary = settings.summary
    }
}

struct SoftwareApprovalsDTO: Content {
    var siteId: UUID
    var entries: [UnlicensedSoftwareList.Entry]

    init(siteId: UUID, list: UnlicensedSoftwareList) {
        self.siteId = siteId
        entries = list.entries
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// A site's network information, as stored.
final class StoredSiteNetwork: Model, @unchecked Sendable {
    static let schema = "site_network"

    @ID(custom: "site_id", generatedBy: .user) var id: UUID?
    @Field(key: "document") var document: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var network: SiteNetwork { JSONColumn.decodeIfValid(document, as: SiteNetwork.self) ?? SiteNetwork() }

    static func of(_ siteId: UUID, on db: any Database) async throws -> SiteNetwork {
        try await find(siteId, on: db)?.network ?? SiteNetwork()
    }
}

/// A site's documentation (network information, references) as `AccessPolicy.siteDocumentationScope` allows.
enum SiteDocumentation {
    /// The site `:id` names, when the principal sees it and may read its documentation (404 otherwise).
    static func site(_ req: Request) async throws -> Site {
        let site = try await SitesCollection.visible(req)
        guard allows(.view, site, by: try req.principal) else { throw TandemError.notFound(SitesCollection.what) }
        return site
    }

    static func allows(_ operation: AccessOperation, _ site: Site, by principal: Principal) -> Bool {
        AccessPolicy.siteDocumentationScope(for: principal, operation).evaluate(ScopeFacts(values: [.organization: site.organizationId]))
    }

    /// Refuses a change of a site's documentation the principal's level does not allow (403: it reads it).
    static func authorize(_ operation: AccessOperation, _ site: Site, by principal: Principal) throws {
        guard allows(operation, site, by: principal) else {
            throw TandemError.forbidden("your security level does not allow changing this site's documentation")
        }
    }
}

/// `GET|PUT /api/v1/sites/{id}/network`: printers, network drives, email, remote access, line-of-business
/// applications, Active Directory and backup. Read and replaced whole as the documentation area allows
/// (`SiteDocumentation`); linked credentials must be entries of the site's own vault. Audited (`networkUpdated`).
enum SiteNetworkAPI {
    static func register(_ api: any RoutesBuilder) {
        let network = api.grouped("sites", ":id", "network")
        network.get { req async throws -> SiteNetworkDTO in
            let site = try await SiteDocumentation.site(req)
            return SiteNetworkDTO(siteId: site.id!, network: try await StoredSiteNetwork.of(site.id!, on: req.db))
        }
        network.put { req async throws -> SiteNetworkDTO in
            let site = try await SiteDocumentation.site(req)
            return try await save(site, try req.content.decode(SiteNetwork.self), by: req.principal, on: req.db)
        }
    }

    /// Replaces a site's network information (the API's PUT and the site's page).
    static func save(_ site: Site, _ given: SiteNetwork, by principal: Principal, on db: any Database) async throws -> SiteNetworkDTO {
        try SiteDocumentation.authorize(.edit, site, by: principal)
        let network = try given.validated()
        let linked = network.credentialIds
        if !linked.isEmpty {
            let found = Set(
                try await SiteCredential.query(on: db).filter(\.$id ~~ linked.map(\.id)).filter(\.$siteId == site.id!).all().compactMap(\.id))
            let problems = linked.filter { !found.contains($0.id) }.map { FieldError($0.field, "must be a credential of this site's vault") }
            if !problems.isEmpty { throw TandemError.validation(problems) }
        }
        try await db.write { db in
            let row = try await StoredSiteNetwork.find(site.id, on: db) ?? StoredSiteNetwork()
            let before = row.id == nil ? nil : row.network
            row.id = site.id
            row.document = JSONColumn.encode(network)
            row.updatedAt = db.now
            try await row.save(on: db)
            try await Audit.record(
                "networkUpdated", Site.schema, id: site.id, by: principal, organizationId: site.organizationId, before: before, after: network, on: db)
        }
        return SiteNetworkDTO(siteId: site.id!, network: network)
    }
}

struct SiteNetworkDTO: Content {
    var siteId: UUID
    var printers: [SiteNetwork.Printer]
    var networkDrives: [SiteNetwork.NetworkDrive]
    var email: SiteNetwork.Email?
    var remoteAccess: [SiteNetwork.RemoteAccess]
    var applications: [SiteNetwork.Application]
    var activeDirectory: SiteNetwork.ActiveDirectory?
    var backup: SiteNetwork.Backup?
    /// The activation checklist's test: the email section and at least one other part.
    var present: Bool

    init(siteId: UUID, network: SiteNetwork) {
        self.siteId = siteId
        printers = network.printers
        networkDrives = network.networkDrives
        email = network.email
        remoteAccess = network.remoteAccess
        applications = network.applications
        activeDirectory = network.activeDirectory
        backup = network.backup
        present = network.isPresent
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `GET /api/v1/sites/{id}/checklist`: what the site still lacks before its help desk can go live,
/// computed from the data each time (`ActivationChecklist` in the core), never typed in. Read by
/// whoever sees the site and works tickets (`AccessPolicy.readsSiteRunbook`).
enum SiteChecklistAPI {
    static func register(_ api: any RoutesBuilder) {
        api.get("sites", ":id", "checklist") { req async throws -> ActivationChecklist in
            let site = try await SitesCollection.visible(req)
            guard AccessPolicy.readsSiteRunbook(try req.principal) else { throw TandemError.notFound("checklist") }
            return ActivationChecklist.evaluate(try await facts(of: site, on: req.db))
        }
    }

    static func facts(of site: Site, on db: any Database) async throws -> ActivationFacts {
        let siteId = try site.requireID()
        var facts = ActivationFacts(
            hasMainPhone: site.mainPhoneE164 != nil, clientEmailDomain: site.clientEmailDomain.flatMap { $0.isEmpty ? nil : $0 },
            noClientEmailDomain: site.clientEmailDomain == "", greetingCompanyName: site.greetingCompanyName)
        facts.escalationContacts = try await StoredSiteNotificationRule.find(siteId, on: db)?.rule?.escalation.count ?? 0
        if let contactId = site.helpDeskContactId { facts.helpDeskContactName = try await Contact.find(contactId, on: db)?.fullName }
        // A client profile is a contact with a site (SPEC §7).
        facts.clientProfiles = try await Contact.query(on: db).filter(\.$siteId == siteId).count()
        facts.managedDevicesWithAgent = try await SiteDevice.query(on: db).filter(\.$siteId == siteId).filter(\.$agentInstalled == true).count()
        facts.securityRequestsConfigured = try await StoredSiteSecurity.of(siteId, on: db).0.isConfigured
        facts.networkInformationPresent = try await StoredSiteNetwork.of(siteId, on: db).isPresent
        return facts
    }
}

extension ActivationChecklist: Content {}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `GET /api/v1/identify?phone=…[&country=GB]`: who is calling. The number (any common format; a
/// national one needs `country`) is normalized to E.164 and looked up in the phone directory and the
/// sites' main numbers, one index lookup each; the answer (`CallerIdentification` in the core) names
/// only the contacts and sites the caller's scopes reach, with what tells them apart, the greeting,
/// the site message and whom to call before escalating.
enum IdentifyAPI {
    static func register(_ api: any RoutesBuilder) {
        api.get("identify") { req async throws -> IdentifyAnswer in
            let principal = try req.principal
            guard AccessPolicy.takesCalls(principal) else { throw TandemError.forbidden("your security level does not allow taking calls") }
            return try await identify(phone(req.queryText("phone"), country: req.queryText("country")), by: principal, on: req.db)
        }
    }

    /// The number asked about (the API's and the page's query): any common format, a national one with `country`.
    static func phone(_ text: String?, country: String?) throws -> PhoneNumber {
        var validator = FieldValidator()
        let text = validator.text(text, "phone", max: 100)
        let country = validator.text(country, "country", max: 2, required: false).flatMap { $0.isEmpty ? nil : $0.uppercased() }
        if let country, !Countries.isValid(country) { validator.fail("country", "'\(country)' is not an ISO 3166 alpha-2 country code") }
        try validator.check()
        switch PhoneNumber.parse(text ?? "", defaultCountry: country) {
        case .success(let phone): return phone
        case .failure(let problem): throw TandemError.invalid("phone", problem.message)
        }
    }

    static func identify(_ phone: PhoneNumber, by principal: Principal, on db: any Database) async throws -> IdentifyAnswer {
        let matched = try await PhoneDirectory.contacts(with: phone.e164, on: db)
        let kinds = Dictionary(matched.map { ($0.contactId, $0.kind) }, uniquingKeysWith: { first, _ in first })
        let contacts = try await Contact.query(on: db).filter(\.$id ~~ Array(kinds.keys))
            .filter(ContactsCollection.scope(for: principal, .view), on: Contact.scopeTable).sort(\.$lastName).sort(\.$firstName).all()
        // The sites with this main number and the callers' sites, in one query.
        let contactSiteIds = Array(Set(contacts.compactMap(\.siteId)))
        let sites = try await Site.query(on: db)
            .group(.or) { either in
                either.filter(\.$mainPhoneE164 == phone.e164)
                if !contactSiteIds.isEmpty { either.filter(\.$id ~~ contactSiteIds) }
            }
            .filter(SitesCollection.scope(for: principal, .view), on: Site.scopeTable).sort(\.$name).all()
        let organizationIds = Set(contacts.map(\.organizationId) + sites.map(\.organizationId))
        let organizations = Dictionary(
            uniqueKeysWithValues: try await Organization.query(on: db).filter(\.$id ~~ Array(organizationIds)).all().map { ($0.id!, $0.name) })
        let siteNames = Dictionary(uniqueKeysWithValues: sites.map { ($0.id!, $0.name) })

        let callers = contacts.map { contact in
            CallerCandidate(
                contactId: contact.id!, firstName: contact.firstName, lastName: contact.lastName, email: contact.email, title: nil,
                organizationId: contact.organizationId, organizationName: organizations[contact.organizationId] ?? "", siteId: contact.siteId,
                siteName: contact.siteId.flatMap { siteNames[$0] }, phoneKind: kinds[contact.id!].flatMap(PhoneKind.init(rawValue:)))
        }
        let rules = Dictionary(
            uniqueKeysWithValues: sites.isEmpty
                ? []
                : try await StoredSiteNotificationRule.query(on: db).filter(\.$id ~~ sites.compactMap(\.id)).all().compactMap { stored in
                    stored.rule.map { (stored.id!, $0) }
                })
        let security = Dictionary(
            uniqueKeysWithValues: sites.isEmpty
                ? [] : try await StoredSiteSecurity.query(on: db).filter(\.$id ~~ sites.compactMap(\.id)).all().map { ($0.id!, $0.siteSettings) })
        var candidates: [SiteCandidate] = []
        for site in sites {
            candidates.append(
                SiteCandidate(
                    siteId: site.id!, siteName: site.name, organizationId: site.organizationId, organizationName: organizations[site.organizationId] ?? "",
                    profile: SiteHelpDeskProfile(
                        mainPhoneDisplay: site.mainPhone, greetingCompanyName: site.greetingCompanyName, siteMessage: site.siteMessage,
                        agentInstallOptIn: site.agentInstallOptIn),
                    callBeforeEscalating: try await callBeforeEscalating(rules[site.id!]?.callBeforeEscalating ?? [], by: principal, on: db),
                    securityRequests: (security[site.id!] ?? SiteSecuritySettings()).sentence, isMainPhone: site.mainPhoneE164 == phone.e164))
        }
        return CallerIdentification.identify(phone: phone, callers: callers, sites: candidates)
    }

    /// The site notification rule's "call before escalating" contacts the principal may see, with a phone each.
    private static func callBeforeEscalating(_ ids: [UUID], by principal: Principal, on db: any Database) async throws -> [CallBeforeContact] {
        guard !ids.isEmpty else { return [] }
        let contacts = Dictionary(
            uniqueKeysWithValues: try await Contact.query(on: db).filter(\.$id ~~ ids)
                .filter(ContactsCollection.scope(for: principal, .view), on: Contact.scopeTable).all().map { ($0.id!, $0) })
        return ids.compactMap { id in
            contacts[id].map { contact in
                CallBeforeContact(
                    contactId: id, name: contact.fullName,
                    phone: contact.phones.first.map { PhoneNumber.e164(nationalDigits: $0.number, country: $0.countryCode) ?? $0.number })
            }
        }
    }
}

extension IdentifyAnswer: Content {}

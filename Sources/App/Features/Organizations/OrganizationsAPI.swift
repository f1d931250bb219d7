import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/organizations` (with `/{id}/account-team`), `/api/v1/sites`, `/api/v1/contacts`.
enum OrganizationsAPI {
    static func register(_ api: any RoutesBuilder) {
        CRUD.register(OrganizationsCollection.self, api)
        CRUD.register(SitesCollection.self, api)
        CRUD.register(ContactsCollection.self, api)
        CRUD.register(SiteDevicesCollection.self, api)
        AccountTeams.register(api)
    }
}

/// A collection on the client side: the security level's permission on `area` grants each operation,
/// within the organizations the principal reaches (`AccessPolicy.organizationScope`).
protocol OrganizationCollection: CRUDCollection {
    static var area: Area { get }
}

extension OrganizationCollection {
    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.organizationScope(for: principal, area: area, operation)
    }

    static func authorize(_ operation: AccessOperation, _ row: Row, by principal: Principal, on db: any Database) async throws {
        let refusal = "your security level does not allow \(operation == .delete ? "deleting" : "changing") \(area.rawValue)"
        try await Lookup.require(row, in: scope(for: principal, operation), table: table, refusal, on: db)
    }

    /// The organization of a new site or contact: one the principal can see (others are a field error) and may add to.
    static func requireOrganization(_ id: UUID, _ req: Request) async throws {
        let visible = OrganizationsCollection.scope(for: try req.principal, .view)
        guard try await Organization.query(on: req.db).filter(\.$id == id).filter(visible, on: Organization.scopeTable).count() > 0 else {
            throw TandemError.invalid("organizationId", "no organization with this id")
        }
        guard try scope(for: req.principal, .create).evaluate(ScopeFacts(values: [.organization: id, .id: nil])) else {
            throw TandemError.forbidden("your security level does not allow this")
        }
    }

    /// `?organizationId=`: the rows of one organization.
    static func narrow(_ query: QueryBuilder<Row>, organization field: KeyPath<Row, FieldProperty<Row, UUID>>, _ req: Request) throws -> QueryBuilder<Row> {
        guard let text = req.queryText("organizationId") else { return query }
        guard let id = UUID(uuidString: text) else { throw TandemError.invalid("organizationId", "'\(text)' is not a valid id") }
        return query.filter(field == id)
    }
}

enum OrganizationsCollection: OrganizationCollection {
    static let area = Area.organizations
    static let path: PathComponent = "organizations"
    static let what = "organization"
    static let table = Organization.scopeTable

    /// Checked in `apply`, once the body has decoded: a malformed body is a 400 before it is a 403.
    static func authorizeCreate(_ principal: Principal) {}

    static func dto(_ row: Organization, on db: any Database) -> OrganizationDTO { OrganizationDTO(row) }

    static func apply(_ input: OrganizationInput, to row: Organization, creating: Bool, _ req: Request) throws -> CRUD.AfterSave? {
        if creating { try AccessPolicy.authorizeOrganizationCreation(req.principal) }
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 200) { row.name = name }
        try validator.check()
        return nil
    }

    static func prepareDelete(_ row: Organization, on db: any Database) async throws {
        let id = row.id!
        if try await Ticket.query(on: db).filter(\.$organizationId == id).count() > 0 {
            throw TandemError.conflict("the organization still has tickets; it cannot be deleted")
        }
        if try await Contact.query(on: db).filter(\.$organizationId == id).count() > 0 {
            throw TandemError.conflict("the organization still has contacts; delete them first")
        }
        if try await Site.query(on: db).filter(\.$organizationId == id).count() > 0 {
            throw TandemError.conflict("the organization still has sites; delete them first")
        }
    }

    static func organizationId(_ row: Organization) -> UUID? { row.id }

    static func clash(_ row: Organization) -> String? { "an organization named '\(row.name)' already exists" }
}

enum SitesCollection: OrganizationCollection {
    static let area = Area.sites
    static let path: PathComponent = "sites"
    static let what = "site"
    static let table = Site.scopeTable

    /// The parent organization decides, once the body names it (`apply`).
    static func authorizeCreate(_ principal: Principal) {}

    static func narrow(_ query: QueryBuilder<Site>, _ req: Request) throws -> QueryBuilder<Site> { try narrow(query, organization: \.$organizationId, req) }

    static func dto(_ row: Site, on db: any Database) -> SiteDTO { SiteDTO(row) }

    static func apply(_ input: SiteInput, to site: Site, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        let organizationId = creating ? validator.id(input.organizationId.value, "organizationId") : nil
        if !creating, let text = input.organizationId.value, text != site.organizationId.uuidString {
            validator.fail("organizationId", "a site cannot move to another organization")
        }
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 200) { site.name = name }
        if creating || !input.country.isAbsent, let country = validator.text(input.country.value, "country", max: 2) {
            if Countries.isValid(country) {
                site.country = country
            } else {
                validator.fail("country", "'\(country)' is not an ISO 3166 alpha-2 country code (such as US, GB, DE)")
            }
        }
        if !input.address.isAbsent { site.address = validator.text(input.address.value, "address", max: 500, required: false, multiline: true) }
        switch input.internalLocationId {
        case .absent: break
        case .null: site.internalLocationId = nil
        case .value(let text): site.internalLocationId = validator.id(text, "internalLocationId")
        }
        switch input.helpDeskContactId {
        case .absent: break
        case .null: site.helpDeskContactId = nil
        case .value(let text): site.helpDeskContactId = validator.id(text, "helpDeskContactId")
        }
        let profile = applyHelpDeskProfile(input, to: site, publicDomains: PublicMailDomains(extra: req.settings.options.publicMailDomains), &validator)
        try validator.check()
        if let profile {
            site.mainPhone = profile.mainPhoneDisplay
            site.mainPhoneE164 = profile.mainPhone?.e164
            site.clientEmailDomain = profile.noClientEmailDomain ? "" : profile.clientEmailDomain
            site.greetingCompanyName = profile.greetingCompanyName
            site.siteMessage = profile.siteMessage
            site.agentInstallOptIn = profile.agentInstallOptIn
            site.agentInstallFeeCents = profile.agentInstallFee.map { Int64($0.cents) }
        }
        if let organizationId {
            try await requireOrganization(organizationId, req)
            site.organizationId = organizationId
        }
        if let id = site.internalLocationId { try await Lookup.requireExisting(InternalLocation.self, [id], field: "internalLocationId", on: req.db) }
        if let id = site.helpDeskContactId,
            try await Contact.query(on: req.db).filter(\.$id == id).filter(\.$organizationId == site.organizationId).count() == 0
        {
            throw TandemError.invalid("helpDeskContactId", "must be a contact of the site's organization")
        }
        // The site's tickets count SLA time on its location's calendar: they are worked out again.
        guard !creating, !input.internalLocationId.isAbsent, let id = site.id else { return nil }
        return { db in
            try await SLASchedule.recheck("t.site_id = \(bind: id)", now: db.now, on: db)
            return []
        }
    }

    /// The help desk profile as it will be (the stored one with the body's changes), checked whole by the
    /// core's rules; nil when the body changes none of it.
    private static func applyHelpDeskProfile(
        _ input: SiteInput, to site: Site, publicDomains: PublicMailDomains, _ validator: inout FieldValidator
    ) -> SiteHelpDeskProfile? {
        let touched = [
            input.mainPhone.isAbsent, input.clientEmailDomain.isAbsent, input.noClientEmailDomain.isAbsent, input.greetingCompanyName.isAbsent,
            input.siteMessage.isAbsent, input.agentInstallOptIn.isAbsent, input.agentInstallFee.isAbsent,
        ].contains(false)
        guard touched || input.country.value != nil else { return nil }
        func merged(_ patch: Patch<String>, _ stored: String?) -> String? {
            switch patch {
            case .absent: stored
            case .null: nil
            case .value(let text): text
            }
        }
        var draft = SiteHelpDeskDraft(
            mainPhone: merged(input.mainPhone, site.mainPhone), greetingCompanyName: merged(input.greetingCompanyName, site.greetingCompanyName),
            siteMessage: merged(input.siteMessage, site.siteMessage), agentInstallOptIn: input.agentInstallOptIn.value ?? site.agentInstallOptIn,
            agentInstallFee: merged(input.agentInstallFee, site.agentInstallFeeCents.map { MoneyAmount(cents: Int($0)).description }))
        switch input.clientEmailDomain {
        case .absent:
            draft.clientEmailDomain = site.clientEmailDomain.flatMap { $0.isEmpty ? nil : $0 }
            draft.noClientEmailDomain = input.noClientEmailDomain.value ?? (site.clientEmailDomain == "")
            if draft.noClientEmailDomain == true { draft.clientEmailDomain = nil }
        case .null: draft.noClientEmailDomain = true
        case .value(let text):
            draft.clientEmailDomain = text
            draft.noClientEmailDomain = input.noClientEmailDomain.value ?? false
        }
        switch SiteHelpDeskRules.validate(draft, publicDomains: publicDomains, siteCountry: site.$country.value) {
        case .success(let profile): return profile
        case .failure(.validation(let errors)):
            for error in errors { validator.fail(error.field, error.message) }
            return nil
        case .failure(let error):
            validator.fail("helpDeskProfile", "\(error)")
            return nil
        }
    }

    static func prepareDelete(_ row: Site, on db: any Database) async throws {
        if try await Ticket.query(on: db).filter(\.$siteId == row.id!).count() > 0 {
            throw TandemError.conflict("the site still has tickets; it cannot be deleted")
        }
        if try await Contact.query(on: db).filter(\.$siteId == row.id!).count() > 0 {
            throw TandemError.conflict("the site still has contacts; move or delete them first")
        }
    }

    static func organizationId(_ row: Site) -> UUID? { row.organizationId }

    static func clash(_ row: Site) -> String? { nil }
}

enum ContactsCollection: OrganizationCollection {
    static let area = Area.contacts
    static let path: PathComponent = "contacts"
    static let what = "contact"
    static let table = Contact.scopeTable

    /// The parent organization decides, once the body names it (`apply`).
    static func authorizeCreate(_ principal: Principal) {}

    static func narrow(_ query: QueryBuilder<Contact>, _ req: Request) throws -> QueryBuilder<Contact> {
        try narrow(query, organization: \.$organizationId, req)
    }

    static func dto(_ row: Contact, on db: any Database) -> ContactDTO { ContactDTO(row) }

    static func apply(_ input: ContactInput, to contact: Contact, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        let principal = try req.principal
        var validator = FieldValidator()
        var organizationId: UUID?
        if creating {
            contact.portalOrganizationWide = false
            contact.phones = []
            organizationId = validator.id(input.organizationId.value, "organizationId")
        } else if let text = input.organizationId.value, text != contact.organizationId.uuidString {
            validator.fail("organizationId", "a contact cannot move to another organization")
        }
        let hadPortalLogin = !creating && contact.portalPasswordHash != nil
        let email = creating ? nil : contact.email
        let portalLogin = applyFields(input, to: contact, creating: creating, &validator)
        try validator.check()
        if let organizationId {
            try await requireOrganization(organizationId, req)
            contact.organizationId = organizationId
        }
        if let siteId = contact.siteId,
            try await Site.query(on: req.db).filter(\.$id == siteId).filter(\.$organizationId == contact.organizationId).count() == 0
        {
            throw TandemError.invalid("siteId", "no site with this id in the contact's organization")
        }
        let loginEmailChanged = hadPortalLogin && contact.email != email
        try await PortalLogin.authorize(portalLogin, of: contact, loginEmailChanged: loginEmailChanged, by: principal, on: req.db)
        try await portalLogin.apply(to: contact, passwords: req.password.async)
        let id = contact.id!
        let entry = portalLogin.entry(for: contact, by: principal)
        return { db in
            // The old password or login email no longer opens anything.
            if portalLogin != .unchanged || loginEmailChanged, !creating { try await Sessions.end(of: id, on: db) }
            try await PhoneDirectory.index(contact, on: db)
            return entry.map { [$0] } ?? []
        }
    }

    /// Tokens go with the contact; a contact that anything else refers to stays.
    static func prepareDelete(_ contact: Contact, on db: any Database) async throws {
        let id = contact.id!
        if try await Ticket.query(on: db).filter(\.$contactId == id).count() > 0 {
            throw TandemError.conflict("the contact is on tickets; it cannot be deleted")
        }
        if try await CoManagingUser.query(on: db).filter(\.$contactId == id).count() > 0 {
            throw TandemError.conflict("the contact is a co-managing user; it cannot be deleted")
        }
        try await APIToken.query(on: db).filter(\.$principalId == id).delete()
    }

    static func organizationId(_ row: Contact) -> UUID? { row.organizationId }

    static func clash(_ row: Contact) -> String? { nil }

    /// Applies a contact body but its portal login, which it returns for `PortalLogin.authorize`.
    static func applyFields(_ input: ContactInput, to contact: Contact, creating: Bool, _ validator: inout FieldValidator) -> PortalLogin {
        switch input.siteId {
        case .absent: break
        case .null: contact.siteId = nil
        case .value(let text): contact.siteId = validator.id(text, "siteId")
        }
        // Names, email and phones follow the client profile rules (`ContactRules`): what is saved here exports and imports again.
        var draft = ContactDraft(
            firstName: creating ? nil : contact.firstName, lastName: creating ? nil : contact.lastName, email: creating ? nil : contact.email,
            phones: creating
                ? []
                : contact.phones.compactMap { phone in
                    PhoneKind(rawValue: phone.kind).map { ProfileDraft.Phone(kind: $0, number: phone.number, countryCode: phone.countryCode) }
                }, hasSite: contact.siteId != nil || input.siteId.value != nil)
        if !input.firstName.isAbsent { draft.firstName = input.firstName.value }
        if !input.lastName.isAbsent { draft.lastName = input.lastName.value }
        if !input.email.isAbsent { draft.email = input.email.value }
        if !input.phones.isAbsent { draft.phones = PhoneInput.drafts(input.phones.value ?? [], &validator) }
        switch ContactRules.validate(draft) {
        case .success(let fields):
            contact.firstName = fields.firstName
            contact.lastName = fields.lastName
            contact.email = fields.email
            contact.phones = fields.phones.map { Phone(number: $0.number, countryCode: $0.countryCode, kind: $0.kind.rawValue) }
        case .failure(let errors):
            for problem in errors.problems { validator.fail(problem.fieldName, problem.message) }
        }
        if !input.portalOrganizationWide.isAbsent { contact.portalOrganizationWide = input.portalOrganizationWide.value ?? false }
        switch input.password {
        case .absent: return .unchanged
        case .null: return .removed
        case .value(let password):
            _ = validator.password(password)
            if contact.email == nil { validator.fail("password", "a contact needs an email to log in to the portal") }
            return .set(password)
        }
    }

}

/// A contact's portal login as a contact body changes it. Setting, resetting or removing one is a
/// credential change (`AccessPolicy.authorizeCredentialChange`), never a side effect of editing the contact,
/// and a contact bound to a co-managing user cannot hold one. Until invitations by mail exist, an
/// administrator sets the password, and each change is audited on its own.
enum PortalLogin: Equatable, Sendable {
    case unchanged
    case set(String)
    case removed

    static func authorize(_ change: PortalLogin, of contact: Contact, loginEmailChanged: Bool, by principal: Principal, on db: any Database) async throws {
        if change != .unchanged { try AccessPolicy.authorizeCredentialChange(principal, .password) }
        if loginEmailChanged { try AccessPolicy.authorizeCredentialChange(principal, .loginName) }
        if case .set = change, let id = contact.id {
            try AccessPolicy.refusePortalLogin(forCoManagingContact: try await Sessions.isCoManagingContact(id, on: db))
        }
    }

    func apply(to contact: Contact, passwords: AsyncPasswordHasher) async throws {
        switch self {
        case .unchanged: break
        case .set(let password): contact.portalPasswordHash = try await passwords.hash(password)
        case .removed: contact.portalPasswordHash = nil
        }
    }

    /// The change's own audit entry, recorded after the contact's.
    func entry(for contact: Contact, by principal: Principal) -> AuditEntry? {
        let action: String
        switch self {
        case .unchanged: return nil
        case .set: action = "portalLoginSet"
        case .removed: action = "portalLoginRemoved"
        }
        return Audit.entry(action, Contact.schema, id: contact.id, by: principal, organizationId: contact.organizationId, after: ["email": contact.email])
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/organizations`, `/api/v1/sites`, `/api/v1/contacts`.
enum OrganizationsAPI {
    static func register(_ api: any RoutesBuilder) {
        registerOrganizations(api.grouped("organizations"))
        registerSites(api.grouped("sites"))
        registerContacts(api.grouped("contacts"))
    }

    static func scope(_ req: Request, _ area: Area, _ operation: AccessOperation) throws -> Scope {
        AccessPolicy.organizationScope(for: try req.principal, area: area, operation)
    }

    // MARK: Organizations

    static func registerOrganizations(_ routes: any RoutesBuilder) {
        let what = "organization"
        let table = Organization.scopeTable
        routes.get { req async throws -> ListPage<OrganizationDTO> in
            let (items, next) = try await Organization.query(on: req.db).filter(scope(req, .organizations, .view), on: table).page(PageRequest(req))
            return ListPage(items: items.map(OrganizationDTO.init), nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            let input = try req.content.decode(OrganizationInput.self)
            try AccessPolicy.authorizeOrganizationCreation(principal)
            var validator = FieldValidator()
            let name = validator.text(input.name.value, "name", max: 200)
            try validator.check()
            let organization = Organization()
            organization.id = .v7()
            organization.name = name!
            try await mapUniqueViolation("an organization named '\(name!)' already exists") {
                try await req.db.write { db in
                    try await organization.create(on: db)
                    try await Audit.record(
                        "created", Organization.schema, id: organization.id, by: principal, organizationId: organization.id,
                        after: OrganizationDTO(organization), on: db)
                }
            }
            return try await OrganizationDTO(organization).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> OrganizationDTO in
            OrganizationDTO(
                try await Lookup.visible(Organization.self, req.id("id", what), scope: scope(req, .organizations, .view), table: table, what: what, on: req.db))
        }
        routes.patch(":id") { req async throws -> OrganizationDTO in
            let principal = try req.principal
            let organization = try await Lookup.visible(
                Organization.self, req.id("id", what), scope: scope(req, .organizations, .view), table: table, what: what, on: req.db)
            try await Lookup.require(
                organization, in: scope(req, .organizations, .edit), table: table, "your security level does not allow changing organizations", on: req.db)
            let input = try req.content.decode(OrganizationInput.self)
            let before = OrganizationDTO(organization)
            var validator = FieldValidator()
            if !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 200) { organization.name = name }
            try validator.check()
            try await mapUniqueViolation("an organization named '\(organization.name)' already exists") {
                try await req.db.write { db in
                    try await organization.save(on: db)
                    try await Audit.record(
                        "updated", Organization.schema, id: organization.id, by: principal, organizationId: organization.id, before: before,
                        after: OrganizationDTO(organization), on: db)
                }
            }
            return OrganizationDTO(organization)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let organization = try await Lookup.visible(
                Organization.self, req.id("id", what), scope: scope(req, .organizations, .view), table: table, what: what, on: req.db)
            try await Lookup.require(
                organization, in: scope(req, .organizations, .delete), table: table, "your security level does not allow deleting organizations", on: req.db)
            let id = organization.id!
            try await req.db.write { db in
                if try await Ticket.query(on: db).filter(\.$organizationId == id).count() > 0 {
                    throw TandemError.conflict("the organization still has tickets; it cannot be deleted")
                }
                if try await Contact.query(on: db).filter(\.$organizationId == id).count() > 0 {
                    throw TandemError.conflict("the organization still has contacts; delete them first")
                }
                if try await Site.query(on: db).filter(\.$organizationId == id).count() > 0 {
                    throw TandemError.conflict("the organization still has sites; delete them first")
                }
                try await organization.delete(on: db)
                try await Audit.record("deleted", Organization.schema, id: id, by: principal, organizationId: id, before: OrganizationDTO(organization), on: db)
            }
            return .noContent
        }
    }

    // MARK: Sites

    static func registerSites(_ routes: any RoutesBuilder) {
        let what = "site"
        let table = Site.scopeTable
        routes.get { req async throws -> ListPage<SiteDTO> in
            var query = Site.query(on: req.db).filter(try scope(req, .sites, .view), on: table)
            if let text = req.queryText("organizationId") {
                guard let id = UUID(uuidString: text) else { throw TandemError.invalid("organizationId", "'\(text)' is not a valid id") }
                query = query.filter(\.$organizationId == id)
            }
            let (items, next) = try await query.page(PageRequest(req))
            return ListPage(items: items.map(SiteDTO.init), nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            let input = try req.content.decode(SiteInput.self)
            let site = Site()
            site.id = .v7()
            var validator = FieldValidator()
            let organizationId = validator.id(input.organizationId.value, "organizationId")
            try apply(input, to: site, creating: true, &validator)
            try validator.check()
            try await requireOrganization(organizationId!, for: req, area: .sites, .create)
            site.organizationId = organizationId!
            try await checkInternalLocation(site, on: req.db)
            try await req.db.write { db in
                try await site.create(on: db)
                try await Audit.record("created", Site.schema, id: site.id, by: principal, organizationId: site.organizationId, after: SiteDTO(site), on: db)
            }
            return try await SiteDTO(site).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> SiteDTO in
            SiteDTO(try await Lookup.visible(Site.self, req.id("id", what), scope: scope(req, .sites, .view), table: table, what: what, on: req.db))
        }
        routes.patch(":id") { req async throws -> SiteDTO in
            let principal = try req.principal
            let site = try await Lookup.visible(Site.self, req.id("id", what), scope: scope(req, .sites, .view), table: table, what: what, on: req.db)
            try await Lookup.require(site, in: scope(req, .sites, .edit), table: table, "your security level does not allow changing sites", on: req.db)
            let input = try req.content.decode(SiteInput.self)
            let before = SiteDTO(site)
            var validator = FieldValidator()
            if let text = input.organizationId.value, text != site.organizationId.uuidString {
                validator.fail("organizationId", "a site cannot move to another organization")
            }
            try apply(input, to: site, creating: false, &validator)
            try validator.check()
            try await checkInternalLocation(site, on: req.db)
            try await req.db.write { db in
                try await site.save(on: db)
                try await Audit.record(
                    "updated", Site.schema, id: site.id, by: principal, organizationId: site.organizationId, before: before, after: SiteDTO(site), on: db)
            }
            return SiteDTO(site)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let site = try await Lookup.visible(Site.self, req.id("id", what), scope: scope(req, .sites, .view), table: table, what: what, on: req.db)
            try await Lookup.require(site, in: scope(req, .sites, .delete), table: table, "your security level does not allow deleting sites", on: req.db)
            let id = site.id!
            try await req.db.write { db in
                if try await Ticket.query(on: db).filter(\.$siteId == id).count() > 0 {
                    throw TandemError.conflict("the site still has tickets; it cannot be deleted")
                }
                if try await Contact.query(on: db).filter(\.$siteId == id).count() > 0 {
                    throw TandemError.conflict("the site still has contacts; move or delete them first")
                }
                try await site.delete(on: db)
                try await Audit.record("deleted", Site.schema, id: id, by: principal, organizationId: site.organizationId, before: SiteDTO(site), on: db)
            }
            return .noContent
        }
    }

    static func apply(_ input: SiteInput, to site: Site, creating: Bool, _ validator: inout FieldValidator) throws {
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
    }

    static func checkInternalLocation(_ site: Site, on db: any Database) async throws {
        if let id = site.internalLocationId { try await Lookup.requireExisting(InternalLocation.self, [id], field: "internalLocationId", on: db) }
    }

    /// A parent organization the principal can see and may add to; unknown ones are a field error.
    static func requireOrganization(_ id: UUID, for req: Request, area: Area, _ operation: AccessOperation) async throws {
        let visible =
            try await Organization.query(on: req.db).filter(\.$id == id).filter(scope(req, .organizations, .view), on: Organization.scopeTable).count() > 0
        guard visible else { throw TandemError.invalid("organizationId", "no organization with this id") }
        guard try scope(req, area, operation).evaluate(ScopeFacts(values: [.organization: id, .id: nil])) else {
            throw TandemError.forbidden("your security level does not allow this")
        }
    }

    // MARK: Contacts

    static func registerContacts(_ routes: any RoutesBuilder) {
        let what = "contact"
        let table = Contact.scopeTable
        routes.get { req async throws -> ListPage<ContactDTO> in
            var query = Contact.query(on: req.db).filter(try scope(req, .contacts, .view), on: table)
            if let text = req.queryText("organizationId") {
                guard let id = UUID(uuidString: text) else { throw TandemError.invalid("organizationId", "'\(text)' is not a valid id") }
                query = query.filter(\.$organizationId == id)
            }
            let (items, next) = try await query.page(PageRequest(req))
            return ListPage(items: items.map(ContactDTO.init), nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            let input = try req.content.decode(ContactInput.self)
            let contact = Contact()
            contact.id = .v7()
            contact.portalOrganizationWide = false
            contact.phones = []
            var validator = FieldValidator()
            let organizationId = validator.id(input.organizationId.value, "organizationId")
            let portalLogin = try await apply(input, to: contact, creating: true, &validator, req: req)
            try validator.check()
            try await requireOrganization(organizationId!, for: req, area: .contacts, .create)
            contact.organizationId = organizationId!
            try await checkSite(contact, on: req.db)
            try await PortalLogin.authorize(portalLogin, of: contact, loginEmailChanged: false, by: principal, on: req.db)
            try await portalLogin.apply(to: contact, passwords: req.password.async)
            try await req.db.write { db in
                try await contact.create(on: db)
                try await Audit.record(
                    "created", Contact.schema, id: contact.id, by: principal, organizationId: contact.organizationId, after: ContactDTO(contact), on: db)
                try await portalLogin.record(for: contact, by: principal, on: db)
            }
            return try await ContactDTO(contact).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> ContactDTO in
            ContactDTO(try await Lookup.visible(Contact.self, req.id("id", what), scope: scope(req, .contacts, .view), table: table, what: what, on: req.db))
        }
        routes.patch(":id") { req async throws -> ContactDTO in
            let principal = try req.principal
            let contact = try await Lookup.visible(Contact.self, req.id("id", what), scope: scope(req, .contacts, .view), table: table, what: what, on: req.db)
            try await Lookup.require(
                contact, in: scope(req, .contacts, .edit), table: table, "your security level does not allow changing contacts", on: req.db)
            let input = try req.content.decode(ContactInput.self)
            let before = ContactDTO(contact)
            var validator = FieldValidator()
            if let text = input.organizationId.value, text != contact.organizationId.uuidString {
                validator.fail("organizationId", "a contact cannot move to another organization")
            }
            let hadPortalLogin = contact.portalPasswordHash != nil
            let portalLogin = try await apply(input, to: contact, creating: false, &validator, req: req)
            try validator.check()
            try await checkSite(contact, on: req.db)
            let loginEmailChanged = hadPortalLogin && contact.email != before.email
            try await PortalLogin.authorize(portalLogin, of: contact, loginEmailChanged: loginEmailChanged, by: principal, on: req.db)
            try await portalLogin.apply(to: contact, passwords: req.password.async)
            try await req.db.write { db in
                try await contact.save(on: db)
                try await Audit.record(
                    "updated", Contact.schema, id: contact.id, by: principal, organizationId: contact.organizationId, before: before,
                    after: ContactDTO(contact), on: db)
                try await portalLogin.record(for: contact, by: principal, on: db)
                // The old password or login email no longer opens anything.
                if portalLogin != .unchanged || loginEmailChanged { try await Sessions.end(of: contact.id!, on: db) }
            }
            return ContactDTO(contact)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let contact = try await Lookup.visible(Contact.self, req.id("id", what), scope: scope(req, .contacts, .view), table: table, what: what, on: req.db)
            try await Lookup.require(
                contact, in: scope(req, .contacts, .delete), table: table, "your security level does not allow deleting contacts", on: req.db)
            try await deleteContact(contact, by: principal, before: ContactDTO(contact), on: req.db)
            return .noContent
        }
    }

    /// Deletes a contact (or client profile) that nothing refers to, with its tokens, audited.
    static func deleteContact(_ contact: Contact, by principal: Principal, before: some Encodable & Sendable, on db: any Database) async throws {
        let id = contact.id!
        try await db.write { db in
            if try await Ticket.query(on: db).filter(\.$contactId == id).count() > 0 {
                throw TandemError.conflict("the contact is on tickets; it cannot be deleted")
            }
            if try await CoManagingUser.query(on: db).filter(\.$contactId == id).count() > 0 {
                throw TandemError.conflict("the contact is a co-managing user; it cannot be deleted")
            }
            try await APIToken.query(on: db).filter(\.$principalId == id).delete()
            try await contact.delete(on: db)
            try await Audit.record("deleted", Contact.schema, id: id, by: principal, organizationId: contact.organizationId, before: before, on: db)
        }
    }

    /// Applies a contact body but its portal login, which it returns for `PortalLogin.authorize`.
    static func apply(_ input: ContactInput, to contact: Contact, creating: Bool, _ validator: inout FieldValidator, req: Request) async throws -> PortalLogin {
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

    static func checkSite(_ contact: Contact, on db: any Database) async throws {
        if let siteId = contact.siteId, try await Site.query(on: db).filter(\.$id == siteId).filter(\.$organizationId == contact.organizationId).count() == 0 {
            throw TandemError.invalid("siteId", "no site with this id in the contact's organization")
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

    func record(for contact: Contact, by principal: Principal, on db: any Database) async throws {
        let action: String
        switch self {
        case .unchanged: return
        case .set: action = "portalLoginSet"
        case .removed: action = "portalLoginRemoved"
        }
        try await Audit.record(
            action, Contact.schema, id: contact.id, by: principal, organizationId: contact.organizationId,
            after: ["email": contact.email], on: db)
    }
}

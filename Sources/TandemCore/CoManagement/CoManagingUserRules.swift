import Foundation

/// An organization as the co-managing user rules see it.
public struct CoManagedOrganizationFacts: Sendable, Equatable {
    public var name: String
    public var coManagementEnabled: Bool

    public init(name: String, coManagementEnabled: Bool) {
        self.name = name
        self.coManagementEnabled = coManagementEnabled
    }
}

/// An existing contact as the wizard sees it.
public struct WizardContactFacts: Sendable, Equatable {
    public var hasEmail: Bool
    public var isCoManagingUser: Bool

    public init(hasEmail: Bool, isCoManagingUser: Bool) {
        self.hasEmail = hasEmail
        self.isCoManagingUser = isCoManagingUser
    }
}

/// What the co-managing user rules look up. The server answers over its database, for one principal: an
/// organization outside the principal's reach is `nil`, as an unknown one is.
public protocol CoManagingUserFacts: Sendable {
    /// The organization a new co-managing user of the principal may belong to (its client restrictions).
    func organizationForNewUser(_ id: UUID) async throws -> CoManagedOrganizationFacts?
    /// A contact of the organization, or `nil` when it has none with this id.
    func contact(_ id: UUID, organizationId: UUID) async throws -> WizardContactFacts?
    func siteExists(_ id: UUID, organizationId: UUID) async throws -> Bool
    /// Active, not erased co-managing users: each is a billable license.
    func activeLicenses() async throws -> Int
}

/// The contact a new co-managing user is bound to, as given.
public enum WizardContact: Sendable, Equatable {
    case existing(UUID)
    case new(siteId: UUID?)
}

/// Co-managing users need a license confirmation: raised with the count before the one being added.
public struct LicenseConfirmationRequired: Error, Sendable, Equatable {
    public var currentLicenses: Int
    public init(currentLicenses: Int) { self.currentLicenses = currentLicenses }
}

/// The co-managing user wizard's and edits' rules (SPEC §2). The wizard pages check each step with these
/// before showing the next, and the service checks them all again: one wording, one decision.
public enum CoManagingUserRules {
    /// The wizard's first step: an organization the principal reaches, with co-management on.
    public static func checkOrganization(_ id: UUID?, facts: some CoManagingUserFacts) async throws -> CoManagedOrganizationFacts {
        guard let id, let organization = try await facts.organizationForNewUser(id) else {
            throw TandemError.invalid("organizationId", "no organization with this id")
        }
        guard organization.coManagementEnabled else {
            throw TandemError.invalid("organizationId", "co-management is not enabled for \(organization.name); enable it in its co-managed setup first")
        }
        return organization
    }

    /// The wizard's contact step, fields only: an existing contact or a new one, never both; a new one follows
    /// `ContactRules` and needs its primary email. Its phones are optional even with a site: the wizard's
    /// pages ask for none (such a contact's profile row restates it on re-import, but cannot be copied to
    /// another site until it has a phone).
    public static func contactChoice(contactId: String?, newContact: ContactDraft?, _ validator: inout FieldValidator) -> ContactFields? {
        if contactId == nil, newContact == nil { validator.fail("contactId", "give an existing contact, or contact to create one") }
        if contactId != nil, newContact != nil { validator.fail("contact", "give either contactId or contact, not both") }
        guard var draft = newContact else { return nil }
        draft.hasSite = false
        if (draft.email.map(Whitespace.trim) ?? "").isEmpty { validator.fail("contact.email", "the primary email is required for a co-managing user") }
        switch ContactRules.validate(draft) {
        case .success(let fields): return fields
        case .failure(let errors):
            for problem in errors.problems {
                validator.fail("contact.\(problem.fieldName)", problem.message)
            }
            return nil
        }
    }

    /// Whether an existing contact may become a co-managing user: it has a primary email and is none yet.
    /// The wizard offers only those; `checkContact` says why another is refused.
    public static func mayBecomeCoManagingUser(_ contact: WizardContactFacts) -> Bool {
        contact.hasEmail && !contact.isCoManagingUser
    }

    /// The contact step against the organization: an existing contact of it with a primary email that is no
    /// co-managing user yet, or a new contact's site in it.
    public static func checkContact(_ contact: WizardContact, organizationId: UUID, facts: some CoManagingUserFacts) async throws {
        switch contact {
        case .existing(let id):
            guard let found = try await facts.contact(id, organizationId: organizationId) else {
                throw TandemError.invalid("contactId", "no contact with this id in the organization")
            }
            guard found.hasEmail else { throw TandemError.invalid("contactId", "the contact has no primary email; a co-managing user needs one") }
            if found.isCoManagingUser { throw TandemError.conflict("this contact already is a co-managing user") }
        case .new(let siteId):
            if let siteId, !(try await facts.siteExists(siteId, organizationId: organizationId)) {
                throw TandemError.invalid("contact.siteId", "no site with this id in the organization")
            }
        }
    }

    /// At least one queue (SPEC §2); roles are optional (needed only to log time).
    public static func checkQueues(_ queueIds: [UUID], _ validator: inout FieldValidator) {
        if queueIds.isEmpty { validator.fail("queueIds", "a co-managing user needs at least one queue") }
    }

    /// A security level for a co-managing user: a co-managed one.
    public static func checkSecurityLevel(name: String, coManaged: Bool) throws(TandemError) {
        guard coManaged else { throw .invalid("securityLevelId", "'\(name)' is not a co-managed security level; co-managing users need one") }
    }

    /// Adding or re-activating a co-managing user adds a billable license: it goes through only once confirmed.
    public static func checkLicense(confirmed: Bool, facts: some CoManagingUserFacts) async throws {
        let current = try await facts.activeLicenses()
        guard confirmed else { throw LicenseConfirmationRequired(currentLicenses: current) }
    }

    /// An organization's account manager stays until another is assigned (SPEC §2).
    public static func checkNotAccountManager(username: String, managedOrganizations: [String]) throws(TandemError) {
        if !managedOrganizations.isEmpty {
            throw .conflict("\(username) is the account manager of \(managedOrganizations.joined(separator: ", ")); assign another account manager first")
        }
    }

    /// What a license count reads as on the pages.
    public static func licenseSummary(_ count: Int) -> String {
        count == 1 ? "1 co-managed license in use" : "\(count) co-managed licenses in use"
    }
}

/// The association limits of SPEC §2: a co-managing user reaches at most 500 organizations and belongs
/// to at most 100 co-managing teams.
public enum CoManagedAssociationRules {
    public static let maxOrganizationsPerUser = 500
    public static let maxTeamsPerUser = 100

    /// Refuses associating a user already associated with `current` other organizations with one more.
    public static func checkOrganizationAdded(current: Int) throws(TandemError) {
        if current >= maxOrganizationsPerUser {
            throw .invalid("coManagingUserIds", "a co-managing user can be associated with at most \(maxOrganizationsPerUser) organizations")
        }
    }

    /// Refuses adding a user who already belongs to `current` other teams to one more.
    public static func checkTeamAdded(current: Int) throws(TandemError) {
        if current >= maxTeamsPerUser {
            throw .invalid("memberIds", "a co-managing user can belong to at most \(maxTeamsPerUser) co-managing teams")
        }
    }
}

extension ProfileProblem {
    /// The field name of a contact problem (`phones[0].number`, `email`), as the APIs name them.
    public var fieldName: String {
        switch column {
        case .phone: phoneIndex.map { "phones[\($0)].number" } ?? "phones"
        case .phoneCountry: phoneIndex.map { "phones[\($0)].countryCode" } ?? "phones"
        case .id: "id"
        case .firstName: "firstName"
        case .lastName: "lastName"
        case .email: "email"
        case .mobileProvider: "mobileProvider"
        case .smsGateway: "smsGateway"
        case .thinClient: "thinClient"
        case .notes: "notes"
        case .delete: "delete"
        }
    }
}

import Foundation
import TandemCore
import Testing

/// The co-managing user wizard and license rules, the association limits, and the contact rules, over fake facts.
@Suite struct CoManagementRulesTests {
    /// Facts as a test sets them: one organization in reach, contacts and sites of it, a license count.
    struct Facts: CoManagingUserFacts {
        var organizations: [UUID: CoManagedOrganizationFacts] = [:]
        var contacts: [UUID: (organization: UUID, facts: WizardContactFacts)] = [:]
        var sites: [UUID: UUID] = [:]
        var licenses = 0

        func organizationForNewUser(_ id: UUID) async throws -> CoManagedOrganizationFacts? { organizations[id] }
        func contact(_ id: UUID, organizationId: UUID) async throws -> WizardContactFacts? {
            contacts[id].flatMap { $0.organization == organizationId ? $0.facts : nil }
        }
        func siteExists(_ id: UUID, organizationId: UUID) async throws -> Bool { sites[id] == organizationId }
        func activeLicenses() async throws -> Int { licenses }
    }

    let northwind = UUID(), contoso = UUID(), outside = UUID()

    var facts: Facts {
        Facts(organizations: [northwind: .init(name: "Northwind", coManagementEnabled: true), contoso: .init(name: "Contoso", coManagementEnabled: false)])
    }

    func field(_ error: any Error) -> String? {
        if case TandemError.validation(let errors) = error { return errors.first?.field }
        return nil
    }

    @Test func theOrganizationMustBeInReachAndCoManaged() async throws {
        #expect(try await CoManagingUserRules.checkOrganization(northwind, facts: facts).name == "Northwind")
        let refused: [(UUID?, String)] = [
            (outside, "no organization with this id"), (contoso, "co-management is not enabled for Contoso"), (nil, "no organization"),
        ]
        for (id, message) in refused {
            do {
                _ = try await CoManagingUserRules.checkOrganization(id, facts: facts)
                Issue.record("\(String(describing: id)) was accepted")
            } catch let TandemError.validation(errors) {
                #expect(errors.map(\.field) == ["organizationId"])
                #expect(errors[0].message.contains(message))
            }
        }
    }

    @Test func theContactIsExistingOrNewNeverBoth() {
        var neither = FieldValidator()
        #expect(CoManagingUserRules.contactChoice(contactId: nil, newContact: nil, &neither) == nil)
        #expect(neither.errors.map(\.field) == ["contactId"])

        var both = FieldValidator()
        _ = CoManagingUserRules.contactChoice(
            contactId: UUID().uuidString, newContact: ContactDraft(firstName: "A", lastName: "B", email: "a@b.example", hasSite: false), &both)
        #expect(both.errors.map(\.field) == ["contact"])

        var new = FieldValidator()
        let fields = CoManagingUserRules.contactChoice(
            contactId: nil, newContact: ContactDraft(firstName: " Nina ", lastName: "Novak", email: "Nina@Northwind.Example", hasSite: true), &new)
        #expect(new.errors.isEmpty)
        #expect(fields == ContactFields(firstName: "Nina", lastName: "Novak", email: "nina@northwind.example", phones: []), "no phone needed in the wizard")
    }

    @Test func aNewContactFollowsTheContactRulesAndNeedsAnEmail() {
        var validator = FieldValidator()
        _ = CoManagingUserRules.contactChoice(contactId: nil, newContact: ContactDraft(firstName: "N/A", lastName: " ", email: nil, hasSite: false), &validator)
        #expect(Set(validator.errors.map(\.field)) == ["contact.firstName", "contact.lastName", "contact.email"])
        #expect(validator.errors.contains { $0.field == "contact.email" && $0.message.contains("primary email is required") })
    }

    @Test func anExistingContactNeedsAnEmailAndNoUser() async throws {
        let ok = UUID(), noEmail = UUID(), taken = UUID(), elsewhere = UUID()
        var facts = self.facts
        facts.contacts = [
            ok: (northwind, .init(hasEmail: true, isCoManagingUser: false)), noEmail: (northwind, .init(hasEmail: false, isCoManagingUser: false)),
            taken: (northwind, .init(hasEmail: true, isCoManagingUser: true)), elsewhere: (contoso, .init(hasEmail: true, isCoManagingUser: false)),
        ]
        try await CoManagingUserRules.checkContact(.existing(ok), organizationId: northwind, facts: facts)
        await #expect(throws: TandemError.invalid("contactId", "the contact has no primary email; a co-managing user needs one")) {
            try await CoManagingUserRules.checkContact(.existing(noEmail), organizationId: northwind, facts: facts)
        }
        await #expect(throws: TandemError.conflict("this contact already is a co-managing user")) {
            try await CoManagingUserRules.checkContact(.existing(taken), organizationId: northwind, facts: facts)
        }
        await #expect(throws: TandemError.invalid("contactId", "no contact with this id in the organization")) {
            try await CoManagingUserRules.checkContact(.existing(elsewhere), organizationId: northwind, facts: facts)
        }
        #expect(CoManagingUserRules.mayBecomeCoManagingUser(facts.contacts[ok]!.facts))
        #expect(!CoManagingUserRules.mayBecomeCoManagingUser(facts.contacts[noEmail]!.facts))
        #expect(!CoManagingUserRules.mayBecomeCoManagingUser(facts.contacts[taken]!.facts))
        let site = UUID()
        facts.sites = [site: northwind]
        try await CoManagingUserRules.checkContact(.new(siteId: site), organizationId: northwind, facts: facts)
        try await CoManagingUserRules.checkContact(.new(siteId: nil), organizationId: northwind, facts: facts)
        await #expect(throws: TandemError.invalid("contact.siteId", "no site with this id in the organization")) {
            try await CoManagingUserRules.checkContact(.new(siteId: site), organizationId: contoso, facts: facts)
        }
    }

    @Test func aLicenseIsConfirmedWithTheCurrentCount() async throws {
        var facts = self.facts
        facts.licenses = 7
        await #expect(throws: LicenseConfirmationRequired(currentLicenses: 7)) {
            try await CoManagingUserRules.checkLicense(confirmed: false, facts: facts)
        }
        try await CoManagingUserRules.checkLicense(confirmed: true, facts: facts)
        #expect(CoManagingUserRules.licenseSummary(1) == "1 co-managed license in use")
        #expect(CoManagingUserRules.licenseSummary(0) == "0 co-managed licenses in use")
    }

    @Test func queuesLevelsAndAccountManagers() {
        var validator = FieldValidator()
        CoManagingUserRules.checkQueues([], &validator)
        #expect(validator.errors.map(\.field) == ["queueIds"])
        var one = FieldValidator()
        CoManagingUserRules.checkQueues([UUID()], &one)
        #expect(one.errors.isEmpty)
        #expect(throws: TandemError.self) { try CoManagingUserRules.checkSecurityLevel(name: "Technician", coManaged: false) }
        #expect(throws: Never.self) { try CoManagingUserRules.checkSecurityLevel(name: "Co-managed Basic", coManaged: true) }
        #expect(throws: TandemError.conflict("nina is the account manager of Northwind, Contoso; assign another account manager first")) {
            try CoManagingUserRules.checkNotAccountManager(username: "nina", managedOrganizations: ["Northwind", "Contoso"])
        }
        #expect(throws: Never.self) { try CoManagingUserRules.checkNotAccountManager(username: "nina", managedOrganizations: []) }
    }

    @Test func associationLimitsAre500OrganizationsAnd100Teams() {
        #expect(throws: Never.self) { try CoManagedAssociationRules.checkOrganizationAdded(current: 499) }
        #expect(throws: TandemError.self) { try CoManagedAssociationRules.checkOrganizationAdded(current: 500) }
        #expect(throws: Never.self) { try CoManagedAssociationRules.checkTeamAdded(current: 99) }
        #expect(throws: TandemError.self) { try CoManagedAssociationRules.checkTeamAdded(current: 100) }
    }

    // MARK: Contacts

    @Test func contactsFollowTheProfileRules() {
        let accepted = ContactRules.validate(
            ContactDraft(
                firstName: " Zoë ", lastName: "O'Brien", email: "ZOE@Example.COM",
                phones: [.init(kind: .mobile, number: " 0412345678 ", countryCode: "au"), .init(kind: .office, number: "2065550100", countryCode: "US")],
                hasSite: true))
        #expect(
            accepted
                == .success(
                    ContactFields(
                        firstName: "Zoë", lastName: "O'Brien", email: "zoe@example.com",
                        phones: [
                            ProfilePhone(number: "2065550100", countryCode: "US", kind: .office),
                            ProfilePhone(number: "0412345678", countryCode: "AU", kind: .mobile),
                        ])), "trimmed, lower-cased email, upper-cased countries, phones in kind order")

        func problems(_ draft: ContactDraft) -> [String] {
            guard case .failure(let errors) = ContactRules.validate(draft) else { return [] }
            return errors.problems.map(\.fieldName)
        }
        #expect(problems(ContactDraft(firstName: "N/A", lastName: "n\\a", email: nil, hasSite: false)) == ["firstName", "lastName"])
        #expect(
            problems(ContactDraft(firstName: "A", lastName: "B", email: nil, hasSite: true)) == ["phones"],
            "a contact with a site is a profile: it needs a phone")
        #expect(problems(ContactDraft(firstName: "A", lastName: "B", email: nil, hasSite: false)) == [], "one without a site does not")
        #expect(
            problems(
                ContactDraft(
                    firstName: "A", lastName: "B", email: nil,
                    phones: [
                        .init(kind: .office, number: "+1 206", countryCode: "US"),
                        .init(kind: .home, number: "123", countryCode: nil),
                        .init(kind: .mobile, number: "123", countryCode: "XX"),
                    ], hasSite: false))
                == ["phones[0].number", "phones[1].countryCode", "phones[2].countryCode"])
        #expect(
            problems(
                ContactDraft(
                    firstName: "A", lastName: "B", email: nil,
                    phones: [
                        .init(kind: .office, number: "1", countryCode: "US"),
                        .init(kind: .office, number: "2", countryCode: "US"),
                    ], hasSite: false))
                == ["phones[1].number"], "one number per kind")
    }

    // MARK: The policy's new decisions

    func principal(_ kind: PrincipalKind, _ level: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(
            id: UUID(), kind: kind, displayName: "P", securityLevelId: UUID(), permissions: kind == .contact ? .nothing : level.permissions,
            clientRestrictions: restrictions, organizationId: kind == .resource ? nil : northwind)
    }

    @Test func onlyUnrestrictedStaffWhoMayAddThemCreateOrganizations() {
        #expect(throws: Never.self) { try AccessPolicy.authorizeOrganizationCreation(principal(.resource, .administrator)) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeOrganizationCreation(principal(.resource, .administrator, restrictions: [northwind])) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeOrganizationCreation(principal(.coManagingUser, .coManagedHelpDesk)) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeOrganizationCreation(principal(.contact, .administrator)) }
        var noAdd = principal(.resource, .administrator)
        noAdd.permissions.areas[.organizations] = .view
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeOrganizationCreation(noAdd) }
    }

    @Test func whoMayOpenTicketsAndWhoNeedsTwoFactor() {
        #expect(AccessPolicy.mayOpenTickets(principal(.contact, .administrator)))
        #expect(AccessPolicy.mayOpenTickets(principal(.resource, .technician)))
        var noAdd = principal(.coManagingUser, .coManagedHelpDesk)
        noAdd.permissions.areas[.tickets] = .view
        #expect(!AccessPolicy.mayOpenTickets(noAdd))
        #expect(AccessPolicy.requiresTwoFactor(.coManagingUser))
        #expect(!AccessPolicy.requiresTwoFactor(.resource))
        #expect(!AccessPolicy.requiresTwoFactor(.contact))
    }
}

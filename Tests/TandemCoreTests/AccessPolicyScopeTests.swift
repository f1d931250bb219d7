import Foundation
import TandemCore
import Testing

/// The policy's answers about people, teams, saved filters and ticket fields (the "Scope" security findings).
@Suite struct AccessPolicyScopeTests {
    let northwind = UUID(), contoso = UUID()
    let me = UUID(), someoneElse = UUID()

    func resource(_ system: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(id: me, kind: .resource, displayName: "Rick", securityLevelId: UUID(), permissions: system.permissions, clientRestrictions: restrictions)
    }

    func coManagingUser(home: UUID) -> Principal {
        Principal(
            id: me, kind: .coManagingUser, displayName: "Nina", securityLevelId: UUID(), permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
            organizationId: home, contactId: UUID(), associatedOrganizationIds: [home], coManagementEnabled: true, coManagedOrganizationIds: [home])
    }

    func contact(organizationWide: Bool = false) -> Principal {
        Principal(
            id: me, kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: me,
            portalOrganizationWide: organizationWide)
    }

    /// A person's own row: a resource has none of these; a co-managing user and a contact belong to an organization.
    func person(_ id: UUID, organization: UUID? = nil) -> ScopeFacts {
        ScopeFacts(values: [.id: id, .organization: organization, .contact: nil, .site: nil])
    }

    @Test func peopleScopeFollowsTheDirectory() {
        let staff = person(someoneElse)
        let northwindUser = person(someoneElse, organization: northwind), contosoUser = person(UUID(), organization: contoso)
        let northwindContact = person(UUID(), organization: northwind), contosoContact = person(UUID(), organization: contoso)
        // (principal, resources, co-managing users of Northwind / Contoso, contacts of Northwind / Contoso)
        let cases: [(Principal, [Bool], String)] = [
            (resource(.administrator), [true, true, true, true, true], "an unrestricted administrator sees everyone"),
            (resource(.technician, restrictions: [northwind]), [true, true, false, true, false], "client restrictions limit people too"),
            (resource(.helpDesk), [true, true, true, true, true], "unrestricted help desk"),
            (coManagingUser(home: northwind), [true, true, false, true, false], "customer group override: own organization only"),
            (coManagingUser(home: contoso), [true, false, true, false, true], "another organization's co-managing user"),
            (contact(), [false, false, false, false, false], "a contact sees no one else"),
            (contact(organizationWide: true), [false, false, false, false, false], "organization-wide tickets do not open the directory"),
        ]
        for (principal, expected, label) in cases {
            let actual = [
                AccessPolicy.peopleScope(for: principal, .resource).evaluate(staff),
                AccessPolicy.peopleScope(for: principal, .coManagingUser).evaluate(northwindUser),
                AccessPolicy.peopleScope(for: principal, .coManagingUser).evaluate(contosoUser),
                AccessPolicy.peopleScope(for: principal, .contact).evaluate(northwindContact),
                AccessPolicy.peopleScope(for: principal, .contact).evaluate(contosoContact),
            ]
            #expect(actual == expected, "\(label)")
        }
        // A contact knows itself.
        #expect(AccessPolicy.peopleScope(for: contact(), .contact).evaluate(person(me, organization: northwind)))
    }

    @Test func customerGroupOverrideWidensToTheOrganizationGroupOnly() {
        let fabrikam = UUID()
        func user(group: Set<UUID>, override: Bool = true) -> Principal {
            var principal = coManagingUser(home: northwind)
            principal.groupOrganizationIds = group
            principal.customerGroupOverride = override
            return principal
        }
        let northwindUser = person(someoneElse, organization: northwind), contosoUser = person(UUID(), organization: contoso)
        let fabrikamUser = person(UUID(), organization: fabrikam)
        // (principal, co-managing users of Northwind / Contoso / Fabrikam)
        let cases: [(Principal, [Bool], String)] = [
            (user(group: []), [true, false, false], "no group: own organization only, as before groups"),
            (user(group: [contoso]), [true, true, false], "Northwind and Contoso in one group"),
            (user(group: [contoso, fabrikam]), [true, true, true], "a group of three"),
            (user(group: [contoso], override: false), [true, false, false], "the override off: own organization only, group or not"),
            (user(group: [northwind]), [true, false, false], "a group that names only the user's own organization"),
            (resource(.technician, restrictions: [northwind]), [true, false, false], "resources keep their client restrictions"),
            (contact(), [false, false, false], "contacts see no co-managing user"),
        ]
        for (principal, expected, label) in cases {
            let scope = AccessPolicy.peopleScope(for: principal, .coManagingUser)
            #expect([scope.evaluate(northwindUser), scope.evaluate(contosoUser), scope.evaluate(fabrikamUser)] == expected, "\(label)")
            #expect(scope == AccessPolicy.coManagingUserScope(for: principal), "\(label): the directory and the co-managing user scope agree")
        }
        // The group only widens what the user sees; it never lets them change anyone.
        #expect(AccessPolicy.coManagingUserScope(for: user(group: [contoso]), .edit) == .none)
        // Groups are configuration: staff read them, those who manage users change them, co-managing users see none.
        #expect(AccessPolicy.configurationScope(for: resource(.technician), .organizationGroups, .view) == .all)
        #expect(AccessPolicy.configurationScope(for: resource(.technician), .organizationGroups, .edit) == .none)
        #expect(AccessPolicy.configurationScope(for: coManagingUser(home: northwind), .organizationGroups, .view) == .none)
        #expect(throws: Never.self) { try AccessPolicy.authorizeOrganizationGroupDelete(resource(.administrator), hiddenOrganizations: 0) }
        #expect(throws: TandemError.self) {
            try AccessPolicy.authorizeOrganizationGroupDelete(resource(.administrator, restrictions: [northwind]), hiddenOrganizations: 1)
        }
        #expect(throws: TandemError.forbidden("your security level does not allow changing organization groups")) {
            try AccessPolicy.authorizeOrganizationGroupDelete(resource(.technician), hiddenOrganizations: 0)
        }
    }

    @Test func coManagingTeamsFollowClientRestrictions() {
        let touchesNorthwind = ScopeFacts(values: [.id: UUID(), .organization: northwind])
        let touchesContoso = ScopeFacts(values: [.id: UUID(), .organization: contoso])
        #expect(AccessPolicy.coManagingTeamScope(for: resource(.administrator)) == .all)
        let rick = AccessPolicy.coManagingTeamScope(for: resource(.technician, restrictions: [northwind]))
        #expect(rick.evaluate(touchesNorthwind))
        #expect(!rick.evaluate(touchesContoso))
        #expect(AccessPolicy.coManagingTeamScope(for: resource(.technician), .edit) == .none, "changing teams needs manageUsers")
        #expect(AccessPolicy.coManagingTeamScope(for: coManagingUser(home: northwind)) == .none)
        #expect(AccessPolicy.coManagingTeamScope(for: contact()) == .none)
    }

    @Test func savedFiltersAreTheOwnersAndSharedListsAreForStaff() {
        func filter(owner: UUID, shared: Bool) -> ScopeFacts { ScopeFacts(values: [.id: UUID(), .owner: owner], shared: shared) }
        let mine = filter(owner: me, shared: false), theirs = filter(owner: someoneElse, shared: false), sharedList = filter(owner: someoneElse, shared: true)
        let staff = resource(.technician)
        #expect(AccessPolicy.savedFilterScope(for: staff).evaluate(mine))
        #expect(!AccessPolicy.savedFilterScope(for: staff).evaluate(theirs))
        #expect(AccessPolicy.savedFilterScope(for: staff).evaluate(sharedList))
        #expect(!AccessPolicy.savedFilterScope(for: staff, .edit).evaluate(sharedList), "only the owner changes a shared list")
        #expect(AccessPolicy.savedFilterScope(for: staff, .delete).evaluate(mine))
        let user = coManagingUser(home: northwind)
        #expect(AccessPolicy.savedFilterScope(for: user).evaluate(mine))
        #expect(!AccessPolicy.savedFilterScope(for: user).evaluate(sharedList), "shared lists may name organizations other parties must not learn of")
        #expect(AccessPolicy.savedFilterScope(for: contact()) == .none)
    }

    @Test func ticketFieldsByKind() {
        #expect(AccessPolicy.visibleTicketFields(for: .resource) == Set(TicketField.allCases))
        #expect(AccessPolicy.visibleTicketFields(for: .coManagingUser) == Set(TicketField.allCases).subtracting([.teamId]))
        let contact = AccessPolicy.visibleTicketFields(for: .contact)
        for hidden in [TicketField.queueId, .teamId, .assigneeIds, .coManagedVisible] { #expect(!contact.contains(hidden)) }
        for shown in [TicketField.id, .number, .title, .description, .status, .priority, .contactId, .version] { #expect(contact.contains(shown)) }
    }

    @Test func theAudiencePreviewIsForWriters() {
        #expect(throws: Never.self) { try AccessPolicy.authorizeAudiencePreview(resource(.technician)) }
        #expect(throws: Never.self) { try AccessPolicy.authorizeAudiencePreview(contact()) }
        let reader = Principal(
            id: me, kind: .resource, displayName: "R", securityLevelId: nil,
            permissions: Permissions(ticketScope: .all, areas: [.tickets: .view, .notes: .view, .timeEntries: .view, .attachments: .view]))
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeAudiencePreview(reader) }
    }
}

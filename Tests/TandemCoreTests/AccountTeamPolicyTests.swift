import Foundation
import TandemCore
import Testing

/// Who reads and who changes an organization's account manager and account team.
@Suite struct AccountTeamPolicyTests {
    let northwind = UUID(), contoso = UUID()

    func principal(_ kind: PrincipalKind, _ system: SystemSecurityLevel, restrictions: Set<UUID>? = nil, organizations: Set<UUID> = []) -> Principal {
        Principal(
            id: UUID(), kind: kind, displayName: "P", securityLevelId: UUID(), permissions: system.permissions, clientRestrictions: restrictions,
            organizationId: kind == .resource ? nil : northwind, associatedOrganizationIds: organizations, coManagementEnabled: true,
            coManagedOrganizationIds: organizations)
    }

    func allows(_ scope: Scope, _ organization: UUID) -> Bool { scope.evaluate(ScopeFacts(values: [.organization: organization])) }

    @Test func administratorsChangeItWithinTheirClientRestrictions() {
        let admin = principal(.resource, .administrator)
        #expect(allows(AccessPolicy.accountTeamScope(for: admin, .edit), contoso))
        let restricted = principal(.resource, .administrator, restrictions: [northwind])
        #expect(allows(AccessPolicy.accountTeamScope(for: restricted, .edit), northwind))
        #expect(!allows(AccessPolicy.accountTeamScope(for: restricted, .edit), contoso))
        #expect(!allows(AccessPolicy.accountTeamScope(for: restricted, .view), contoso))
    }

    @Test func techniciansReadItAndCoManagingUsersReadTheirOwnOrganizations() {
        let tech = principal(.resource, .technician)
        #expect(allows(AccessPolicy.accountTeamScope(for: tech, .view), contoso))
        #expect(AccessPolicy.accountTeamScope(for: tech, .edit) == .none, "a technician's level does not edit organizations")
        let nina = principal(.coManagingUser, .coManagedHelpDesk, organizations: [northwind])
        #expect(allows(AccessPolicy.accountTeamScope(for: nina, .view), northwind))
        #expect(!allows(AccessPolicy.accountTeamScope(for: nina, .view), contoso))
        #expect(AccessPolicy.accountTeamScope(for: nina, .edit) == .none, "the account team is the MSP's")
        #expect(AccessPolicy.accountTeamScope(for: principal(.contact, .coManagedBasic), .view) == .none)
    }

    @Test func onlyResourcesThatMayWorkForTheOrganizationJoinItsTeam() {
        #expect(AccessPolicy.mayJoinAccountTeam(clientRestrictions: nil, organizationId: contoso))
        #expect(AccessPolicy.mayJoinAccountTeam(clientRestrictions: [contoso], organizationId: contoso))
        #expect(!AccessPolicy.mayJoinAccountTeam(clientRestrictions: [northwind], organizationId: contoso))
        #expect(!AccessPolicy.mayJoinAccountTeam(clientRestrictions: [], organizationId: contoso))
    }
}

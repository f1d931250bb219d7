import Foundation
import TandemCore
import Testing

/// Who reads an import job (issue 22), against a table written out by hand: the person who submitted it and MSP
/// administrators, each only within the organizations whose contacts they see; contacts none.
@Suite struct ImportJobPolicyTests {
    let northwind = UUID(), contoso = UUID()

    enum Who: String, CaseIterable {
        case admin, restrictedAdmin, technician, restrictedTechnician, helpDesk, coManagingUser, coManagementOff, contact
    }

    func principal(_ who: Who, id: UUID) -> Principal {
        func resource(_ level: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
            Principal(id: id, kind: .resource, displayName: "R", securityLevelId: nil, permissions: level.permissions, clientRestrictions: restrictions)
        }
        func coManaging(enabled: Bool) -> Principal {
            Principal(
                id: id, kind: .coManagingUser, displayName: "C", securityLevelId: nil, permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
                organizationId: northwind, contactId: UUID(), associatedOrganizationIds: [northwind], coManagementEnabled: enabled,
                coManagedOrganizationIds: [northwind])
        }
        switch who {
        case .admin: return resource(.administrator)
        case .restrictedAdmin: return resource(.administrator, restrictions: [northwind])
        case .technician: return resource(.technician)
        case .restrictedTechnician: return resource(.technician, restrictions: [northwind])
        case .helpDesk: return resource(.helpDesk)
        case .coManagingUser: return coManaging(enabled: true)
        case .coManagementOff: return coManaging(enabled: false)
        case .contact:
            return Principal(
                id: id, kind: .contact, displayName: "P", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: id,
                portalOrganizationWide: true)
        }
    }

    /// Cells: (own job at Northwind, own at Contoso, another's at Northwind, another's at Contoso).
    @Test func theSubmitterAndAdministratorsReadAJobWithinTheirReach() {
        let expected: [Who: [Bool]] = [
            .admin: [true, true, true, true],
            .restrictedAdmin: [true, false, true, false],
            .technician: [true, true, false, false],
            .restrictedTechnician: [true, false, false, false],
            .helpDesk: [true, true, false, false],
            .coManagingUser: [true, false, false, false],
            .coManagementOff: [false, false, false, false],
            .contact: [false, false, false, false],
        ]
        let someoneElse = UUID()
        for who in Who.allCases {
            let me = UUID()
            let scope = AccessPolicy.importJobScope(for: principal(who, id: me))
            let cells = [(me, northwind), (me, contoso), (someoneElse, northwind), (someoneElse, contoso)]
            let answers = cells.map { scope.evaluate(ScopeFacts(values: [.owner: $0.0, .organization: $0.1])) }
            #expect(answers == expected[who]!, "\(who)")
        }
    }

    /// A level without the contacts area reads no job, not even its own: the report names the rows.
    @Test func aLevelWithoutContactsReadsNoJob() {
        var permissions = SystemSecurityLevel.technician.permissions
        permissions.areas[.contacts] = AccessLevel.none
        let me = UUID()
        let p = Principal(id: me, kind: .resource, displayName: "R", securityLevelId: nil, permissions: permissions)
        #expect(AccessPolicy.importJobScope(for: p) == .none)
        #expect(!AccessPolicy.importJobScope(for: p).evaluate(ScopeFacts(values: [.owner: me, .organization: northwind])))
    }
}

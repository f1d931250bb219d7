import Foundation
import TandemCore
import Testing

/// Who may post mail for intake and who settles the triage list.
@Suite struct IntakePolicyTests {
    func principal(_ kind: PrincipalKind, _ level: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(id: UUID(), kind: kind, displayName: "P", securityLevelId: nil, permissions: level.permissions, clientRestrictions: restrictions)
    }

    @Test func onlyReceiveMailPostsMail() {
        #expect(throws: Never.self) { try AccessPolicy.authorizeMailIntake(principal(.resource, .administrator)) }
        for level in [SystemSecurityLevel.technician, .dispatcher, .helpDesk] {
            #expect(throws: TandemError.self) { try AccessPolicy.authorizeMailIntake(principal(.resource, level)) }
        }
        var custom = Permissions.nothing
        custom.admin = [.receiveMail]
        let mailServer = Principal(id: UUID(), kind: .resource, displayName: "MTA", securityLevelId: nil, permissions: custom)
        #expect(throws: Never.self) { try AccessPolicy.authorizeMailIntake(mailServer) }
        #expect(!AccessPolicy.handlesTriage(mailServer), "posting mail is not reading it")
    }

    @Test func triageIsForUnrestrictedStaffWhoOpenTickets() {
        #expect(AccessPolicy.handlesTriage(principal(.resource, .administrator)))
        #expect(AccessPolicy.handlesTriage(principal(.resource, .technician)))
        #expect(!AccessPolicy.handlesTriage(principal(.resource, .technician, restrictions: [UUID()])), "a restricted technician sees only some clients")
        #expect(!AccessPolicy.handlesTriage(principal(.coManagingUser, .coManagedHelpDesk)))
        #expect(!AccessPolicy.handlesTriage(principal(.contact, .coManagedBasic)))
    }

    @Test func callsAreTakenByThoseWhoWorkTicketsAndReadContacts() {
        #expect(AccessPolicy.takesCalls(principal(.resource, .helpDesk)))
        #expect(AccessPolicy.takesCalls(principal(.coManagingUser, .coManagedHelpDesk)))
        #expect(!AccessPolicy.takesCalls(principal(.contact, .coManagedBasic)))
        let blind = Principal(id: UUID(), kind: .resource, displayName: "B", securityLevelId: nil, permissions: .nothing)
        #expect(!AccessPolicy.takesCalls(blind))
    }
}

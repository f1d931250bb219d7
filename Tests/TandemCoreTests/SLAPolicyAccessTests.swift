import Foundation
import TandemCore
import Testing

/// Who reads and changes SLA policies (`AccessPolicy.slaPolicyScope`) and who may hand a ticket over, when
/// (`AccessPolicy.handoffRefusal`), against tables of the rules as SPEC §4 and §13 state them.
@Suite struct SLAPolicyAccessTests {
    let northwind = UUID(), contoso = UUID()

    func resource(_ system: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(id: UUID(), kind: .resource, displayName: "Rick", securityLevelId: UUID(), permissions: system.permissions, clientRestrictions: restrictions)
    }

    var coManagingUser: Principal {
        Principal(
            id: UUID(), kind: .coManagingUser, displayName: "Nina", securityLevelId: UUID(), permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
            organizationId: northwind, contactId: UUID(), associatedOrganizationIds: [northwind], coManagementEnabled: true,
            coManagedOrganizationIds: [northwind])
    }

    var contact: Principal {
        Principal(id: UUID(), kind: .contact, displayName: "Pat", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: UUID())
    }

    @Test func policiesAreStaffsWithinTheirRestrictions() {
        let ofNorthwind = ScopeFacts(values: [.id: UUID(), .organization: northwind])
        let ofContoso = ScopeFacts(values: [.id: UUID(), .organization: contoso])
        // (principal, operation, reaches Northwind's / Contoso's)
        let cases: [(Principal, AccessOperation, [Bool], String)] = [
            (resource(.administrator), .view, [true, true], "administrators read all"),
            (resource(.administrator), .edit, [true, true], "and change them (manageSettings)"),
            (resource(.technician), .view, [true, true], "technicians read them: they work tickets against them"),
            (resource(.technician), .edit, [false, false], "changing needs manageSettings"),
            (resource(.technician), .create, [false, false], "so does creating"),
            (resource(.administrator, restrictions: [northwind]), .view, [true, false], "client restrictions apply"),
            (resource(.administrator, restrictions: [northwind]), .delete, [true, false], "to changes too"),
            (coManagingUser, .view, [false, false], "co-managing users read a ticket's clocks only"),
            (contact, .view, [false, false], "contacts too"),
        ]
        for (principal, operation, expected, label) in cases {
            let scope = AccessPolicy.slaPolicyScope(for: principal, operation)
            #expect([ofNorthwind, ofContoso].map(scope.evaluate) == expected, "\(label)")
        }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeSLAPolicyCreation(resource(.technician)) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeSLAPolicyCreation(coManagingUser) }
        #expect(throws: Never.self) { try AccessPolicy.authorizeSLAPolicyCreation(resource(.administrator, restrictions: [northwind])) }
    }

    @Test func theTicketsSLAIsReadByWhoeverSeesTheTicket() {
        for principal in [resource(.technician), resource(.helpDesk), coManagingUser, contact] {
            #expect(AccessPolicy.ticketSLAScope(for: principal) == AccessPolicy.ticketScope(for: principal))
        }
    }

    @Test func handoffNeedsACoManagedTicketAndTheOtherSide() {
        func refusal(_ principal: Principal, system: Bool = true, organization: Bool = true, visible: Bool = true, from: ResponsibleSide, to: ResponsibleSide)
            -> TandemError?
        {
            AccessPolicy.handoffRefusal(principal, coManagement: system, organizationCoManaged: organization, coManagedVisible: visible, from: from, to: to)
        }
        let staff = resource(.technician)
        #expect(refusal(staff, from: .msp, to: .clientIT) == nil)
        #expect(refusal(coManagingUser, from: .clientIT, to: .msp) == nil)
        #expect(refusal(coManagingUser, from: .msp, to: .clientIT) == nil, "the client's IT takes a ticket over")
        if case .forbidden = refusal(contact, from: .msp, to: .clientIT) {} else { Issue.record("contacts never hand over") }
        for (system, organization, visible, missing) in [
            (false, true, true, "co-management is off"), (true, false, true, "the organization is not co-managed"),
            (true, true, false, "the ticket is not visible to co-managing users"),
        ] {
            guard case .conflict(let message) = refusal(staff, system: system, organization: organization, visible: visible, from: .msp, to: .clientIT)
            else {
                Issue.record("a ticket that is not co-managed stays with the MSP: \(missing)")
                continue
            }
            #expect(message.contains(missing))
        }
        #expect(refusal(staff, system: false, organization: false, visible: false, from: .clientIT, to: .msp) == nil, "it always goes back to the MSP")
        guard case .conflict(let message) = refusal(staff, from: .clientIT, to: .clientIT) else {
            Issue.record("handing it to the side that holds it is refused")
            return
        }
        #expect(message.contains("already with Client IT"))
    }
}

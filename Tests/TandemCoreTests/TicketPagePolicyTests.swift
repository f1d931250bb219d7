import Foundation
import TandemCore
import Testing

/// The policy's answers behind the ticket page: which fields it offers to change, and who reads a change in the timeline.
@Suite struct TicketPagePolicyTests {
    let northwind = UUID()

    func resource(_ permissions: Permissions) -> Principal {
        Principal(id: UUID(), kind: .resource, displayName: "Tara", securityLevelId: UUID(), permissions: permissions)
    }

    func coManagingUser() -> Principal {
        Principal(
            id: UUID(), kind: .coManagingUser, displayName: "Nina", securityLevelId: UUID(), permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
            organizationId: northwind, contactId: UUID(), associatedOrganizationIds: [northwind], coManagementEnabled: true,
            coManagedOrganizationIds: [northwind])
    }

    @Test func noPrincipalChangesAFieldItIsNotShown() throws {
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeTicketChange(coManagingUser(), fields: [.priority, .teamId]) }
        try AccessPolicy.authorizeTicketChange(coManagingUser(), fields: [.priority, .queueId, .assigneeIds, .coManagedVisible])
        let contact = Principal(
            id: UUID(), kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: UUID())
        for field in [TicketField.queueId, .teamId, .assigneeIds, .coManagedVisible] {
            #expect(throws: TandemError.self) { try AccessPolicy.authorizeTicketChange(contact, fields: [field]) }
        }
        try AccessPolicy.authorizeTicketChange(contact, fields: [.title, .description])
        try AccessPolicy.authorizeTicketChange(resource(SystemSecurityLevel.technician.permissions), fields: Set(TicketField.allCases))
    }

    @Test func editableFieldsFollowTheLevelAndWhatThePrincipalIsShown() {
        let technician = resource(SystemSecurityLevel.technician.permissions)
        #expect(
            AccessPolicy.editableTicketFields(for: technician)
                == [.title, .description, .status, .priority, .queueId, .teamId, .assigneeIds, .coManagedVisible, .dueAt])
        // Co-managing users are not shown MSP teams, so they do not move tickets between them.
        let nina = AccessPolicy.editableTicketFields(for: coManagingUser())
        #expect(nina.contains(.assigneeIds) && nina.contains(.queueId) && nina.contains(.status))
        #expect(!nina.contains(.teamId))
        // Reading tickets is not changing them.
        let reader = resource(Permissions(ticketScope: .all, areas: [.tickets: .view, .notes: .add]))
        #expect(AccessPolicy.editableTicketFields(for: reader).isEmpty)
        let contact = Principal(
            id: UUID(), kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: UUID())
        #expect(AccessPolicy.editableTicketFields(for: contact).isEmpty)
        // Never a field the principal's ticket GET leaves out.
        for principal in [technician, coManagingUser()] {
            #expect(AccessPolicy.editableTicketFields(for: principal).isSubset(of: AccessPolicy.visibleTicketFields(for: principal.kind)))
        }
    }

    @Test func aChangeReachesTheWidestPartyShownOneOfItsFields() {
        #expect(AccessPolicy.historyAudience(ofChanged: [.status]) == .all)
        #expect(AccessPolicy.historyAudience(ofChanged: [.assigneeIds, .priority]) == .all)
        #expect(AccessPolicy.historyAudience(ofChanged: [.assigneeIds]) == .internalAndCoManaged)
        #expect(AccessPolicy.historyAudience(ofChanged: [.coManagedVisible, .queueId]) == .internalAndCoManaged)
        #expect(AccessPolicy.historyAudience(ofChanged: [.teamId]) == .internal)
    }
}

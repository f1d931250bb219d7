import Foundation
import TandemCore
import Testing

/// `AccessPolicy.reportRights`: who opens which organization's report and what it counts, for every kind of
/// principal, checked against the rules of the issue written out here (not against the policy itself).
@Suite struct ReportPolicyTests {
    let northwind = UUID(), contoso = UUID(), fabrikam = UUID()
    let me = UUID()

    func resource(_ system: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(id: me, kind: .resource, displayName: "Tara", securityLevelId: UUID(), permissions: system.permissions, clientRestrictions: restrictions)
    }

    func coManagingUser(_ system: SystemSecurityLevel, enabled: Bool = true) -> Principal {
        Principal(
            id: me, kind: .coManagingUser, displayName: "Cory", securityLevelId: UUID(), permissions: system.permissions, organizationId: northwind,
            contactId: UUID(), associatedOrganizationIds: [northwind, contoso], coManagementEnabled: enabled, coManagedOrganizationIds: [northwind])
    }

    func contact(organizationWide: Bool) -> Principal {
        Principal(
            id: me, kind: .contact, displayName: "Carla", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: me,
            portalOrganizationWide: organizationWide)
    }

    /// The expected answer per principal: the organizations whose report opens, whether money and licenses show.
    @Test func theMatrixOverPrincipalsAndOrganizations() {
        let all: Set<UUID> = [northwind, contoso, fabrikam]
        let cases: [(String, Principal, opens: Set<UUID>, billing: Bool, licenses: Bool)] = [
            ("administrator", resource(.administrator), all, true, true),
            ("technician", resource(.technician), all, true, true),
            ("restricted technician", resource(.technician, restrictions: [contoso]), [contoso], true, true),
            ("dispatcher (sees time entries)", resource(.dispatcher), all, true, true),
            ("help desk (no reports)", resource(.helpDesk), [], false, false),
            ("co-managed help desk", coManagingUser(.coManagedHelpDesk), [northwind], false, false),
            ("co-managed help desk, co-management off", coManagingUser(.coManagedHelpDesk, enabled: false), [], false, false),
            ("co-managed basic (no reports)", coManagingUser(.coManagedBasic), [], false, false),
            ("contact", contact(organizationWide: false), [], false, false),
            ("organization-wide contact", contact(organizationWide: true), [], false, false),
        ]
        for (name, principal, opens, billing, licenses) in cases {
            let rights = AccessPolicy.reportRights(for: principal)
            #expect(Set(all.filter { rights.allows(organizationId: $0) }) == opens, "\(name)")
            #expect(rights.any == !opens.isEmpty, "\(name)")
            #expect(rights.billing == billing && rights.licenses == licenses, "\(name)")
        }
    }

    /// The tickets and time entries a report counts are the ones the reader's lists show.
    @Test func reportsCountWhatTheReaderSees() {
        let cory = coManagingUser(.coManagedHelpDesk)
        let rights = AccessPolicy.reportRights(for: cory)
        #expect(rights.tickets == AccessPolicy.ticketScope(for: cory))
        #expect(rights.timeEntries == .publishTo(in: [.internalAndCoManaged, .all]), "no internal time")
        let hidden = ScopeFacts(values: [.id: UUID(), .organization: northwind], coManagedVisible: false)
        #expect(!rights.tickets.evaluate(hidden), "a ticket hidden from co-managing users is not counted")

        let rick = resource(.technician, restrictions: [contoso])
        #expect(AccessPolicy.reportRights(for: rick).tickets == AccessPolicy.ticketScope(for: rick))
        #expect(AccessPolicy.reportRights(for: rick).timeEntries == .publishTo(in: Set(PublishTo.allCases)))
        #expect(AccessPolicy.reportRights(for: contact(organizationWide: true)) == .nothing)
    }
}

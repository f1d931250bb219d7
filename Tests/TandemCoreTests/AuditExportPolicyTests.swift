import Foundation
import TandemCore
import Testing

/// `AccessPolicy.auditExport` and `readsAuditLog`: who exports which organization's audit log, and how much
/// of each event, for every kind of principal (SPEC §3 and §13).
@Suite struct AuditExportPolicyTests {
    let northwind = UUID(), contoso = UUID(), fabrikam = UUID()
    let me = UUID()

    func resource(_ system: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(
            id: me, kind: .resource, displayName: "Tara Tech", securityLevelId: UUID(), permissions: system.permissions, clientRestrictions: restrictions)
    }

    func coManagingUser(_ system: SystemSecurityLevel, enabled: Bool = true, coManaged: Set<UUID>, associated: Set<UUID>) -> Principal {
        Principal(
            id: me, kind: .coManagingUser, displayName: "Cory", securityLevelId: UUID(), permissions: system.permissions, queueIds: [],
            organizationId: northwind, contactId: UUID(), associatedOrganizationIds: associated, coManagementEnabled: enabled,
            coManagedOrganizationIds: coManaged)
    }

    func ticket(_ organization: UUID, coManagedVisible: Bool) -> ScopeFacts {
        ScopeFacts(values: [.id: UUID(), .organization: organization], coManagedVisible: coManagedVisible)
    }

    @Test func staffExportWhatTheAuditLogShowsThem() {
        let admin = AccessPolicy.auditExport(for: resource(.administrator))
        #expect(admin == AuditExportRights(scope: .all, tickets: .all, ticketItems: true, details: true))
        #expect(admin.allows(organizationId: northwind) && admin.allows(organizationId: contoso))

        let rick = resource(.technician, restrictions: [northwind])
        let restricted = AccessPolicy.auditExport(for: rick)
        #expect(restricted.scope == AccessPolicy.auditScope(for: rick))
        #expect(restricted.allows(organizationId: northwind))
        #expect(!restricted.allows(organizationId: contoso), "client restrictions hold for the export too")
        #expect(restricted.details && restricted.ticketItems && restricted.tickets == .all)

        // Help Desk has no report access: no audit log, no export.
        let helpDesk = resource(.helpDesk)
        #expect(AccessPolicy.auditExport(for: helpDesk).scope == .none)
        #expect(!AccessPolicy.auditExport(for: helpDesk).allows(organizationId: northwind))
        #expect(!AccessPolicy.readsAuditLog(helpDesk))
        #expect(AccessPolicy.readsAuditLog(resource(.technician)) && AccessPolicy.readsAuditLog(rick))
    }

    @Test func coManagingUsersWithReportAccessExportTheirOrganizationsOnly() {
        let lead = coManagingUser(.coManagedHelpDesk, coManaged: [northwind, contoso], associated: [northwind, fabrikam])
        let rights = AccessPolicy.auditExport(for: lead)
        #expect(rights.allows(organizationId: northwind))
        #expect(!rights.allows(organizationId: contoso), "co-managed but not associated")
        #expect(!rights.allows(organizationId: fabrikam), "associated but not co-managed")
        // The rest as §3 lets them see it: tickets of their scope, no items, no before/after.
        #expect(rights.tickets == AccessPolicy.ticketScope(for: lead))
        #expect(rights.tickets.evaluate(ticket(northwind, coManagedVisible: true)))
        #expect(!rights.tickets.evaluate(ticket(northwind, coManagedVisible: false)))
        #expect(!rights.ticketItems && !rights.details)
        // The audit log page stays with MSP staff.
        #expect(AccessPolicy.auditScope(for: lead) == .none && !AccessPolicy.readsAuditLog(lead))

        let switchedOff = coManagingUser(.coManagedHelpDesk, enabled: false, coManaged: [northwind], associated: [northwind])
        #expect(!AccessPolicy.auditExport(for: switchedOff).allows(organizationId: northwind), "co-management off for the system")
    }

    @Test func coManagingUsersWithoutReportAccessAndContactsExportNothing() {
        let basic = coManagingUser(.coManagedBasic, coManaged: [northwind], associated: [northwind])
        #expect(AccessPolicy.auditExport(for: basic) == .nothing)
        #expect(!AccessPolicy.auditExport(for: basic).allows(organizationId: northwind))

        let alice = UUID()
        let contact = Principal(
            id: alice, kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: alice,
            portalOrganizationWide: true)
        #expect(AccessPolicy.auditExport(for: contact) == .nothing)
        #expect(!AccessPolicy.auditExport(for: contact).allows(organizationId: northwind))
        #expect(!AccessPolicy.readsAuditLog(contact))
    }

    /// A custom level decides by its reports permission alone, for either kind of principal.
    @Test func theReportsPermissionDecides() {
        var withoutReports = resource(.technician)
        withoutReports.permissions.areas[.reports] = AccessLevel.none
        #expect(AccessPolicy.auditExport(for: withoutReports).scope == .none)
        var user = coManagingUser(.coManagedBasic, coManaged: [northwind], associated: [northwind])
        user.permissions.areas[.reports] = .view
        #expect(AccessPolicy.auditExport(for: user).allows(organizationId: northwind))
    }
}

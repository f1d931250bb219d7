import Foundation
import TandemCore
import Testing

/// Who sees billing, who approves timesheets, who views a co-managing user's timesheet, who tracks expenses:
/// the policy against a table written out by hand from the brief (issue 21) and Autotask's rules.
@Suite struct BillingPolicyTests {
    let northwind = UUID(), contoso = UUID()

    enum Who: String, CaseIterable {
        case admin, technician, restrictedTechnician, helpDesk, restrictedAdmin, coManagingUser, contact
    }

    func principal(_ who: Who, id: UUID = UUID()) -> Principal {
        switch who {
        case .admin:
            return Principal(id: id, kind: .resource, displayName: "A", securityLevelId: nil, permissions: SystemSecurityLevel.administrator.permissions)
        case .restrictedAdmin:
            return Principal(
                id: id, kind: .resource, displayName: "RA", securityLevelId: nil, permissions: SystemSecurityLevel.administrator.permissions,
                clientRestrictions: [northwind])
        case .technician:
            return Principal(id: id, kind: .resource, displayName: "T", securityLevelId: nil, permissions: SystemSecurityLevel.technician.permissions)
        case .restrictedTechnician:
            return Principal(
                id: id, kind: .resource, displayName: "R", securityLevelId: nil, permissions: SystemSecurityLevel.technician.permissions,
                clientRestrictions: [northwind])
        case .helpDesk: return Principal(id: id, kind: .resource, displayName: "H", securityLevelId: nil, permissions: SystemSecurityLevel.helpDesk.permissions)
        case .coManagingUser:
            return Principal(
                id: id, kind: .coManagingUser, displayName: "C", securityLevelId: nil, permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
                organizationId: northwind, contactId: UUID(), associatedOrganizationIds: [northwind], coManagementEnabled: true,
                coManagedOrganizationIds: [northwind])
        case .contact:
            return Principal(
                id: id, kind: .contact, displayName: "P", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: id,
                portalOrganizationWide: true)
        }
    }

    @Test func billingIsShownToStaffWhoReadReportsWithinTheirRestrictions() {
        // (amount on a Northwind ticket, amount on a Contoso ticket, rates at all, change a Contoso contract)
        let expected: [Who: (Bool, Bool, Bool, Bool)] = [
            .admin: (true, true, true, true),
            .restrictedAdmin: (true, false, true, false),
            .technician: (true, true, true, false),
            .restrictedTechnician: (true, false, true, false),
            .helpDesk: (false, false, false, false),
            .coManagingUser: (false, false, false, false),
            .contact: (false, false, false, false),
        ]
        for who in Who.allCases {
            let p = principal(who), want = expected[who]!
            #expect(AccessPolicy.seesAmount(p, organizationId: northwind) == want.0, "\(who) Northwind")
            #expect(AccessPolicy.seesAmount(p, organizationId: contoso) == want.1, "\(who) Contoso")
            #expect(AccessPolicy.seesBilling(p) == want.2, "\(who) rates")
            let change = AccessPolicy.blockHourContractScope(for: p, .edit).evaluate(ScopeFacts(values: [.organization: contoso]))
            #expect(change == want.3, "\(who) contract")
            // Seeing a contract needs seeing both the organization and billing.
            let see = AccessPolicy.blockHourContractScope(for: p).evaluate(ScopeFacts(values: [.organization: contoso]))
            #expect(see == want.1, "\(who) sees Contoso's contract")
        }
    }

    @Test func msPTimesheetsAreSubmittedByTheirOwnerAndApprovedByUnrestrictedUserManagers() {
        let owner = principal(.technician)
        let sheet = TimesheetPerson(id: owner.id, kind: .resource)
        #expect(AccessPolicy.timesheetRights(for: owner, of: sheet) == TimesheetRights(view: true, submit: true, approve: false))
        // (view, submit, approve) someone else's MSP timesheet.
        let expected: [Who: TimesheetRights] = [
            .admin: TimesheetRights(view: true, submit: false, approve: true),
            .restrictedAdmin: .nothing,
            .technician: .nothing,
            .restrictedTechnician: .nothing,
            .helpDesk: .nothing,
            .coManagingUser: .nothing,
            .contact: .nothing,
        ]
        for who in Who.allCases {
            #expect(AccessPolicy.timesheetRights(for: principal(who), of: sheet) == expected[who]!, "\(who)")
        }
        // Nobody approves their own.
        let admin = principal(.admin)
        #expect(
            AccessPolicy.timesheetRights(for: admin, of: TimesheetPerson(id: admin.id, kind: .resource))
                == TimesheetRights(view: true, submit: true, approve: false))
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeTimesheetDecision(.nothing, person: sheet) }
    }

    @Test func coManagingTimesheetsHaveViewersAndAreNeverSubmitted() {
        let user = principal(.coManagingUser)
        let viewerId = UUID()
        let sheet = TimesheetPerson(id: user.id, kind: .coManagingUser, organizationId: northwind, viewerIds: [viewerId])
        let own = AccessPolicy.timesheetRights(for: user, of: sheet)
        #expect(own == TimesheetRights(view: true, submit: false, approve: false))
        do {
            try AccessPolicy.authorizeTimesheetSubmit(own, person: sheet)
            Issue.record("a co-managing user submitted")
        } catch {
            #expect(error == .forbidden("co-managing users' timesheets are not submitted; their viewers read them as they are"))
        }
        // A viewer (any MSP resource named) views; user managers reaching Northwind view; nobody approves.
        let expected: [Who: Bool] = [
            .admin: true, .restrictedAdmin: true, .technician: false, .restrictedTechnician: false, .helpDesk: false, .coManagingUser: false, .contact: false,
        ]
        for who in Who.allCases {
            let rights = AccessPolicy.timesheetRights(for: principal(who), of: sheet)
            #expect(rights.view == expected[who]!, "\(who)")
            #expect(!rights.approve && !rights.submit, "\(who)")
            let asViewer = AccessPolicy.timesheetRights(for: principal(who, id: viewerId), of: sheet)
            #expect(asViewer.view == (who != .coManagingUser && who != .contact), "\(who) as a viewer")
        }
        // A manager restricted to another organization neither views nor chooses viewers.
        let elsewhere = Principal(
            id: UUID(), kind: .resource, displayName: "E", securityLevelId: nil, permissions: SystemSecurityLevel.administrator.permissions,
            clientRestrictions: [contoso])
        #expect(!AccessPolicy.timesheetRights(for: elsewhere, of: sheet).view)
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeTimesheetViewers(elsewhere, of: sheet) }
        #expect(throws: Never.self) { try AccessPolicy.authorizeTimesheetViewers(principal(.admin), of: sheet) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeTimesheetViewers(principal(.technician), of: sheet) }
        #expect(AccessPolicy.mayViewTimesheets(clientRestrictions: nil, organizationId: northwind))
        #expect(!AccessPolicy.mayViewTimesheets(clientRestrictions: [contoso], organizationId: northwind))
    }

    @Test func auditExportsCarryBillingOnlyForBillingReaders() {
        #expect(AccessPolicy.auditExport(for: principal(.admin)).billing)
        #expect(AccessPolicy.auditExport(for: principal(.technician)).billing)
        #expect(!AccessPolicy.auditExport(for: principal(.coManagingUser)).billing, "a co-managing user's export leaves contracts out")
        #expect(!AccessPolicy.auditExport(for: principal(.contact)).billing)
    }

    @Test func coManagingUsersCannotTrackExpenses() {
        let expected: [Who: Bool] = [
            .admin: true, .restrictedAdmin: true, .technician: true, .restrictedTechnician: true, .helpDesk: true, .coManagingUser: false, .contact: false,
        ]
        for who in Who.allCases {
            #expect(((try? AccessPolicy.authorizeExpenses(principal(who))) != nil) == expected[who]!, "\(who)")
        }
        do {
            try AccessPolicy.authorizeExpenses(principal(.coManagingUser))
        } catch {
            #expect(error == .forbidden("co-managing users cannot track expenses"))
        }
    }

    /// Expenses follow timesheets: the person reads and changes their own, approvers (manageUsers without client
    /// restrictions) read everyone's and change none; client restrictions hide expenses of other organizations, the
    /// reader's own too; co-managing users and contacts have none. Cells: (own Northwind, own Contoso, another's
    /// Northwind, another's Contoso), for reading and for changing.
    @Test func expensesAreReadAsTimesheetsAndChangedOnlyByTheirPerson() throws {
        typealias Cells = (Bool, Bool, Bool, Bool)
        let read: [Who: Cells] = [
            .admin: (true, true, true, true),
            .restrictedAdmin: (true, false, false, false),
            .technician: (true, true, false, false),
            .restrictedTechnician: (true, false, false, false),
            .helpDesk: (true, true, false, false),
            .coManagingUser: (false, false, false, false),
            .contact: (false, false, false, false),
        ]
        let change: [Who: Cells] = [
            .admin: (true, true, false, false),
            .restrictedAdmin: (true, false, false, false),
            .technician: (true, true, false, false),
            .restrictedTechnician: (true, false, false, false),
            .helpDesk: (true, true, false, false),
            .coManagingUser: (false, false, false, false),
            .contact: (false, false, false, false),
        ]
        let someoneElse = UUID()
        for who in Who.allCases {
            let me = UUID(), p = principal(who, id: me)
            let cells = [(me, northwind), (me, contoso), (someoneElse, northwind), (someoneElse, contoso)]
            func answers(_ operation: AccessOperation) -> [Bool] {
                cells.map { AccessPolicy.expenseScope(for: p, operation).evaluate(ScopeFacts(values: [.owner: $0.0, .organization: $0.1])) }
            }
            let r = read[who]!, c = change[who]!
            #expect(answers(.view) == [r.0, r.1, r.2, r.3], "\(who) reads")
            #expect(answers(.edit) == [c.0, c.1, c.2, c.3], "\(who) changes")
            #expect(answers(.delete) == [c.0, c.1, c.2, c.3], "\(who) deletes")
            #expect(answers(.create) == [c.0, c.1, c.2, c.3], "\(who) creates")
        }
        // An approver reads another's expense but is told why it may not change it.
        #expect(throws: TandemError.forbidden("only the person whose expense it is changes it")) {
            try AccessPolicy.authorizeExpenseChange(principal(.admin), .edit, personId: someoneElse, organizationId: northwind)
        }
        #expect(throws: TandemError.forbidden("only the person whose expense it is deletes it")) {
            try AccessPolicy.authorizeExpenseChange(principal(.admin), .delete, personId: someoneElse, organizationId: northwind)
        }
    }
}

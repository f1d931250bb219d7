import Foundation
import TandemCore
import Testing

/// Departments: who sees which (`AccessPolicy.departmentScope`), who may join which (`DepartmentRules`).
@Suite struct DepartmentPolicyTests {
    let northwind = UUID(), contoso = UUID()

    func resource(_ system: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        Principal(id: UUID(), kind: .resource, displayName: "Rick", securityLevelId: UUID(), permissions: system.permissions, clientRestrictions: restrictions)
    }

    func coManagingUser(home: UUID) -> Principal {
        Principal(
            id: UUID(), kind: .coManagingUser, displayName: "Nina", securityLevelId: UUID(), permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
            organizationId: home, contactId: UUID(), associatedOrganizationIds: [home], coManagementEnabled: true, coManagedOrganizationIds: [home])
    }

    func department(_ organization: UUID?) -> ScopeFacts { ScopeFacts(values: [.id: UUID(), .organization: organization]) }

    @Test func departmentsFollowClientRestrictions() {
        let msp = department(nil), ofNorthwind = department(northwind), ofContoso = department(contoso)
        // (principal, operation, sees the MSP's / Northwind's / Contoso's)
        let cases: [(Principal, AccessOperation, [Bool], String)] = [
            (resource(.administrator), .view, [true, true, true], "an unrestricted administrator"),
            (resource(.administrator), .delete, [true, true, true], "administrators change departments"),
            (resource(.technician), .view, [true, true, true], "staff read configuration"),
            (resource(.technician), .edit, [false, false, false], "changing needs manageSettings"),
            (resource(.technician, restrictions: [northwind]), .view, [true, true, false], "restricted: the MSP's and its organizations'"),
            (resource(.administrator, restrictions: [northwind]), .edit, [true, true, false], "restricted administrators change only what they see"),
            (resource(.technician, restrictions: []), .view, [true, false, false], "restricted to nothing still sees the MSP's"),
            (coManagingUser(home: northwind), .view, [false, false, false], "co-managing users see no departments"),
        ]
        for (principal, operation, expected, label) in cases {
            let scope = AccessPolicy.departmentScope(for: principal, operation)
            #expect([msp, ofNorthwind, ofContoso].map(scope.evaluate) == expected, "\(label)")
        }
        let contact = Principal(
            id: UUID(), kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: UUID())
        #expect(AccessPolicy.departmentScope(for: contact) == .none)
        #expect(AccessPolicy.departmentScope(for: resource(.administrator)) == .all)
    }

    @Test func noOrganizationNeedsTheFact() {
        #expect(Scope.noOrganization.evaluate(department(nil)))
        #expect(!Scope.noOrganization.evaluate(department(northwind)))
        #expect(!Scope.noOrganization.evaluate(ScopeFacts(values: [.id: UUID()])), "a row without the fact is not the MSP's")
    }

    @Test func whoMayJoinWhichDepartment() {
        #expect(DepartmentRules.membershipProblem(kind: .resource, associatedOrganizations: [], departmentOrganization: nil) == nil)
        #expect(DepartmentRules.membershipProblem(kind: .resource, associatedOrganizations: [], departmentOrganization: northwind)?.contains("MSP") == true)
        #expect(DepartmentRules.membershipProblem(kind: .coManagingUser, associatedOrganizations: [contoso], departmentOrganization: nil) == nil)
        #expect(
            DepartmentRules.membershipProblem(kind: .coManagingUser, associatedOrganizations: [northwind, contoso], departmentOrganization: contoso) == nil)
        #expect(
            DepartmentRules.membershipProblem(kind: .coManagingUser, associatedOrganizations: [northwind], departmentOrganization: contoso)?.contains(
                "associated") == true)
        #expect(DepartmentRules.membershipProblem(kind: .contact, associatedOrganizations: [], departmentOrganization: nil) != nil)
    }

    @Test func aDepartmentsOwner() {
        func problems(_ coManaged: Bool, _ organizationId: UUID?, _ organization: CoManagedOrganizationFacts?) -> [String] {
            var validator = FieldValidator()
            DepartmentRules.checkOwner(coManaged: coManaged, organizationId: organizationId, organization: organization, &validator)
            return validator.errors.map { "\($0.field): \($0.message)" }
        }
        let on = CoManagedOrganizationFacts(name: "Northwind", coManagementEnabled: true)
        let off = CoManagedOrganizationFacts(name: "Plain", coManagementEnabled: false)
        #expect(problems(false, nil, nil).isEmpty)
        #expect(problems(true, northwind, on).isEmpty)
        #expect(problems(false, northwind, on) == ["organizationId: an MSP department belongs to no organization; leave it out or set coManaged"])
        #expect(problems(true, nil, nil) == ["organizationId: a co-managed department needs the organization it belongs to"])
        #expect(problems(true, northwind, nil) == ["organizationId: no organization with this id"])
        #expect(problems(true, northwind, off).first?.contains("co-management is not enabled for Plain") == true)
    }
}

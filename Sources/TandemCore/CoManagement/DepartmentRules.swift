import Foundation

/// Who may belong to which department (SPEC §4; the Autotask seed's "Departments"): MSP resources belong
/// to the MSP's departments; a co-managing user may belong to an MSP department, or to a co-managed
/// department of an organization they are associated with (directly or through a co-managing team).
public enum DepartmentRules {
    /// Why the person may not join a department of `departmentOrganization` (nil: an MSP department), or nil
    /// when they may. `associatedOrganizations` are a co-managing user's; a resource has none.
    public static func membershipProblem(kind: PrincipalKind, associatedOrganizations: Set<UUID>, departmentOrganization: UUID?) -> String? {
        switch kind {
        case .resource:
            return departmentOrganization == nil ? nil : "an MSP resource joins the MSP's departments only, not a co-managed department"
        case .coManagingUser:
            guard let departmentOrganization else { return nil }
            return associatedOrganizations.contains(departmentOrganization)
                ? nil : "a co-managing user joins a co-managed department only of an organization they are associated with"
        case .contact:
            return "contacts do not belong to departments"
        }
    }

    /// A department's owner as given: a co-managed department names one organization with co-management on
    /// (`organization` is what the server found for the id, nil when it is unknown or hidden); an MSP
    /// department names none.
    public static func checkOwner(
        coManaged: Bool, organizationId: UUID?, organization: CoManagedOrganizationFacts?, _ validator: inout FieldValidator
    ) {
        guard coManaged else {
            if organizationId != nil { validator.fail("organizationId", "an MSP department belongs to no organization; leave it out or set coManaged") }
            return
        }
        guard organizationId != nil else { return validator.fail("organizationId", "a co-managed department needs the organization it belongs to") }
        guard let organization else { return validator.fail("organizationId", "no organization with this id") }
        if !organization.coManagementEnabled {
            validator.fail("organizationId", "co-management is not enabled for \(organization.name); enable it in its co-managed setup first")
        }
    }
}

import Foundation

public enum PrincipalKind: String, Codable, Sendable, CaseIterable {
    case resource, coManagingUser, contact
}

/// A team member's reach into the team's tickets.
public enum TeamAccess: String, Codable, Sendable, CaseIterable {
    /// All of the team's tickets.
    case full
    /// Only the team's tickets assigned to the member.
    case own
    /// All of the team's tickets, without changing them.
    case readOnly
}

/// Everything the access policy needs to know about who is asking, loaded once per request.
public struct Principal: Sendable, Equatable {
    public var id: UUID
    public var kind: PrincipalKind
    public var displayName: String
    public var securityLevelId: UUID?
    public var permissions: Permissions
    /// Resources only: the organizations they are limited to; `nil` means all.
    public var clientRestrictions: Set<UUID>?
    public var queueIds: Set<UUID>
    public var teams: [UUID: TeamAccess]
    /// Contacts and co-managing users: their own organization.
    public var organizationId: UUID?
    /// Contacts: their own contact id; co-managing users: the contact they are bound to.
    public var contactId: UUID?
    /// Contacts: whether the portal shows them every ticket of their organization.
    public var portalOrganizationWide: Bool
    /// Co-managing users: organizations associated directly or through a co-managing team.
    public var associatedOrganizationIds: Set<UUID>
    /// Co-managing users: whether co-management is on system-wide, and the organizations where it is on.
    public var coManagementEnabled: Bool
    public var coManagedOrganizationIds: Set<UUID>
    /// Co-managing users: the other organizations in their own organization's organization group (none when it
    /// is in no group).
    public var groupOrganizationIds: Set<UUID>
    /// Co-managing users: the customer group override (SPEC §2), on by default. On, the people directory shows
    /// them the co-managing users of their organization's group; off, of their own organization only.
    public var customerGroupOverride: Bool

    public init(
        id: UUID, kind: PrincipalKind, displayName: String, securityLevelId: UUID?, permissions: Permissions,
        clientRestrictions: Set<UUID>? = nil, queueIds: Set<UUID> = [], teams: [UUID: TeamAccess] = [:],
        organizationId: UUID? = nil, contactId: UUID? = nil, portalOrganizationWide: Bool = false,
        associatedOrganizationIds: Set<UUID> = [], coManagementEnabled: Bool = false, coManagedOrganizationIds: Set<UUID> = [],
        groupOrganizationIds: Set<UUID> = [], customerGroupOverride: Bool = true
    ) {
        self.id = id
        self.kind = kind
        self.displayName = displayName
        self.securityLevelId = securityLevelId
        self.permissions = permissions
        self.clientRestrictions = clientRestrictions
        self.queueIds = queueIds
        self.teams = teams
        self.organizationId = organizationId
        self.contactId = contactId
        self.portalOrganizationWide = portalOrganizationWide
        self.associatedOrganizationIds = associatedOrganizationIds
        self.coManagementEnabled = coManagementEnabled
        self.coManagedOrganizationIds = coManagedOrganizationIds
        self.groupOrganizationIds = groupOrganizationIds
        self.customerGroupOverride = customerGroupOverride
    }

    public var isAdministrator: Bool { permissions.admin == Set(AdminPermission.allCases) }

    /// The organizations a co-managing user reaches right now.
    public var effectiveCoManagedOrganizations: Set<UUID> {
        guard kind == .coManagingUser, coManagementEnabled else { return [] }
        return associatedOrganizationIds.intersection(coManagedOrganizationIds)
    }
}

/// How much of an area a security level may touch. Each level includes the ones before it.
public enum AccessLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case none, view, add, edit, full

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The areas a security level grants access to (SPEC §1).
public enum Area: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
    case tickets, notes, timeEntries, attachments, contacts, organizations, sites
    case documentation, vault, approvals, reports
}

/// Which tickets a principal's ticket permission reaches before the other rules narrow it.
public enum TicketScope: String, Codable, Sendable, CaseIterable {
    case all, myQueues, assignedToMe, none
}

/// Administrative permissions: a co-managed level can never hold one of these.
/// `manageCredentials` sets and resets anyone's password, portal login, login email or username and
/// two-factor state (SPEC §1): never a side effect of editing a record.
public enum AdminPermission: String, Codable, Sendable, CaseIterable, Comparable {
    case configureSecurityLevels, manageUsers, manageRules, manageVaultKeys, activateCoManagement, manageSettings, manageCredentials
    /// Posting raw mail for intake (`POST /api/v1/inbound/email`).
    case receiveMail

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether everything the permission covers belongs to no one organization: rules and notification templates act
    /// on every organization's tickets, so client restrictions rule `manageRules` out whole
    /// (`AccessPolicy.authorizeTenantWide`). Its webhooks are the exception: a restricted resource keeps its own.
    public var isTenantWide: Bool { self == .manageRules }
}

/// The permission set of a security level.
public struct Permissions: Codable, Sendable, Equatable {
    public var ticketScope: TicketScope
    public var areas: [Area: AccessLevel]
    public var admin: Set<AdminPermission>
    /// Saved filters and shared lists (co-managed system levels do not grant it).
    public var savedFilters: Bool

    public init(ticketScope: TicketScope, areas: [Area: AccessLevel], admin: Set<AdminPermission> = [], savedFilters: Bool = false) {
        self.ticketScope = ticketScope
        self.areas = areas
        self.admin = admin
        self.savedFilters = savedFilters
    }

    public subscript(area: Area) -> AccessLevel { areas[area] ?? .none }

    public func allows(_ level: AccessLevel, on area: Area) -> Bool { self[area] >= level }

    public func has(_ permission: AdminPermission) -> Bool { admin.contains(permission) }

    public static let nothing = Permissions(ticketScope: .none, areas: [:])

    /// Equal when they grant the same: an area left out and an area set to none are the same.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.ticketScope == rhs.ticketScope && lhs.admin == rhs.admin && lhs.savedFilters == rhs.savedFilters
            && Area.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }

    /// Rejects permission sets a co-managed level may not hold.
    public func validate(coManaged: Bool) throws(TandemError) {
        if coManaged, !admin.isEmpty {
            let names = admin.sorted().map(\.rawValue).joined(separator: ", ")
            throw .validation([FieldError("permissions.admin", "a co-managed security level cannot hold administrative permissions (\(names))")])
        }
    }

    enum CodingKeys: String, CodingKey { case ticketScope, areas, admin, savedFilters }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ticketScope = try c.decode(TicketScope.self, forKey: .ticketScope)
        areas = try c.decodeIfPresent([Area: AccessLevel].self, forKey: .areas) ?? [:]
        admin = try c.decodeIfPresent(Set<AdminPermission>.self, forKey: .admin) ?? []
        savedFilters = try c.decodeIfPresent(Bool.self, forKey: .savedFilters) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticketScope, forKey: .ticketScope)
        // Every area is written out so clients never have to guess a default.
        var all: [Area: AccessLevel] = [:]
        for area in Area.allCases { all[area] = self[area] }
        try c.encode(all, forKey: .areas)
        try c.encode(admin.sorted(), forKey: .admin)
        try c.encode(savedFilters, forKey: .savedFilters)
    }
}

import Fluent
import Foundation
import TandemCore

/// An IT person at a client organization who works tickets alongside the MSP, bound to one contact.
final class CoManagingUser: Model, @unchecked Sendable {
    static let schema = "co_managing_users"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .contact: "contact_id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "contact_id") var contactId: UUID
    /// Read-only after creation.
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "username") var username: String
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "security_level_id") var securityLevelId: UUID
    @Field(key: "active") var active: Bool
    @OptionalField(key: "internal_location_id") var internalLocationId: UUID?
    /// ISO date the timesheet starts.
    @OptionalField(key: "timesheet_start") var timesheetStart: String?
    /// Base32 TOTP secret; set at enrolment, confirmed by a first code.
    /// The TOTP secret (base32), sealed by the vault (`TOTPSecrets`); the old plain `totp_secret` column stays empty.
    @OptionalField(key: "totp_secret_sealed") var totpSecretSealed: String?
    @Field(key: "totp_confirmed") var totpConfirmed: Bool
    /// The last accepted TOTP step, so a code cannot be replayed.
    @OptionalField(key: "totp_last_counter") var totpLastCounter: Int?
    @Field(key: "totp_pause_next_login") var totpPauseNextLogin: Bool
    @OptionalField(key: "totp_paused_until") var totpPausedUntil: Date?
    @Field(key: "erased") var erased: Bool
    /// The customer group override (SPEC §2): on, the user sees the co-managing users of their organization's
    /// group; off, of their own organization only.
    @Field(key: "customer_group_override") var customerGroupOverride: Bool
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {
        active = true
        customerGroupOverride = true
        totpConfirmed = false
        totpPauseNextLogin = false
        erased = false
    }
}

final class CoManagingUserRole: Model, @unchecked Sendable {
    static let schema = "co_managing_user_roles"

    @ID(key: .id) var id: UUID?
    @Field(key: "co_managing_user_id") var userId: UUID
    @Field(key: "role_id") var roleId: UUID

    init() {}

    init(userId: UUID, roleId: UUID) {
        self.id = .v7()
        self.userId = userId
        self.roleId = roleId
    }
}

final class CoManagingTeam: Model, @unchecked Sendable {
    static let schema = "co_managing_teams"
    /// A team's organizations (`AccessPolicy.coManagingTeamScope`): its members' own and those it is associated with.
    static let scopeTable = ScopeTable(
        name: schema, columns: [.id: "id"],
        related: [
            .organization: """
            SELECT m.team_id AS row_id, u.organization_id AS value FROM co_managing_team_members m JOIN co_managing_users u ON u.id = m.co_managing_user_id
            UNION ALL SELECT a.team_id, a.organization_id FROM co_managed_associations a WHERE a.team_id IS NOT NULL
            """
        ])

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

final class CoManagingTeamMember: Model, @unchecked Sendable {
    static let schema = "co_managing_team_members"

    @ID(key: .id) var id: UUID?
    @Field(key: "team_id") var teamId: UUID
    @Field(key: "co_managing_user_id") var userId: UUID

    init() {}

    init(teamId: UUID, userId: UUID) {
        self.id = .v7()
        self.teamId = teamId
        self.userId = userId
    }
}

/// One organization ↔ co-managing user or co-managing team association.
final class CoManagedAssociation: Model, @unchecked Sendable {
    static let schema = "co_managed_associations"

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @OptionalField(key: "co_managing_user_id") var userId: UUID?
    @OptionalField(key: "team_id") var teamId: UUID?

    init() {}

    init(organizationId: UUID, userId: UUID? = nil, teamId: UUID? = nil) {
        self.id = .v7()
        self.organizationId = organizationId
        self.userId = userId
        self.teamId = teamId
    }
}

final class SavedFilter: Model, @unchecked Sendable {
    static let schema = "saved_filters"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .owner: "owner_id"], shared: "shared")

    @ID(key: .id) var id: UUID?
    @Field(key: "owner_id") var ownerId: UUID
    @Field(key: "name") var name: String
    /// The ticket list's query string (status, organizationId, queueId, assigneeId, q).
    @Field(key: "query") var query: String
    @Field(key: "shared") var shared: Bool
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

extension Setting {
    static let coManagementEnabled = "coManagementEnabled"
    /// HaloPSA: co-managing users cannot change the assignee of a ticket assigned to an MSP resource.
    static let coManagingUsersCannotReassign = "coManagingUsersCannotReassign"

    static func flag(_ key: String, on db: any Database) async throws -> Bool {
        try await Setting.find(key, on: db)?.value == "true"
    }

    static func set(_ key: String, _ value: Bool, on db: any Database) async throws {
        if let setting = try await Setting.find(key, on: db) {
            setting.value = value ? "true" : "false"
            try await setting.save(on: db)
        } else {
            try await Setting(key: key, value: value ? "true" : "false").create(on: db)
        }
    }
}

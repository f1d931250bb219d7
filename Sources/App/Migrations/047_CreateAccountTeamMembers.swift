import Fluent

/// `account_team_members`: the MSP resources on an organization's account team (its account manager is
/// `organizations.account_manager_id`).
struct CreateAccountTeamMembers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("account_team_members")
            .id()
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .cascade))
            .field("resource_id", .uuid, .required, .references("resources", "id", onDelete: .cascade))
            .unique(on: "organization_id", "resource_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("account_team_members").delete()
    }
}

import Fluent

struct CreateCoManagingTeam: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("co_managing_teams")
            .id()
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
        try await database.schema("co_managing_team_members")
            .id()
            .field("team_id", .uuid, .required, .references("co_managing_teams", "id", onDelete: .cascade))
            .field("co_managing_user_id", .uuid, .required, .references("co_managing_users", "id", onDelete: .cascade))
            .unique(on: "team_id", "co_managing_user_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("co_managing_team_members").delete()
        try await database.schema("co_managing_teams").delete()
    }
}

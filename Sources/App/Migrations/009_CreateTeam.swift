import Fluent

struct CreateTeam: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("teams")
            .id()
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
        try await database.schema("team_members")
            .id()
            .field("team_id", .uuid, .required, .references("teams", "id", onDelete: .cascade))
            .field("principal_id", .uuid, .required)
            .field("access", .string, .required)
            .unique(on: "team_id", "principal_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("team_members").delete()
        try await database.schema("teams").delete()
    }
}

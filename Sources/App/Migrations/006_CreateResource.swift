import Fluent

struct CreateResource: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("resources")
            .id()
            .field("username", .string, .required)
            .field("password_hash", .string, .required)
            .field("first_name", .string, .required)
            .field("last_name", .string, .required)
            .field("email", .string)
            .field("security_level_id", .uuid, .required, .references("security_levels", "id", onDelete: .restrict))
            .field("client_restricted", .bool, .required)
            .field("active", .bool, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "username")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("resources").delete()
    }
}

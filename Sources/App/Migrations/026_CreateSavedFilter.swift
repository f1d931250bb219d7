import Fluent

struct CreateSavedFilter: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("saved_filters")
            .id()
            .field("owner_id", .uuid, .required)
            .field("name", .string, .required)
            .field("query", .string, .required)
            .field("shared", .bool, .required)
            .field("created_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("saved_filters").delete()
    }
}

import Fluent

struct CreateRole: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("roles")
            .id()
            .field("name", .string, .required)
            .field("hourly_rate", .double, .required)
            .field("block_hour_multiplier", .double, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("roles").delete()
    }
}

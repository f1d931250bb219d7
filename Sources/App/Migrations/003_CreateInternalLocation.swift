import Fluent

struct CreateInternalLocation: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("internal_locations")
            .id()
            .field("name", .string, .required)
            .field("time_zone", .string, .required)
            .field("business_hours", .string, .required)
            .field("holidays", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("internal_locations").delete()
    }
}

import Fluent
import SQLKit

struct CreateSecurityLevel: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("security_levels")
            .id()
            .field("name", .string, .required)
            .field("system_key", .string)
            .field("co_managed", .bool, .required)
            .field("permissions", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("security_levels").delete()
    }
}

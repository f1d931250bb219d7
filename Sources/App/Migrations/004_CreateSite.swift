import Fluent
import SQLKit

struct CreateSite: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("sites")
            .id()
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .restrict))
            .field("name", .string, .required)
            .field("country", .string, .required)
            .field("address", .string)
            .field("internal_location_id", .uuid, .references("internal_locations", "id", onDelete: .setNull))
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX sites_organization ON sites (organization_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("sites").delete()
    }
}

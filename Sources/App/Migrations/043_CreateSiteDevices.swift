import Fluent
import SQLKit

/// A site's managed devices, as the activation checklist reads them (name, type, agent installed).
struct CreateSiteDevices: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SiteDevice.schema)
            .id()
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id"))
            .field("site_id", .uuid, .required, .references(Site.schema, "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("type", .string, .required)
            .field("agent_installed", .bool, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX site_devices_site ON site_devices (site_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SiteDevice.schema).delete()
    }
}

import Fluent

/// Each site's security-related request settings and unlicensed software approvals (SPEC §8): one
/// JSON document each per site, checked whole by the core's rules on every change.
struct CreateSiteSecuritySettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(StoredSiteSecurity.schema)
            .field("site_id", .uuid, .identifier(auto: false), .references(Site.schema, "id", onDelete: .cascade))
            .field("settings", .string)
            .field("software", .string)
            .field("updated_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(StoredSiteSecurity.schema).delete()
    }
}

import Fluent

/// Each site's network information (SPEC §9): one JSON document per site, checked whole by the core
/// (`SiteNetwork`) on every change.
struct CreateSiteNetwork: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(StoredSiteNetwork.schema)
            .field("site_id", .uuid, .identifier(auto: false), .references(Site.schema, "id", onDelete: .cascade))
            .field("document", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(StoredSiteNetwork.schema).delete()
    }
}

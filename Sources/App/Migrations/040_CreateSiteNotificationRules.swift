import Fluent

/// Each site's help desk notification rule (ConnectWise): one JSON definition per site.
struct CreateSiteNotificationRules: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(StoredSiteNotificationRule.schema)
            .field("site_id", .uuid, .identifier(auto: false), .references(Site.schema, "id", onDelete: .cascade))
            .field("definition", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(StoredSiteNotificationRule.schema).delete()
    }
}

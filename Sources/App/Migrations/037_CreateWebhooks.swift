import Fluent

/// Webhook subscriptions: an owner (whose access policy filters every delivery), a URL, the event
/// types it hears, and the signing secret (shown once, when it is made).
struct CreateWebhooks: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Webhook.schema)
            .id()
            .field("owner_id", .uuid, .required)
            .field("owner_kind", .string, .required)
            .field("url", .string, .required)
            .field("event_types", .string, .required)
            .field("secret", .string, .required)
            .field("active", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Webhook.schema).delete()
    }
}

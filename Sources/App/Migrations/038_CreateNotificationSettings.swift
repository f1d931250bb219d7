import Fluent

/// People's own notification choices (a channel per kind) and the administrators' templates (a
/// kind without a row uses the built-in default).
struct CreateNotificationSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(NotificationPreference.schema)
            .id()
            .field("principal_kind", .string, .required)
            .field("channels", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema(StoredTemplate.schema)
            .field("kind", .string, .identifier(auto: false))
            .field("subject", .string, .required)
            .field("body", .string, .required)
            .field("html_body", .string)
            .field("updated_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(NotificationPreference.schema).delete()
        try await database.schema(StoredTemplate.schema).delete()
    }
}

import Fluent
import SQLKit

struct CreateAPIToken: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("api_tokens")
            .id()
            .field("token_hash", .string, .required)
            .field("principal_id", .uuid, .required)
            .field("principal_kind", .string, .required)
            .field("kind", .string, .required)
            .field("name", .string)
            .field("expires_at", .datetime, .required)
            .field("created_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX api_tokens_principal ON api_tokens (principal_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("api_tokens").delete()
    }
}

import Fluent
import SQLKit

/// The co-managing user wizard's server-side draft: the password typed at the details step, hashed,
/// kept for the page session that typed it so later steps never carry it in the HTML.
struct CreateCoManagingUserDraft: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("co_managing_user_drafts")
            .id()
            .field("session_id", .uuid, .required, .references("api_tokens", "id", onDelete: .cascade))
            .field("password_hash", .string, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "session_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("co_managing_user_drafts").delete()
    }
}

import Fluent
import SQLKit

struct CreateAttachment: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("attachments")
            .id()
            .field("ticket_id", .uuid, .required, .references("tickets", "id", onDelete: .cascade))
            .field("filename", .string, .required)
            .field("content_type", .string, .required)
            .field("size", .int64, .required)
            .field("sha256", .string, .required)
            .field("blob_key", .string, .required)
            .field("publish_to", .string, .required)
            .field("author_id", .uuid, .required)
            .field("author_name", .string, .required)
            .field("created_at", .datetime)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX attachments_ticket ON attachments (ticket_id, id)").run()
        // The blob store used when several instances share one database.
        try await database.schema("blobs")
            .field("key", .string, .identifier(auto: false))
            .field("data", .data, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("blobs").delete()
        try await database.schema("attachments").delete()
    }
}

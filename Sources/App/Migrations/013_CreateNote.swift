import Fluent
import SQLKit

struct CreateNote: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("notes")
            .id()
            .field("ticket_id", .uuid, .required, .references("tickets", "id", onDelete: .cascade))
            .field("body", .string, .required)
            .field("publish_to", .string, .required)
            .field("author_id", .uuid, .required)
            .field("author_kind", .string, .required)
            .field("author_name", .string, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX notes_ticket ON notes (ticket_id, id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("notes").delete()
    }
}

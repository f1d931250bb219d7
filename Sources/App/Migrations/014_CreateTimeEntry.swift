import Fluent
import SQLKit

struct CreateTimeEntry: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("time_entries")
            .id()
            .field("ticket_id", .uuid, .required, .references("tickets", "id", onDelete: .cascade))
            .field("role_id", .uuid, .references("roles", "id", onDelete: .restrict))
            .field("minutes", .int, .required)
            .field("summary", .string, .required)
            .field("publish_to", .string, .required)
            .field("author_id", .uuid, .required)
            .field("author_name", .string, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX time_entries_ticket ON time_entries (ticket_id, id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("time_entries").delete()
    }
}

import Fluent
import SQLKit

struct CreateTicket: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("tickets")
            .id()
            .field("number", .int64, .required)
            .field("title", .string, .required)
            .field("description", .string, .required)
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .restrict))
            .field("site_id", .uuid, .references("sites", "id", onDelete: .restrict))
            .field("contact_id", .uuid, .references("contacts", "id", onDelete: .restrict))
            .field("queue_id", .uuid, .references("queues", "id", onDelete: .restrict))
            .field("team_id", .uuid, .references("teams", "id", onDelete: .restrict))
            .field("status", .string, .required)
            .field("priority", .string, .required)
            .field("source", .string, .required)
            .field("co_managed_visible", .bool, .required)
            .field("due_at", .datetime)
            .field("version", .int64, .required)
            .field("created_by_id", .uuid)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "number")
            .create()
        let sql = database as! any SQLDatabase
        // The policy's list predicates: organization for client restrictions, queue and team for
        // "my queues", each paired with number so the first page reads in index order.
        for column in ["organization_id", "queue_id", "team_id", "contact_id", "status"] {
            try await sql.raw("CREATE INDEX tickets_\(unsafeRaw: column)_number ON tickets (\(unsafeRaw: column), number)").run()
        }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("CREATE SEQUENCE ticket_number_seq").run()
        } else {
            try await sql.raw("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)").run()
            try await sql.raw("INSERT INTO counters (name, value) VALUES ('ticket_number', 0)").run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP SEQUENCE ticket_number_seq").run()
        } else {
            try await sql.raw("DROP TABLE counters").run()
        }
        try await database.schema("tickets").delete()
    }
}

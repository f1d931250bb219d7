import Fluent
import SQLKit

struct CreateTicketAssignee: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("ticket_assignees")
            .id()
            .field("ticket_id", .uuid, .required, .references("tickets", "id", onDelete: .cascade))
            .field("principal_id", .uuid, .required)
            .field("principal_kind", .string, .required)
            .field("position", .int, .required)
            .unique(on: "ticket_id", "principal_id")
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX ticket_assignees_principal ON ticket_assignees (principal_id, ticket_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("ticket_assignees").delete()
    }
}

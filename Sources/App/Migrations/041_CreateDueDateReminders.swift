import Fluent
import SQLKit

/// The due date watch's memory: per ticket, the due date it last recorded "due date approaching"
/// for, so the event is recorded once per due date (a moved due date is watched again). Also the
/// index the watch's question runs on: tickets with a due date, by due date.
struct CreateDueDateReminders: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(DueDateReminder.schema)
            .field("ticket_id", .uuid, .identifier(auto: false), .references(Ticket.schema, "id", onDelete: .cascade))
            .field("due_at", .datetime, .required)
            .field("reminded_at", .datetime, .required)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX tickets_due_at ON tickets (due_at) WHERE due_at IS NOT NULL").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX tickets_due_at").run()
        try await database.schema(DueDateReminder.schema).delete()
    }
}

import Fluent
import SQLKit

/// The outbox: every mail, SMS and webhook call to make, written in the transaction of the event
/// that caused it and delivered (and retried) apart from it. Claimed rows carry a lease
/// (`claimed_until`) so that a process that dies mid-send gives its messages back.
struct CreateOutbox: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(OutboxMessage.schema)
            .id()
            .field("channel", .string, .required)
            .field("recipient", .string, .required)
            .field("subject", .string)
            .field("body", .string, .required)
            .field("message_id", .string)
            .field("event_position", .int64)
            .field("ticket_id", .uuid)
            .field("webhook_id", .uuid)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("claimed_until", .datetime)
            .field("last_error", .string)
            .field("created_at", .datetime, .required)
            .field("sent_at", .datetime)
            .create()
        // The delivery loop's question: what is pending and due, oldest first.
        try await (database as! any SQLDatabase).raw("CREATE INDEX outbox_due ON outbox (state, next_attempt_at)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OutboxMessage.schema).delete()
    }
}

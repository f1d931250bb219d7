import Fluent
import SQLKit

/// The received mail (dedupe, threading, triage), and the outbox's Message-IDs indexed: a reply's
/// In-Reply-To names one of them.
struct CreateInboundMail: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(InboundMail.schema)
            .id()
            .field("dedupe_key", .string, .required)
            .field("message_id", .string)
            .field("from_address", .string)
            .field("subject", .string)
            .field("received_at", .datetime, .required)
            .field("outcome", .string, .required)
            .field("reason", .string, .required)
            .field("ticket_id", .uuid, .references(Ticket.schema, "id", onDelete: .setNull))
            .field("note_id", .uuid)
            .field("triage_state", .string)
            .field("raw", .data)
            .unique(on: "dedupe_key")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX inbound_mail_message_id ON inbound_mail (message_id) WHERE message_id IS NOT NULL").run()
        try await sql.raw("CREATE INDEX inbound_mail_triage ON inbound_mail (triage_state, received_at) WHERE triage_state IS NOT NULL").run()
        try await sql.raw("CREATE INDEX outbox_message_id ON outbox (message_id) WHERE message_id IS NOT NULL").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX outbox_message_id").run()
        try await database.schema(InboundMail.schema).delete()
    }
}

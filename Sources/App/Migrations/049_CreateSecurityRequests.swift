import Fluent
import SQLKit

/// Security requests on tickets and their one-time codes (SPEC §8), and the outbox flag that erases a
/// message's body once it is delivered (a code lives in plaintext only until it is sent).
struct CreateSecurityRequests: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SecurityRequest.schema)
            .id()
            .field("ticket_id", .uuid, .required, .references(Ticket.schema, "id", onDelete: .cascade))
            .field("organization_id", .uuid, .required)
            .field("site_id", .uuid, .required)
            .field("category", .string, .required)
            .field("subject_contact_id", .uuid)
            .field("caller_contact_id", .uuid)
            .field("details", .string, .required)
            .field("facts", .string, .required)
            .field("progress", .string, .required)
            .field("status", .string, .required)
            .field("requested_by", .uuid)
            .field("requested_by_name", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema(OneTimeCodeRow.schema)
            .id()
            .field("request_id", .uuid, .required, .references(SecurityRequest.schema, "id", onDelete: .cascade))
            .field("purpose", .string, .required)
            .field("recipient_kind", .string, .required)
            .field("recipient_id", .uuid, .required)
            .field("sent_to", .string)
            .field("hash", .string, .required)
            .field("salt", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("attempts_left", .int, .required)
            .field("used_at", .datetime)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema(OutboxMessage.schema).field("erase_body_when_sent", .bool, .required, .sql(.default(false))).update()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX security_requests_ticket ON security_requests (ticket_id, created_at)").run()
        try await sql.raw("CREATE INDEX one_time_codes_request ON one_time_codes (request_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OutboxMessage.schema).deleteField("erase_body_when_sent").update()
        try await database.schema(OneTimeCodeRow.schema).delete()
        try await database.schema(SecurityRequest.schema).delete()
    }
}

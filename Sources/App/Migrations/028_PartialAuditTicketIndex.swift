import Fluent
import SQLKit

/// The audit log's ticket index holds only events of tickets: most other events (a client profile
/// import writes one per row) have no ticket, and every insert paid for an index entry of NULL.
/// Ticket history (`ticket_id = ?`) still uses it on both databases.
struct PartialAuditTicketIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX audit_events_ticket").run()
        try await sql.raw("CREATE INDEX audit_events_ticket ON audit_events (ticket_id, id) WHERE ticket_id IS NOT NULL").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX audit_events_ticket").run()
        try await sql.raw("CREATE INDEX audit_events_ticket ON audit_events (ticket_id, id)").run()
    }
}

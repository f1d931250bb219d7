import Fluent
import SQLKit

/// The SLA watch's records: one row per ticket, target and kind ("approaching", "breached") whose event
/// was recorded, so each is recorded once (the UNIQUE key: insert or nothing); and the watch's own row,
/// claimed by the instance that runs a pass. Also the index a ticket's SLA timeline is read by: its events of
/// the kinds the clocks read (a partial index, so the other events cost no more to append).
struct CreateSLAAlerts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SLAAlert.schema)
            .field("ticket_id", .uuid, .required, .references(Ticket.schema, "id", onDelete: .cascade))
            .field("target", .string, .required)
            .field("kind", .string, .required)
            .field("at", .datetime, .required)
            .unique(on: "ticket_id", "target", "kind")
            .create()
        try await database.schema("sla_watch")
            .field("name", .string, .identifier(auto: false))
            .field("last_run_at", .datetime)
            // Where the next pass goes on: a pass reads a bounded batch of tickets (`SLAWatch.batch`).
            .field("after_ticket_id", .uuid)
            .create()
        try await (database as! any SQLDatabase).raw(
            """
            CREATE INDEX events_ticket_timeline ON events (ticket_id, position)
            WHERE type IN ('ticket.created', 'ticket.statusChanged', 'note.added', 'ticket.handedOff')
            """
        ).run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX events_ticket_timeline").run()
        try await database.schema("sla_watch").delete()
        try await database.schema(SLAAlert.schema).delete()
    }
}

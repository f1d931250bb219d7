import Fluent
import SQLKit

/// PostgreSQL only: each ticket also holds its assignees in order (`tickets.assignee_ids`), kept in
/// step by statement triggers on `ticket_assignees`, which stays the source of truth (assignee
/// filters and "assigned to me" read it). The ticket list reads the column: looking the assignees
/// up per ticket was about 30 % of PostgreSQL's time for a page. SQLite reads `ticket_assignees`
/// in-process, where the lookup is cheap, and has no such column.
///
/// The triggers update ticket rows, so a write that changes the assignees of tickets it has not
/// locked locks them first, in id order (`TicketPipeline.unassign`): a ticket's update
/// locks its row before its assignees, and the other order could deadlock.
struct TicketAssigneeIds: AsyncMigration {
    /// A ticket's assignees in their order, as the triggers and the backfill write them.
    static let assigneesInOrder = "ARRAY(SELECT a.principal_id FROM ticket_assignees a WHERE a.ticket_id = tickets.id ORDER BY a.position)"

    func prepare(on database: any Database) async throws {
        guard !database.isSQLite else { return }
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE tickets ADD COLUMN assignee_ids uuid[] NOT NULL DEFAULT '{}'").run()
        try await sql.raw(
            """
            CREATE FUNCTION tandem_refresh_assignee_ids() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE tickets SET assignee_ids = \(unsafeRaw: Self.assigneesInOrder)
                WHERE tickets.id IN (SELECT ticket_id FROM changed);
                RETURN NULL;
            END $$
            """
        ).run()
        // A ticket's assignee rows never move to another ticket, so the new rows name every ticket an update touches.
        for (event, table) in [("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW")] {
            try await sql.raw(
                """
                CREATE TRIGGER ticket_assignees_\(unsafeRaw: event.lowercased()) AFTER \(unsafeRaw: event) ON ticket_assignees
                REFERENCING \(unsafeRaw: table) TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tandem_refresh_assignee_ids()
                """
            ).run()
        }
        try await sql.raw(
            """
            UPDATE tickets SET assignee_ids = \(unsafeRaw: Self.assigneesInOrder) WHERE tickets.id IN (SELECT ticket_id FROM ticket_assignees)
            """
        ).run()
    }

    func revert(on database: any Database) async throws {
        guard !database.isSQLite else { return }
        let sql = database as! any SQLDatabase
        for event in ["insert", "delete", "update"] {
            try await sql.raw("DROP TRIGGER ticket_assignees_\(unsafeRaw: event) ON ticket_assignees").run()
        }
        try await sql.raw("DROP FUNCTION tandem_refresh_assignee_ids()").run()
        try await sql.raw("ALTER TABLE tickets DROP COLUMN assignee_ids").run()
    }
}

import Fluent
import Foundation
import SQLKit

/// Writes that change the assignees of tickets they have not locked.
///
/// On PostgreSQL the triggers of `TicketAssigneeIds` update `tickets.assignee_ids` whenever
/// `ticket_assignees` changes, so such a write locks the tickets first, in id order, as a ticket's
/// own update does (`SELECT … FOR UPDATE` before its assignees). Taking the assignee rows first and
/// the ticket rows in the trigger could deadlock with a concurrent update of one of those tickets.
/// SQLite write transactions hold the whole database and have no column to keep.
enum TicketAssignments {
    /// Removes `principalId` from every ticket it is assigned to.
    static func unassign(_ principalId: UUID, on db: any Database) async throws {
        if !db.isSQLite {
            try await db.sql.raw("""
                SELECT id FROM tickets WHERE id IN (SELECT ticket_id FROM ticket_assignees WHERE principal_id = \(bind: principalId))
                ORDER BY id FOR UPDATE
                """).run()
        }
        try await TicketAssignee.query(on: db).filter(\.$principalId == principalId).delete()
    }

    /// Removes every assignee of `ticketIds`.
    static func unassignAll(of ticketIds: [UUID], on db: any Database) async throws {
        guard !ticketIds.isEmpty else { return }
        if !db.isSQLite {
            try await db.sql.select().column("id").from(Ticket.schema).where("id", .in, ticketIds).orderBy("id").for(.update).run()
        }
        try await TicketAssignee.query(on: db).filter(\.$ticketId ~~ ticketIds).delete()
    }
}

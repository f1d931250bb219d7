import Fluent
import Foundation
import SQLKit

/// Writes that change the assignees of tickets they have not locked.
///
/// Such a write locks the tickets first, in id order, as a ticket's own update does
/// (`TicketStore.lock`; why, on PostgreSQL, in `PostgresTicketStore`).
enum TicketAssignments {
    /// Removes `principalId` from every ticket it is assigned to.
    static func unassign(_ principalId: UUID, on db: any Database) async throws {
        try await db.ticketStore.lock(.assignedTo(principalId), on: db)
        try await TicketAssignee.query(on: db).filter(\.$principalId == principalId).delete()
    }

    /// Removes every assignee of `ticketIds`.
    static func unassignAll(of ticketIds: [UUID], on db: any Database) async throws {
        guard !ticketIds.isEmpty else { return }
        try await db.ticketStore.lock(.ids(ticketIds), on: db)
        try await TicketAssignee.query(on: db).filter(\.$ticketId ~~ ticketIds).delete()
    }
}

import Fluent
import SQLKit

/// A ticket's assignees in their order, from the index alone: every page of tickets reads them
/// (`ORDER BY position` per ticket), and the unique (ticket_id, principal_id) index made each
/// ticket of a page cost a heap visit and a sort.
struct TicketAssigneeOrderIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase)
            .raw("CREATE INDEX ticket_assignees_ticket_position ON ticket_assignees (ticket_id, position, principal_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX ticket_assignees_ticket_position").run()
    }
}

import Fluent
import SQLKit

/// The tickets the client's IT holds, newest first (`GET /tickets?responsibleSide=clientIT`): few among many
/// held by the MSP, so a partial index, which a new ticket (held by the MSP) does not touch. Additive.
struct IndexClientITTickets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw(
            "CREATE INDEX tickets_client_it_number ON tickets (number) WHERE responsible_side = 'clientIT'"
        ).run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX tickets_client_it_number").run()
    }
}

import Fluent
import SQLKit

/// A lease on each event consumer's row (`EventConsumers`): the instance that holds it reads and plans the next
/// events, the others skip it instead of planning the same batch and losing the race for the cursor. Additive: old
/// instances ignore the columns and still claim the row when they write.
struct AddEventConsumerLease: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let time = database.isSQLite ? "REAL" : "TIMESTAMPTZ"
        try await sql.raw("ALTER TABLE event_consumers ADD COLUMN claimed_by TEXT").run()
        try await sql.raw("ALTER TABLE event_consumers ADD COLUMN claimed_until \(unsafeRaw: time)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE event_consumers DROP COLUMN claimed_until").run()
        try await sql.raw("ALTER TABLE event_consumers DROP COLUMN claimed_by").run()
    }
}

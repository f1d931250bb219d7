import Fluent
import SQLKit

/// Reports read two kinds of domain events: status changes (tickets closed, resolution times) and added notes (first
/// responses), of one organization from a time on. A partial index holds only those, so every other event (the busiest
/// writes) pays nothing. Queries repeat the index's `WHERE` term word for word (`Reports.milestoneTypes`), which is
/// what lets SQLite use a partial index.
struct AddReportEventIndexes: AsyncMigration {
    static let predicate = "type IN ('ticket.statusChanged', 'note.added')"

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX events_report_organization ON events (organization_id, at) WHERE \(unsafeRaw: Self.predicate)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX events_report_organization").run()
    }
}

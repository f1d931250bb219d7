import Fluent
import SQLKit

/// SQLite: a write transaction holds the whole database, so the row is read as is.
struct SQLiteEventStore: EventStore {
    func claim(consumer name: String, on db: any Database) async throws -> Int? {
        try await db.sql.raw("SELECT position FROM event_consumers WHERE name = \(bind: name)").first()?.decode(column: "position", as: Int.self)
    }
}

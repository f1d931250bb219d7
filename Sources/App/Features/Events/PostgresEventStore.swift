import Fluent
import SQLKit

/// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so instances skip a consumer another one runs.
struct PostgresEventStore: EventStore {
    func claim(consumer name: String, on db: any Database) async throws -> Int? {
        try await db.sql.raw("SELECT position FROM event_consumers WHERE name = \(bind: name) FOR UPDATE SKIP LOCKED").first()?
            .decode(column: "position", as: Int.self)
    }
}

import Fluent
import Foundation
import SQLKit

/// In-process consumers of the events (rules, notifications, webhooks, SLA clocks): each has a cursor
/// (`event_consumers`: name → last position) that moves in the transaction of what it did with the
/// events, so a consumer resumes after a restart and never acts on an event twice. On PostgreSQL the
/// cursor row is claimed so that of several instances one runs a consumer at a time and the others
/// skip it (`DatabaseStores.claimLocking`).
enum EventConsumers {
    /// Runs `handle` on the next events (at most `limit`) after the consumer's cursor, in a write
    /// transaction, and moves the cursor past them. Answers how many events it handled, or nil when
    /// another instance holds the consumer.
    @discardableResult
    static func run(
        _ name: String, limit: Int = 100, on db: any Database,
        _ handle: @escaping @Sendable ([EventDTO], any Database) async throws -> Void
    ) async throws -> Int? {
        try await db.write { db in
            try await db.sql.raw(
                "INSERT INTO event_consumers (name, position, updated_at) VALUES (\(bind: name), 0, \(bind: db.now)) ON CONFLICT (name) DO NOTHING"
            ).run()
            let cursor = try await db.sql.select().column("position").from("event_consumers").where("name", .equal, name)
                .lockingClause(SQLRaw(db.stores.claimLocking)).first()
            guard let after = try cursor?.decode(column: "position", as: Int.self) else { return nil }
            let events = try await Events.after(after, limit: limit, on: db)
            guard let last = events.last else { return 0 }
            try await handle(events, db)
            try await db.sql.update("event_consumers").set("position", to: last.position).set("updated_at", to: db.now).where("name", .equal, name).run()
            return events.count
        }
    }
}

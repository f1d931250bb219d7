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
        try await run(name, limit: limit, on: db, prepare: { events, _ in events }, apply: handle)
    }

    /// The same in two steps, so that reading does not hold the one SQLite writer (or PostgreSQL's
    /// event position lock): `prepare` reads what to do with the events, outside any transaction;
    /// `apply` writes it in a write transaction that claims the cursor and moves it. If the cursor
    /// moved in between (another instance ran), nothing is applied and the next run reads again.
    /// No events: no write at all.
    @discardableResult
    static func run<Work: Sendable>(
        _ name: String, limit: Int = 100, on db: any Database,
        prepare: @escaping @Sendable ([EventDTO], any Database) async throws -> Work,
        apply: @escaping @Sendable (Work, any Database) async throws -> Void
    ) async throws -> Int? {
        let after = try await position(name, on: db)
        let events = try await Events.after(after, limit: limit, on: db)
        guard let last = events.last else { return 0 }
        let work = try await prepare(events, db)
        return try await db.write { db in
            try await db.sql.raw(
                "INSERT INTO event_consumers (name, position, updated_at) VALUES (\(bind: name), 0, \(bind: db.now)) ON CONFLICT (name) DO NOTHING"
            ).run()
            let cursor = try await db.sql.select().column("position").from("event_consumers").where("name", .equal, name)
                .lockingClause(SQLRaw(db.stores.claimLocking)).first()
            guard let claimed = try cursor?.decode(column: "position", as: Int.self) else { return nil }
            guard claimed == after else { return 0 }
            try await apply(work, db)
            try await db.sql.update("event_consumers").set("position", to: last.position).set("updated_at", to: db.now).where("name", .equal, name).run()
            return events.count
        }
    }

    /// The consumer's cursor, read without claiming it (0 before its first run).
    static func position(_ name: String, on db: any Database) async throws -> Int {
        try await db.sql.select().column("position").from("event_consumers").where("name", .equal, name).first()?
            .decode(column: "position", as: Int.self) ?? 0
    }
}

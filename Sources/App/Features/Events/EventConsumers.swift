import Fluent
import Foundation
import SQLKit

/// In-process consumers of the events (rules, notifications, webhooks, SLA clocks): each has a cursor
/// (`event_consumers`: name → last position) that moves in the transaction of what it did with the
/// events, so a consumer resumes after a restart and never acts on an event twice. Of several instances
/// one runs a consumer at a time: a run first takes a short lease on the consumer's row, so the others
/// skip it rather than read and plan the same events; and its write claims the row again
/// (`DatabaseStores.claimLocking` on PostgreSQL) and applies nothing if the cursor moved meanwhile, so
/// a lease that ran out costs work, never correctness.
enum EventConsumers {
    /// How long a run holds its consumer before another instance may take it: a run releases it when it
    /// writes (within a second or so); one that died holds it this long.
    static let lease: TimeInterval = 10

    /// Runs `handle` on the next events (at most `limit`) after the consumer's cursor, in a write
    /// transaction, and moves the cursor past them. Answers how many events it handled, or nil when
    /// another instance holds the consumer.
    @discardableResult
    static func run(
        _ name: String, limit: Int = 100, on db: any Database, owner: String = ProcessIdentity.name,
        _ handle: @escaping @Sendable ([EventDTO], any Database) async throws -> Void
    ) async throws -> Int? {
        try await run(name, limit: limit, on: db, owner: owner, prepare: { events, _ in events }, apply: handle)
    }

    /// The same in two steps, so that reading does not hold the one SQLite writer (or PostgreSQL's
    /// event position lock): `prepare` reads what to do with the events, outside any transaction;
    /// `apply` writes it in a write transaction that claims the cursor and moves it. If the cursor
    /// moved in between (another instance ran), nothing is applied and the next run reads again.
    /// No events: no write at all.
    /// `owner` names the instance (tests play several in one process).
    @discardableResult
    static func run<Work: Sendable>(
        _ name: String, limit: Int = 100, on db: any Database, owner: String = ProcessIdentity.name,
        prepare: @escaping @Sendable ([EventDTO], any Database) async throws -> Work,
        apply: @escaping @Sendable (Work, any Database) async throws -> Void
    ) async throws -> Int? {
        let after = try await position(name, on: db)
        let events = try await Events.after(after, limit: limit, on: db)
        guard let last = events.last else { return 0 }
        guard try await takeLease(name, at: after, owner: owner, on: db) else { return nil }
        do {
            let work = try await prepare(events, db)
            return try await db.write { db in
                let cursor = try await db.sql.select().column("position").from("event_consumers").where("name", .equal, name)
                    .lockingClause(SQLRaw(db.stores.claimLocking)).first()
                guard let claimed = try cursor?.decode(column: "position", as: Int.self) else { return nil }
                guard claimed == after else { return 0 }
                try await apply(work, db)
                try await db.sql.update("event_consumers").set("position", to: last.position).set("updated_at", to: db.now)
                    .set("claimed_by", to: SQLLiteral.null).set("claimed_until", to: SQLLiteral.null).where("name", .equal, name).run()
                return events.count
            }
        } catch {
            // Let another instance try at once rather than after the lease.
            try? await db.write { db in
                try await db.sql.update("event_consumers").set("claimed_until", to: SQLLiteral.null).where("name", .equal, name)
                    .where("claimed_by", .equal, owner).run()
            }
            throw error
        }
    }

    /// Takes the consumer for one run if its cursor is still at `after` and no other instance holds an unexpired
    /// lease on it (its first run creates its row).
    private static func takeLease(_ name: String, at after: Int, owner: String, on db: any Database) async throws -> Bool {
        try await db.write { db in
            let now = db.now
            if after == 0 {
                try await db.sql.raw(
                    "INSERT INTO event_consumers (name, position, updated_at) VALUES (\(bind: name), 0, \(bind: now)) ON CONFLICT (name) DO NOTHING"
                ).run()
            }
            let taken = try await db.sql.raw(
                """
                UPDATE event_consumers SET claimed_by = \(bind: owner), claimed_until = \(bind: now.addingTimeInterval(lease))
                WHERE name = \(bind: name) AND position = \(bind: after)
                AND (claimed_until IS NULL OR claimed_until < \(bind: now) OR claimed_by = \(bind: owner))
                RETURNING name
                """
            ).all()
            return !taken.isEmpty
        }
    }

    /// The consumer's cursor, read without claiming it (0 before its first run).
    static func position(_ name: String, on db: any Database) async throws -> Int {
        try await db.sql.select().column("position").from("event_consumers").where("name", .equal, name).first()?
            .decode(column: "position", as: Int.self) ?? 0
    }
}

import Fluent
import Foundation
import SQLKit

/// Work that runs once an interval across all instances (`periodic_tasks`: name → last run). A run claims the
/// task's row (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so of several instances one runs it and the others skip.
enum PeriodicTask {
    static let schema = "periodic_tasks"

    /// Claims the task for a run at `now` if none ran within `interval`; false when one did, or another instance
    /// holds the row.
    static func claim(_ name: String, interval: TimeInterval, now: Date, on db: any Database) async throws -> Bool {
        try await claim(name, in: schema, interval: interval, now: now, on: db) { _, _ in true } ?? false
    }

    /// The claim of a row `name` of `table` (`name`, `last_run_at` and any `columns`), made when none ran within
    /// `interval`: `body` runs with the locked row in the claim's transaction, which also sets `last_run_at` to
    /// `now`; nil when a run was due later, or another instance holds the row. A round with nothing due writes
    /// nothing (the row is read before any transaction).
    static func claim<Result: Sendable>(
        _ name: String, in table: String, columns: [String] = [], interval: TimeInterval, now: Date, on db: any Database,
        _ body: @Sendable @escaping (any SQLRow, any Database) async throws -> Result
    ) async throws -> Result? {
        @Sendable func due(_ row: (any SQLRow)?) throws -> Bool {
            guard let last = try row?.decode(column: "last_run_at", as: Date?.self) else { return true }
            return now >= last.addingTimeInterval(interval)
        }
        guard try due(try await db.sql.select().column("last_run_at").from(table).where("name", .equal, name).first()) else { return nil }
        return try await db.write { db -> Result? in
            try await db.sql.raw("INSERT INTO \(ident: table) (name, last_run_at) VALUES (\(bind: name), NULL) ON CONFLICT (name) DO NOTHING").run()
            let row = try await db.sql.select().columns(["last_run_at"] + columns).from(table).where("name", .equal, name)
                .lockingClause(SQLRaw(db.stores.claimLocking)).first()
            guard let row, try due(row) else { return nil }
            try await db.sql.update(table).set("last_run_at", to: SQLBind(now)).where("name", .equal, name).run()
            return try await body(row, db)
        }
    }
}

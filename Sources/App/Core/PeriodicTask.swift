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
        // Read first: a round with nothing due writes nothing.
        if let last = try await db.sql.select().column("last_run_at").from(schema).where("name", .equal, name).first()?
            .decode(column: "last_run_at", as: Date?.self), now < last.addingTimeInterval(interval)
        {
            return false
        }
        return try await db.write { db in
            try await db.sql.raw("INSERT INTO periodic_tasks (name, last_run_at) VALUES (\(bind: name), NULL) ON CONFLICT (name) DO NOTHING").run()
            let row = try await db.sql.select().column("last_run_at").from(schema).where("name", .equal, name)
                .lockingClause(SQLRaw(db.stores.claimLocking)).first()
            guard let row else { return false }
            if let last = try row.decode(column: "last_run_at", as: Date?.self), now < last.addingTimeInterval(interval) { return false }
            try await db.sql.update(schema).set("last_run_at", to: SQLBind(now)).where("name", .equal, name).run()
            return true
        }
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore

/// A row whose edits are checked against its `version` column (expenses, references, block-hour contracts).
protocol VersionedRow: AnyObject {
    var version: Int { get }
}

/// The version check where it holds: inside the write. A body's `version` is compared with the row as read before
/// the transaction, and a parallel save can move it between that read and this write; the compare-and-set below
/// makes the later save answer 409 rather than overwrite the other unseen (on PostgreSQL it waits for the other's
/// row lock, then finds the version moved; SQLite runs one write transaction at a time).
enum RowVersion {
    /// Moves the row's version from `version` to the next, or throws the 409 when another save moved it first.
    static func advance(_ schema: String, id: UUID, from version: Int, what: String, on db: any Database) async throws {
        let moved = try await db.sql.update(schema).set("version", to: SQLBind(version + 1)).where("id", .equal, SQLBind(id))
            .where("version", .equal, SQLBind(version)).returning("id").all()
        guard moved.isEmpty else { return }
        throw TandemError.conflict("the \(what) was changed by someone else while you saved it: reload it and apply your change again")
    }
}

import Fluent
import Foundation
import PostgresKit
import SQLKit
import SQLiteKit
import TandemCore

/// What the client profile store does differently per database, behind one seam: `SQLProfileStore`
/// asks `db.profileRows` and never which database it runs on.
protocol ProfileRows: Sendable {
    /// A site's profiles whose `column` is one of `values`, read this database's fastest way; nil
    /// leaves it to SQLKit.
    func profiles(siteId: UUID, where column: String, in values: [BulkValue], on db: any Database) async throws -> [StoredProfile]?
    /// How many transactions an import batch of `count` changes is written in at once.
    func writers(for count: Int) -> Int
}

extension Database {
    /// This database's profile rows: the one place the profile store's code asks which database it is.
    var profileRows: any ProfileRows { isSQLite ? SQLiteProfileRows() : PostgresProfileRows() }
}

/// SQLite: straight from SQLiteNIO's rows; one writer, so a batch is one transaction.
struct SQLiteProfileRows: ProfileRows {
    func profiles(siteId: UUID, where column: String, in values: [BulkValue], on db: any Database) async throws -> [StoredProfile]? {
        guard let sqlite = SQLiteDirect.database(db) else { return nil }
        let list = Array(repeating: "?", count: values.count).joined(separator: ",")
        let rows = try await sqlite.query(
            "SELECT \(SQLProfileStore.columns.joined(separator: ",")) FROM contacts WHERE site_id = ? AND \(column) IN (\(list))",
            [.id(siteId)] + values.map(\.sqlite))
        return try rows.map(SQLProfileStore.profile)
    }

    func writers(for count: Int) -> Int { 1 }
}

/// PostgreSQL: the values as one array bind; a batch in two transactions at once, since one kept one
/// backend (one core) inserting while the importer waited.
struct PostgresProfileRows: ProfileRows {
    /// Smaller batches are one transaction: for a few rows the second commit costs more than it saves.
    static let splitAt = 400

    func profiles(siteId: UUID, where column: String, in values: [BulkValue], on db: any Database) async throws -> [StoredProfile]? {
        guard let postgres = PostgresDirect.database(db), let kind = values.first else { return nil }
        // One array bind: a 5,000-value IN list cost PostgreSQL more to parse and plan than to run.
        var binds = PostgresBindings(capacity: 2)
        binds.append(siteId, context: .default)
        binds.append(BulkArray(values, of: kind), context: .default)
        let rows = try await PostgresDirect.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(SQLProfileStore.columns.joined(separator: ",")) FROM contacts WHERE site_id = $1 AND \(column) = ANY($2)", binds: binds),
            on: postgres)
        return try rows.map { try SQLProfileStore.profile($0.makeRandomAccess()) }
    }

    func writers(for count: Int) -> Int { count >= Self.splitAt ? 2 : 1 }
}

import FluentKit
import Foundation
import SQLKit
import SQLiteKit

/// The statements of the hottest requests (authentication, ticket creation, the ticket page) sent
/// to SQLite as fixed SQL with binds already in `SQLiteData`, and read from `SQLiteRow`s directly.
///
/// The values are what SQLiteKit's encoder writes (ids as upper-case `uuidString` TEXT, dates as
/// REAL seconds since 1970, booleans as 0/1), so rows read and written either way are the same.
/// SQLKit's generic path costs more than the statement itself here: identifier escaping during
/// serialization, and a Codable round trip with generic metadata lookups per bind and per column.
enum SQLiteDirect {
    struct BadValue: Error, CustomStringConvertible {
        let column: String
        var description: String { "unexpected value in column \(column)" }
    }

    /// Lets SQLite's planner see table statistics: `PRAGMA optimize=0x10002` analyses the tables
    /// that have none or whose size changed a lot since. Without statistics SQLite reads a
    /// client-restricted ticket page through the organization index and sorts every ticket of
    /// those organizations (linear in the table); with them it walks the `number` index newest
    /// first and stops after a page. No `analysis_limit`: sampling the first rows of an index
    /// sorted by organization saw one organization and estimated it at 1% of the table, which
    /// kept the linear plan. A full analysis takes about 0.1 s per 100k tickets, once.
    static func optimize(_ db: any Database) async throws {
        guard let sqlite = database(db) else { return }
        _ = try await sqlite.query("PRAGMA optimize = 0x10002", [])
    }

    /// The read connections for a read on `db` outside a transaction, or nil (PostgreSQL, a
    /// transaction, a database not set up by `configure`).
    static func readers(_ db: any Database) -> SQLiteReaders? {
        guard db.isSQLite, !db.inTransaction else { return nil }
        return SQLiteGroupCommit.installed(on: db)?.readers
    }

    /// The SQLite connection behind `db`, or nil on PostgreSQL.
    static func database(_ db: any Database) -> (any SQLiteDatabase)? {
        db.isSQLite ? db as? any SQLiteDatabase : nil
    }

    static func uuid(_ row: some SQLiteColumns, _ column: String) throws -> UUID {
        guard case .text(let text) = row.column(column), let uuid = UUID(uuidString: text) else { throw BadValue(column: column) }
        return uuid
    }

    static func text(_ row: some SQLiteColumns, _ column: String) throws -> String {
        guard case .text(let text) = row.column(column) else { throw BadValue(column: column) }
        return text
    }

    static func optionalText(_ row: some SQLiteColumns, _ column: String) throws -> String? {
        switch row.column(column) {
        case .text(let text): return text
        case .null, nil: return nil
        default: throw BadValue(column: column)
        }
    }

    static func int(_ row: some SQLiteColumns, _ column: String) throws -> Int {
        guard case .integer(let value) = row.column(column) else { throw BadValue(column: column) }
        return Int(value)
    }

    static func bool(_ row: some SQLiteColumns, _ column: String) throws -> Bool {
        guard let value = row.column(column)?.bool else { throw BadValue(column: column) }
        return value
    }
}

/// A row's columns by name: SQLiteNIO's rows and `SQLiteDirectConnection`'s.
protocol SQLiteColumns {
    func column(_ name: String) -> SQLiteData?
}

extension SQLiteRow: SQLiteColumns {}

extension SQLiteData {
    /// An id as SQLiteKit binds a `UUID`.
    static func id(_ uuid: UUID) -> SQLiteData { .text(uuid.text) }
    static func id(_ uuid: UUID?) -> SQLiteData { uuid.map { .text($0.text) } ?? .null }
    static func optionalText(_ text: String?) -> SQLiteData { text.map { .text($0) } ?? .null }
    static func date(_ date: Date?) -> SQLiteData { date.map { .float($0.timeIntervalSince1970) } ?? .null }
    static func boolean(_ value: Bool) -> SQLiteData { .integer(value ? 1 : 0) }
    static func int(_ value: Int) -> SQLiteData { .integer(SQLiteInt64(value)) }
}

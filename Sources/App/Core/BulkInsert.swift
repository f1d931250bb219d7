import FluentKit
import Foundation
import PostgresKit
import SQLKit
import SQLiteKit

/// A value of a bulk-inserted row, typed so each database gets it without a Codable round trip.
enum BulkValue: Sendable {
    case text(String?)
    case id(UUID?)
    case bool(Bool)
    case int(Int)
    case date(Date?)

    /// What SQLiteKit's encoder would write (see `SQLiteDirect`).
    var sqlite: SQLiteData {
        switch self {
        case .text(let text): .optionalText(text)
        case .id(let id): .id(id)
        case .bool(let value): .boolean(value)
        case .int(let value): .int(value)
        case .date(let date): .date(date)
        }
    }

    /// A one-row INSERT with numbered placeholders (SQLite), for statements prepared once.
    static func insertStatement(into table: String, columns: [String]) -> String {
        "INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ",") + ") VALUES ("
            + (1...columns.count).map { "?\($0)" }.joined(separator: ",") + ")"
    }

    var bind: SQLBind {
        switch self {
        case .text(let text): SQLBind(text)
        case .id(let id): SQLBind(id)
        case .bool(let value): SQLBind(value)
        case .int(let value): SQLBind(value)
        case .date(let date): SQLBind(date)
        }
    }
}

extension Database {
    /// Multi-row INSERTs of `chunk` rows each (SQLite), or one `unnest` INSERT (PostgreSQL). The statement
    /// and its binds go to SQLiteNIO or PostgresNIO directly: SQLKit's serializer and encoder cost more
    /// than the database itself for 100,000-row imports.
    func bulkInsert(into table: String, columns: [String], rows: [[BulkValue]], chunk: Int = 200) async throws {
        guard !rows.isEmpty else { return }
        if let sqlite = SQLiteDirect.database(self) {
            let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
            let head = "INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ",") + ") VALUES "
            for part in rows.chunked(chunk) {
                var binds: [SQLiteData] = []
                binds.reserveCapacity(part.count * columns.count)
                for row in part { for value in row { binds.append(value.sqlite) } }
                _ = try await sqlite.query(head + Array(repeating: tuple, count: part.count).joined(separator: ","), binds)
            }
            return
        }
        if let postgres = PostgresDirect.database(self) {
            return try await PostgresDirect.insert(into: table, columns: columns, rows: rows, on: postgres)
        }
        for part in rows.chunked(chunk) {
            var insert = sql.insert(into: table).columns(columns)
            for row in part { insert = insert.values(row.map(\.bind)) }
            try await insert.run()
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements, for statements with a bound number of binds.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

import FluentKit
import Foundation
import PostgresKit

/// The PostgreSQL side of `SQLiteDirect`: statements sent to PostgresNIO with binds already in
/// `PostgresBindings` and rows read from cells as their concrete types, where SQLKit's Codable round
/// trip per bind and per cell (`PostgresDataTranslation`) costs more than the statement.
enum PostgresDirect {
    /// The PostgreSQL connection behind `db` (a transaction's own connection inside one), or nil on SQLite.
    static func database(_ db: any Database) -> (any PostgresDatabase)? {
        db.isSQLite ? nil : db as? any PostgresDatabase
    }

    /// The binds as PostgresKit would send them, for the types hot queries bind; nil for any other type.
    static func bindings(_ values: [any Encodable & Sendable]) -> PostgresBindings? {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case let value as UUID: binds.append(value, context: .default)
            case let value as String: binds.append(value, context: .default)
            case let value as Int: binds.append(value, context: .default)
            case let value as Bool: binds.append(value, context: .default)
            case let value as Date: binds.append(value, context: .default)
            default: return nil
            }
        }
        return binds
    }

    /// A statement PostgresNIO prepares once per connection (and keeps by its name): PostgreSQL parses
    /// and plans it once, not on every request.
    static func execute<Statement: PostgresPreparedStatement>(_ statement: Statement, on postgres: any PostgresDatabase) async throws -> [PostgresRow]
        where Statement.Row == PostgresRow {
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                var rows: [PostgresRow] = []
                for try await row in try await connection.execute(statement, logger: postgres.logger) { rows.append(row) }
                return rows
            }
        }.get()
    }

    static func query(_ query: PostgresQuery, on postgres: any PostgresDatabase) async throws -> [PostgresRow] {
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask { try await connection.query(query, logger: postgres.logger).collect() }
        }.get()
    }
}

extension BulkValue {
    /// The PostgreSQL type of the column a value of this kind goes to, for statements that cast their binds.
    var postgresType: String {
        switch self {
        case .text: "text"
        case .id: "uuid"
        case .bool: "boolean"
        case .int: "bigint"
        case .date: "timestamptz"
        }
    }

    /// Appends the value as PostgresKit would bind it (NULL for nil: the INSERT's column gives it its type).
    func append(to binds: inout PostgresBindings) {
        switch self {
        case .text(let text): if let text { binds.append(text, context: .default) } else { binds.appendNull() }
        case .id(let id): if let id { binds.append(id, context: .default) } else { binds.appendNull() }
        case .bool(let value): binds.append(value, context: .default)
        case .int(let value): binds.append(value, context: .default)
        case .date(let date): if let date { binds.append(date, context: .default) } else { binds.appendNull() }
        }
    }
}

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

    /// The rows of `query`, collected on the connection's event loop (no task and no async sequence per query).
    static func query(_ query: PostgresQuery, on postgres: any PostgresDatabase) async throws -> [PostgresRow] {
        try await postgres.withConnection { connection in
            connection.query(query, logger: postgres.logger).map(\.rows)
        }.get()
    }

    /// Any number of rows in one short statement, one array per column: `INSERT … SELECT * FROM
    /// unnest($1::uuid[], $2::text[], …)`. A multi-row VALUES list made PostgreSQL parse, analyse and
    /// plan every row's binds; this statement is parsed and planned once per call, whatever its size.
    /// Each column's kind is its first row's (`BulkValue` says it even for NULL).
    static func insert(into table: String, columns: [String], rows: [[BulkValue]], on postgres: any PostgresDatabase) async throws {
        guard let first = rows.first else { return }
        var binds = PostgresBindings(capacity: columns.count)
        var arrays: [String] = []
        for column in columns.indices {
            binds.append(BulkArray(rows.map { $0[column] }, of: first[column]), context: .default)
            arrays.append("$\(column + 1)::\(first[column].postgresType)[]")
        }
        let sql =
            "INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ",") + ") SELECT * FROM unnest("
            + arrays.joined(separator: ",") + ")"
        _ = try await query(PostgresQuery(unsafeSQL: sql, binds: binds), on: postgres)
    }
}

/// A one-dimensional PostgreSQL array of one kind of `BulkValue`, NULLs included, in the binary
/// format `array_recv` reads (PostgresNIO's own arrays have no NULL elements).
struct BulkArray: PostgresDynamicTypeEncodable {
    let values: [BulkValue]
    let kind: BulkValue

    init(_ values: [BulkValue], of kind: BulkValue) {
        self.values = values
        self.kind = kind
    }

    var psqlType: PostgresDataType {
        switch kind {
        case .text: .textArray
        case .id: .uuidArray
        case .bool: .boolArray
        case .int: .int8Array
        case .date: .timestamptzArray
        }
    }

    var psqlFormat: PostgresFormat { .binary }

    private var elementType: PostgresDataType {
        switch kind {
        case .text: .text
        case .id: .uuid
        case .bool: .bool
        case .int: .int8
        case .date: .timestamptz
        }
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(Int32(1))  // dimensions
        buffer.writeInteger(Int32(values.contains(where: \.isNull) ? 1 : 0))
        buffer.writeInteger(Int32(bitPattern: elementType.rawValue))
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))  // lower bound
        for value in values {
            assert(value.postgresType == kind.postgresType, "a bulk column mixes kinds of values")
            guard !value.isNull else {
                buffer.writeInteger(Int32(-1))
                continue
            }
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            switch value {
            case .text(let text): text!.encode(into: &buffer, context: context)
            case .id(let id): id!.encode(into: &buffer, context: context)
            case .bool(let flag): flag.encode(into: &buffer, context: context)
            case .int(let number): Int64(number).encode(into: &buffer, context: context)
            case .date(let date): date!.encode(into: &buffer, context: context)
            }
            buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt)
        }
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

    /// A nil value, sent as SQL NULL.
    var isNull: Bool {
        switch self {
        case .text(let text): text == nil
        case .id(let id): id == nil
        case .date(let date): date == nil
        case .bool, .int: false
        }
    }
}

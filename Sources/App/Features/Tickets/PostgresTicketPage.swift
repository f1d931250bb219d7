import Foundation
import PostgresKit
import SQLKit
import TandemCore

/// A page of tickets read straight from PostgreSQL rows: the `SQLiteTicketPage` of PostgreSQL.
///
/// The same query and answer as the general path of `TicketService.list`. SQLKit's rows decode
/// every cell through `PostgresDataTranslation` (Codable, with generic metadata lookups), which
/// was about a third of the page's CPU; here each row's values are read from the bytes PostgreSQL
/// sent (`PostgresTicketRow`), and the API's JSON is written from those bytes.
enum PostgresTicketPage {
    /// The page, or nil when the query has a bind this path does not send (the caller goes the general way).
    static func read(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, postgres: any PostgresDatabase) async throws -> ListPage<TicketDTO>? {
        guard let rows = try await rows(select, sql: sql, postgres: postgres) else { return nil }
        var row = PostgresTicketRow()
        let page = try rows.prefix(limit).map { try row.load($0); return try TicketDTO(row) }
        return .tickets(page, more: rows.count > limit)
    }

    /// The page as `ListPage<TicketDTO>` writes it, written from the rows' bytes: no DTO and no
    /// string per value. Nil as for `read`.
    static func json(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, postgres: any PostgresDatabase) async throws -> JSONWriter? {
        guard let rows = try await rows(select, sql: sql, postgres: postgres) else { return nil }
        var row = PostgresTicketRow()
        var json = JSONWriter(capacity: 1024 * (min(rows.count, limit) + 1))
        var last = 0
        try json.page(rows.prefix(limit), nextCursor: { rows.count > limit ? ListPage<TicketDTO>.ticketCursor(after: last) : nil }) { json, item in
            try row.load(item)
            try row.write(to: &json)
            last = try row.int(.number)
        }
        return json
    }

    /// The page's rows (up to `limit + 1`, as the query asks), each ticket's assignees with it
    /// (`tickets.assignee_ids`, which the triggers of `TicketAssigneeIds` keep).
    private static func rows(_ select: SQLSelectBuilder, sql: any SQLDatabase, postgres: any PostgresDatabase) async throws -> [PostgresRow]? {
        // A copy of the caller's query: the general path it falls back to stays as it was.
        var query = select.select
        query.columns = [SQLRaw(PostgresTicketRow.selectList)]
        var serializer = SQLSerializer(database: sql)
        query.serialize(to: &serializer)
        guard let binds = PostgresDirect.bindings(serializer.binds) else { return nil }
        return try await PostgresDirect.query(PostgresQuery(unsafeSQL: serializer.sql, binds: binds), on: postgres)
    }
}

/// One ticket as the page query sends it: a single composite value (`ROW(…)`) holding
/// `Ticket.sqlColumns` and the assignee array, read from PostgreSQL's binary format (UUIDs as 16
/// bytes, integers and timestamps as big-endian 64-bit). One cell per ticket instead of nineteen:
/// each cell PostgresNIO hands out costs a handful of reference counts and copies, which were most
/// of reading a page. `load` reuses the storage, so a page costs one offset array however long.
struct PostgresTicketRow {
    /// The composite's fields, in `Ticket.sqlColumns` order and then the assignees.
    enum Column: Int, CaseIterable {
        case id, number, title, description, organizationId, siteId, contactId, queueId, teamId, status, priority,
             source, coManagedVisible, dueAt, version, createdById, createdAt, updatedAt, assigneeIds

        var type: PostgresDataType {
            switch self {
            case .id, .organizationId, .siteId, .contactId, .queueId, .teamId, .createdById: .uuid
            case .number, .version: .int8
            case .title, .description, .status, .priority, .source: .text
            case .coManagedVisible: .bool
            case .dueAt, .createdAt, .updatedAt: .timestamptz
            case .assigneeIds: .uuidArray
            }
        }
    }

    /// The select list that sends a ticket as this type reads it.
    static let selectList = "ROW(\(Ticket.qualifiedColumns), \"tickets\".\"assignee_ids\") AS ticket"

    /// A value that is not what its column holds (a schema out of step with `Column`).
    struct UnexpectedValue: Error, CustomStringConvertible {
        let column: Column?
        var description: String { "ticket row: unexpected value in column \(column.map { "\($0)" } ?? "beyond the last")" }
    }

    private var record = ByteBuffer()
    /// Where each field's bytes start in `record`, and how many there are (-1 for NULL).
    private var fields = [(start: Int, length: Int)](repeating: (0, -1), count: Column.allCases.count)

    /// Reads `row`'s one composite cell: a field count, then per field its type, length and bytes.
    mutating func load(_ row: PostgresRow) throws {
        guard let cell = row.first, row.count == 1, cell.dataType == .record, cell.format == .binary, let bytes = cell.bytes else {
            throw UnexpectedValue(column: nil)
        }
        record = bytes
        var offset = record.readerIndex
        func int32() throws -> Int {
            guard let value = record.getInteger(at: offset, as: Int32.self) else { throw UnexpectedValue(column: nil) }
            offset += 4
            return Int(value)
        }
        guard try int32() == fields.count else { throw UnexpectedValue(column: nil) }
        for column in Column.allCases {
            let type = try int32(), length = try int32()
            guard UInt32(truncatingIfNeeded: type) == column.type.rawValue, length <= record.writerIndex - offset else {
                throw UnexpectedValue(column: column)
            }
            fields[column.rawValue] = (offset, length)
            offset += max(length, 0)
        }
    }

    /// The bytes of a non-NULL value of `column`, which must be `length` long when given.
    private func bytes<Result>(_ column: Column, length: Int? = nil, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        let field = fields[column.rawValue]
        guard field.length >= 0, length.map({ $0 == field.length }) ?? true else { throw UnexpectedValue(column: column) }
        return try record.withUnsafeReadableBytes { raw in
            let start = field.start - record.readerIndex
            return try body(UnsafeRawBufferPointer(rebasing: raw[start..<(start + field.length)]))
        }
    }

    private func isNull(_ column: Column) -> Bool {
        fields[column.rawValue].length < 0
    }

    private func int64(_ column: Column) throws -> Int64 {
        try bytes(column, length: 8) { Int64(bigEndian: $0.loadUnaligned(as: Int64.self)) }
    }

    func int(_ column: Column) throws -> Int {
        Int(try int64(column))
    }

    func bool(_ column: Column) throws -> Bool {
        try bytes(column, length: 1) { $0[0] != 0 }
    }

    func text(_ column: Column) throws -> String {
        try bytes(column) { String(decoding: $0, as: UTF8.self) }
    }

    /// A timestamp as PostgresNIO decodes it (microseconds since 2000 as a Double interval), so
    /// both ways of reading a ticket give the same `Date`.
    func date(_ column: Column) throws -> Date? {
        guard !isNull(column) else { return nil }
        return Date(timeInterval: Double(try int64(column)) / 1_000_000, since: Self.postgresEpoch)
    }

    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    /// A UUID column's `UUID.text`, nil for NULL.
    func uuidText(_ column: Column) throws -> String? {
        guard !isNull(column) else { return nil }
        return try requiredUUIDText(column)
    }

    /// A NOT NULL UUID column's `UUID.text`.
    func requiredUUIDText(_ column: Column) throws -> String {
        try bytes(column, length: 16, UUID.text(of:))
    }

    /// Calls `body` with the 16 bytes of each element of the one-dimensional `uuid[]` in `column`.
    func forEachUUID(in column: Column, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes(column) { raw in
            // Header: dimensions, has-NULL flag, element type; then per dimension its size and lower bound.
            func int32(at offset: Int) throws -> Int {
                guard offset + 4 <= raw.count else { throw UnexpectedValue(column: column) }
                return Int(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            }
            let dimensions = try int32(at: 0)
            guard dimensions != 0 else { return }
            guard dimensions == 1 else { throw UnexpectedValue(column: column) }
            var offset = 20
            for _ in 0..<(try int32(at: 12)) {
                guard try int32(at: offset) == 16, offset + 20 <= raw.count else { throw UnexpectedValue(column: column) }
                try body(UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 20)]))
                offset += 20
            }
        }
    }

    /// The ticket as `TicketDTO.write` writes it; keep the members in step with it.
    func write(to json: inout JSONWriter) throws {
        func uuid(_ name: StaticString, _ column: Column) throws {
            guard !isNull(column) else { return }
            json.key(name)
            try bytes(column, length: 16) { json.uuid($0) }
        }
        func text(_ name: StaticString, _ column: Column) throws {
            json.key(name)
            try bytes(column) { json.string(utf8: $0) }
        }
        json.beginObject()
        json.key("assigneeIds")
        json.beginArray()
        try forEachUUID(in: .assigneeIds) { bytes in
            json.element()
            json.uuid(bytes)
        }
        json.endArray()
        json.member("coManagedVisible", try bool(.coManagedVisible))
        try uuid("contactId", .contactId)
        json.member("createdAt", try date(.createdAt))
        try text("description", .description)
        json.member("dueAt", try date(.dueAt))
        try uuid("id", .id)
        json.member("number", try int(.number))
        try uuid("organizationId", .organizationId)
        try text("priority", .priority)
        try uuid("queueId", .queueId)
        try uuid("siteId", .siteId)
        try text("source", .source)
        try text("status", .status)
        try uuid("teamId", .teamId)
        try text("title", .title)
        json.member("updatedAt", try date(.updatedAt))
        json.member("version", try int(.version))
        json.endObject()
    }
}

extension TicketDTO {
    init(_ row: PostgresTicketRow) throws {
        id = try row.requiredUUIDText(.id)
        number = try row.int(.number)
        title = try row.text(.title)
        description = try row.text(.description)
        organizationId = try row.requiredUUIDText(.organizationId)
        siteId = try row.uuidText(.siteId)
        contactId = try row.uuidText(.contactId)
        queueId = try row.uuidText(.queueId)
        teamId = try row.uuidText(.teamId)
        status = try row.text(.status)
        priority = try row.text(.priority)
        source = try row.text(.source)
        var assignees: [String] = []
        try row.forEachUUID(in: .assigneeIds) { assignees.append(UUID.text(of: $0)) }
        assigneeIds = assignees
        coManagedVisible = try row.bool(.coManagedVisible)
        dueAt = try row.date(.dueAt)
        version = try row.int(.version)
        createdAt = try row.date(.createdAt)
        updatedAt = try row.date(.updatedAt)
    }
}

import Foundation
import PostgresKit
import SQLKit
import TandemCore

/// The ticket page's JSON written from PostgreSQL's rows' bytes.
///
/// SQLKit's rows decode every cell through `PostgresDataTranslation` (Codable, with generic
/// metadata lookups), which was about a third of the page's CPU; here each row's values are read
/// from the bytes PostgreSQL sent (`PostgresTicketRow`) and written as JSON from them. PostgreSQL
/// writing the JSON itself (`json_build_object`) served 42 % fewer pages (docs/performance.md).
enum PostgresTicketPage {
    /// The page as `ListPage<TicketDTO>` writes it, written from the rows' bytes: no DTO and no
    /// string per value.
    static func json(_ query: TicketPageQuery, fields: Set<TicketField>?, sql: any SQLDatabase, postgres: any PostgresDatabase) async throws -> JSONWriter {
        var serializer = SQLSerializer(database: sql)
        // Each ticket with its assignees (`tickets.assignee_ids`, which the triggers of `TicketAssigneeIds` keep).
        try query.select(PostgresTicketRow.selectList).select.serialize(to: &serializer)
        guard let binds = PostgresDirect.bindings(serializer.binds) else {
            throw TandemError.conflict("the ticket page has a bind PostgresDirect does not send")
        }
        let rows = try await PostgresDirect.query(PostgresQuery(unsafeSQL: serializer.sql, binds: binds), on: postgres)
        var row = PostgresTicketRow()
        var json = JSONWriter(capacity: 1024 * (min(rows.count, query.limit) + 1))
        var last = 0
        try json.page(rows.prefix(query.limit), nextCursor: { rows.count > query.limit ? ListPage<TicketDTO>.ticketCursor(after: last) : nil }) { json, item in
            try row.load(item)
            try row.write(to: &json, showing: fields)
            last = try row.int(PostgresTicketRow.number)
        }
        return json
    }
}

/// One ticket as the page query sends it: a single composite value (`ROW(…)`) holding
/// `Ticket.columns` and then the assignee array, read from PostgreSQL's binary format (UUIDs as 16
/// bytes, integers and timestamps as big-endian 64-bit). One cell per ticket instead of nineteen:
/// each cell PostgresNIO hands out costs a handful of reference counts and copies, which were most
/// of reading a page. `load` reuses the storage, so a page costs one offset array however long.
/// Fields are numbered as `Ticket.columns`; the assignees come last.
struct PostgresTicketRow {
    static let assignees = Ticket.columns.count
    static let number = Ticket.sqlColumns.firstIndex(of: "number")!

    /// The select list that sends a ticket as this type reads it.
    static let selectList = "ROW(\(Ticket.qualifiedColumns), \"tickets\".\"assignee_ids\") AS ticket"

    /// A value that is not what its column holds (a schema out of step with `Ticket.columns`).
    struct UnexpectedValue: Error, CustomStringConvertible {
        let column: Int?
        var description: String {
            "ticket row: unexpected value in column \(column.map { $0 < Ticket.columns.count ? Ticket.columns[$0].name : "assignee_ids" } ?? "beyond the last")"
        }
    }

    private static func type(_ field: Int) -> PostgresDataType {
        field == assignees ? .uuidArray : Ticket.columns[field].kind.postgresDataType
    }

    private var record = ByteBuffer()
    /// Where each field's bytes start in `record`, and how many there are (-1 for NULL).
    private var fields = [(start: Int, length: Int)](repeating: (0, -1), count: Ticket.columns.count + 1)

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
        for field in fields.indices {
            let type = try int32(), length = try int32()
            guard UInt32(truncatingIfNeeded: type) == Self.type(field).rawValue, length <= record.writerIndex - offset else {
                throw UnexpectedValue(column: field)
            }
            fields[field] = (offset, length)
            offset += max(length, 0)
        }
    }

    /// The bytes of a non-NULL value of `column`, which must be `length` long when given.
    private func bytes<Result>(_ column: Int, length: Int? = nil, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        let field = fields[column]
        guard field.length >= 0, length.map({ $0 == field.length }) ?? true else { throw UnexpectedValue(column: column) }
        return try record.withUnsafeReadableBytes { raw in
            let start = field.start - record.readerIndex
            return try body(UnsafeRawBufferPointer(rebasing: raw[start..<(start + field.length)]))
        }
    }

    private func isNull(_ column: Int) -> Bool {
        fields[column].length < 0
    }

    private func int64(_ column: Int) throws -> Int64 {
        try bytes(column, length: 8) { Int64(bigEndian: $0.loadUnaligned(as: Int64.self)) }
    }

    func int(_ column: Int) throws -> Int {
        Int(try int64(column))
    }

    func bool(_ column: Int) throws -> Bool {
        try bytes(column, length: 1) { $0[0] != 0 }
    }

    /// A timestamp as PostgresNIO decodes it (microseconds since 2000 as a Double interval), so
    /// both ways of reading a ticket give the same `Date`.
    func date(_ column: Int) throws -> Date? {
        guard !isNull(column) else { return nil }
        return Date(timeInterval: Double(try int64(column)) / 1_000_000, since: Self.postgresEpoch)
    }

    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    /// Calls `body` with the 16 bytes of each assignee (the one-dimensional `uuid[]` after the columns).
    func forEachAssignee(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let column = Self.assignees
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

    /// The ticket as `TicketDTO.write` writes it, member by member (`TicketJSONMember.sorted`).
    func write(to json: inout JSONWriter, showing fields: Set<TicketField>?) throws {
        json.beginObject()
        for member in TicketJSONMember.sorted where fields?.contains(member.field) ?? true {
            switch member {
            case .assignees:
                json.key(TicketJSONMember.assigneesKey)
                json.beginArray()
                try forEachAssignee { bytes in
                    json.element()
                    json.uuid(bytes)
                }
                json.endArray()
            case .reference: json.member(TicketJSONMember.referenceKey, TicketReference.string(number: try int(TicketJSONMember.numberIndex)))
            case .column(let index, let column):
                let key = column.key!
                switch column.kind {
                case .id, .optionalId:
                    guard !isNull(index) else { continue }
                    json.key(key)
                    try bytes(index, length: 16) { json.uuid($0) }
                case .text:
                    json.key(key)
                    try bytes(index) { json.string(utf8: $0) }
                case .int: json.member(key, try int(index))
                case .bool: json.member(key, try bool(index))
                case .optionalDate: json.member(key, try date(index))
                }
            }
        }
        json.endObject()
    }
}

import Foundation
import SQLKit
import SQLiteKit
import TandemCore

/// A page of tickets read straight from SQLite rows into `TicketDTO`s.
///
/// The query of `TicketService.list`, answered without
/// `SQLRow.decode`'s Codable round trip per column (generic metadata lookups, and UUIDs parsed
/// with `sscanf` from the TEXT SQLite keeps them in, then formatted again with `snprintf`):
/// that was about a fifth of a page's CPU. Ids stored in canonical form are passed through.
enum SQLiteTicketPage {
    static func read(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, sqlite: any SQLiteDatabase, readers: SQLiteReaders?) async throws
        -> ListPage<TicketDTO>
    {
        if let readers {
            let (text, binds) = try serialize(select.select, sql: sql)
            // Both statements in one job on one read connection.
            return try await readers.read { connection in
                var tickets: [TicketDTO] = []
                var more = false
                try connection.query(text, binds) { row in
                    guard tickets.count < limit else { more = true; return }
                    tickets.append(try TicketDTO(row: row))
                }
                var page = Page(tickets)
                if let assignees = page.assigneesQuery { try connection.query(assignees.sql, assignees.binds) { try page.add(assignee: $0) } }
                return .tickets(page.tickets, more: more)
            }
        }
        let rows = try await query(select.select, sql: sql, sqlite: sqlite)
        var page = Page(try rows.prefix(limit).map { try TicketDTO(row: $0) })
        if let assignees = page.assigneesQuery {
            for row in try await sqlite.query(assignees.sql, assignees.binds) { try page.add(assignee: row) }
        }
        return .tickets(page.tickets, more: rows.count > limit)
    }

    /// A page's tickets, their assignees added from rows of `assigneesSQL` (in position order).
    private struct Page {
        private(set) var tickets: [TicketDTO]
        private let positions: [String: Int]

        init(_ tickets: [TicketDTO]) {
            self.tickets = tickets
            positions = Dictionary(tickets.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        }

        /// The assignees' statement and binds, or nil for an empty page.
        var assigneesQuery: (sql: String, binds: [SQLiteData])? {
            tickets.isEmpty ? nil : (assigneesSQL(count: tickets.count), tickets.map { .text($0.id) })
        }

        mutating func add(assignee row: some SQLiteColumns) throws {
            if let position = positions[try SQLiteDirect.id(row, "ticket_id")] {
                tickets[position].assigneeIds.append(try SQLiteDirect.id(row, "principal_id"))
            }
        }
    }

    /// The assignees of `count` tickets (binds: their ids), in order.
    static func assigneesSQL(count: Int) -> String {
        "SELECT ticket_id, principal_id FROM ticket_assignees WHERE ticket_id IN (" + (1...count).map { "?\($0)" }.joined(separator: ", ")
            + ") ORDER BY position"
    }

    /// Runs a SQLKit query on the SQLite connection directly, binds encoded as SQLiteKit encodes them.
    static func query(_ expression: any SQLExpression, sql: any SQLDatabase, sqlite: any SQLiteDatabase) async throws -> [SQLiteRow] {
        let (text, binds) = try serialize(expression, sql: sql)
        return try await sqlite.query(text, binds)
    }

    /// A SQLKit query's SQL and its binds as SQLiteKit encodes them.
    static func serialize(_ expression: any SQLExpression, sql: any SQLDatabase) throws -> (String, [SQLiteData]) {
        var serializer = SQLSerializer(database: sql)
        expression.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        return (serializer.sql, try serializer.binds.map { try encoder.encode($0) })
    }
}

extension TicketDTO {
    /// A ticket from a SQLite row with `Ticket.sqlColumns`; its assignees are added afterwards.
    init(row: some SQLiteColumns) throws {
        try self.init(reading: SQLiteTicketColumns(row: row))
    }
}

/// A SQLite row's ticket columns, by name.
struct SQLiteTicketColumns<Row: SQLiteColumns>: TicketColumnReader {
    typealias Read = SQLiteDirect
    let row: Row

    func id(_ index: Int, _ name: String) throws -> String { try Read.id(row, name) }
    func optionalId(_ index: Int, _ name: String) throws -> String? { try Read.optionalId(row, name) }
    func text(_ index: Int, _ name: String) throws -> String { try Read.text(row, name) }
    func int(_ index: Int, _ name: String) throws -> Int { try Read.int(row, name) }
    func bool(_ index: Int, _ name: String) throws -> Bool { try Read.bool(row, name) }
    func date(_ index: Int, _ name: String) throws -> Date? { try Read.date(row, name) }
}

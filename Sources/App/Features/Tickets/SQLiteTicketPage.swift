import Foundation
import SQLiteKit
import SQLKit
import TandemCore

/// A page of tickets read straight from SQLite rows into `TicketDTO`s.
///
/// The same query and the same answer as the general path of `TicketService.list`, without
/// `SQLRow.decode`'s Codable round trip per column (generic metadata lookups, and UUIDs parsed
/// with `sscanf` from the TEXT SQLite keeps them in, then formatted again with `snprintf`):
/// that was about a fifth of a page's CPU. Ids stored in canonical form are passed through.
enum SQLiteTicketPage {
    static func read(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, sqlite: any SQLiteDatabase, readers: SQLiteReaders?) async throws -> ListPage<TicketDTO> {
        if let readers {
            let (text, binds) = try serialize(select.select, sql: sql)
            // Both statements in one job on one read connection.
            return try await readers.read { connection in
                var tickets: [TicketDTO] = []
                var more = false
                try connection.query(text, binds) { row in
                    guard tickets.count < limit else { more = true; return }
                    tickets.append(try TicketDTO(row: row, id: try SQLiteDirect.id(row, "id"), assignees: []))
                }
                if !tickets.isEmpty {
                    var positions: [String: Int] = [:]
                    for (position, ticket) in tickets.enumerated() { positions[ticket.id] = position }
                    try connection.query(assigneesSQL(count: tickets.count), tickets.map { .text($0.id) }) { row in
                        if let position = positions[try SQLiteDirect.id(row, "ticket_id")] {
                            tickets[position].assigneeIds.append(try SQLiteDirect.id(row, "principal_id"))
                        }
                    }
                }
                return .tickets(tickets, more: more)
            }
        }
        let rows = try await query(select.select, sql: sql, sqlite: sqlite)
        let page = rows.prefix(limit)
        let ids = try page.map { try SQLiteDirect.id($0, "id") }
        var assignees: [String: [String]] = [:]
        if !ids.isEmpty {
            for row in try await sqlite.query(assigneesSQL(count: ids.count), ids.map { .text($0) }) {
                assignees[try SQLiteDirect.id(row, "ticket_id"), default: []].append(try SQLiteDirect.id(row, "principal_id"))
            }
        }
        return .tickets(try zip(page, ids).map { row, id in try TicketDTO(row: row, id: id, assignees: assignees[id] ?? []) },
                        more: rows.count > limit)
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
    /// A ticket from a SQLite row with `Ticket.sqlColumns`.
    init(row: some SQLiteColumns, id: String, assignees: [String]) throws {
        typealias Read = SQLiteDirect
        self.id = id
        number = try Read.int(row, "number")
        title = try Read.text(row, "title")
        description = try Read.text(row, "description")
        organizationId = try Read.id(row, "organization_id")
        siteId = try Read.optionalId(row, "site_id")
        contactId = try Read.optionalId(row, "contact_id")
        queueId = try Read.optionalId(row, "queue_id")
        teamId = try Read.optionalId(row, "team_id")
        status = try Read.text(row, "status")
        priority = try Read.text(row, "priority")
        source = try Read.text(row, "source")
        assigneeIds = assignees
        coManagedVisible = try Read.bool(row, "co_managed_visible")
        dueAt = try Read.date(row, "due_at")
        version = try Read.int(row, "version")
        createdAt = try Read.date(row, "created_at")
        updatedAt = try Read.date(row, "updated_at")
    }
}

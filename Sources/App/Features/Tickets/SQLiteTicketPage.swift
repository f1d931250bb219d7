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
    static func read(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, sqlite: any SQLiteDatabase) async throws -> ListPage<TicketDTO> {
        let rows = try await query(select.select, sql: sql, sqlite: sqlite)
        let page = rows.prefix(limit)
        let ids = try page.map { try SQLiteDirect.id($0, "id") }
        var assignees: [String: [String]] = [:]
        if !ids.isEmpty {
            let placeholders = (1...ids.count).map { "?\($0)" }.joined(separator: ", ")
            for row in try await sqlite.query(
                "SELECT ticket_id, principal_id FROM ticket_assignees WHERE ticket_id IN (\(placeholders)) ORDER BY position",
                ids.map { .text($0) }) {
                assignees[try SQLiteDirect.id(row, "ticket_id"), default: []].append(try SQLiteDirect.id(row, "principal_id"))
            }
        }
        return .tickets(try zip(page, ids).map { row, id in try TicketDTO(row: row, id: id, assignees: assignees[id] ?? []) },
                        more: rows.count > limit)
    }

    /// Runs a SQLKit query on the SQLite connection directly, binds encoded as SQLiteKit encodes them.
    static func query(_ expression: any SQLExpression, sql: any SQLDatabase, sqlite: any SQLiteDatabase) async throws -> [SQLiteRow] {
        var serializer = SQLSerializer(database: sql)
        expression.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        return try await sqlite.query(serializer.sql, try serializer.binds.map { try encoder.encode($0) })
    }
}

extension TicketDTO {
    /// A ticket from a SQLite row with `Ticket.sqlColumns`.
    init(row: SQLiteRow, id: String, assignees: [String]) throws {
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

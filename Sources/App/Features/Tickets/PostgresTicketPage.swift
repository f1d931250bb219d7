import Foundation
import PostgresKit
import SQLKit
import TandemCore

/// A page of tickets read straight from PostgreSQL rows into `TicketDTO`s: the `SQLiteTicketPage`
/// of PostgreSQL.
///
/// The same query and answer as the general path of `TicketService.list`. SQLKit's rows decode
/// every cell through `PostgresDataTranslation` (Codable, with generic metadata lookups), which
/// was about a third of the page's CPU; here each cell is decoded as its concrete type.
enum PostgresTicketPage {
    /// The page, or nil when the query has a bind this path does not send (the caller goes the general way).
    /// The page's assignees come in the same statement, one array per ticket (an index probe per row
    /// of the page): one round trip for the page instead of two.
    static func read(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, postgres: any PostgresDatabase) async throws -> ListPage<TicketDTO>? {
        // A copy of the caller's query: the general path it falls back to stays as it was.
        var query = select.select
        query.columns.append(SQLRaw("ARRAY(SELECT principal_id FROM ticket_assignees WHERE ticket_id = tickets.id ORDER BY position) AS assignee_ids"))
        var serializer = SQLSerializer(database: sql)
        query.serialize(to: &serializer)
        guard let binds = PostgresDirect.bindings(serializer.binds) else { return nil }
        let rows = try await PostgresDirect.query(PostgresQuery(unsafeSQL: serializer.sql, binds: binds), on: postgres)
        let page = try rows.prefix(limit).map { row in
            let cells = row.makeRandomAccess()
            return try TicketDTO(cells: cells, id: try cells[0].decode(UUID.self),
                                 assignees: try cells[Ticket.sqlColumns.count].decode([UUID].self).map(\.text))
        }
        return .tickets(page, more: rows.count > limit)
    }
}

extension TicketDTO {
    /// A ticket from a PostgreSQL row with `Ticket.sqlColumns`, in that order.
    init(cells: PostgresRandomAccessRow, id: UUID, assignees: [String]) throws {
        self.id = id.text
        number = try cells[1].decode(Int.self)
        title = try cells[2].decode(String.self)
        description = try cells[3].decode(String.self)
        organizationId = try cells[4].decode(UUID.self).text
        siteId = try cells[5].decode(UUID?.self)?.text
        contactId = try cells[6].decode(UUID?.self)?.text
        queueId = try cells[7].decode(UUID?.self)?.text
        teamId = try cells[8].decode(UUID?.self)?.text
        status = try cells[9].decode(String.self)
        priority = try cells[10].decode(String.self)
        source = try cells[11].decode(String.self)
        assigneeIds = assignees
        coManagedVisible = try cells[12].decode(Bool.self)
        dueAt = try cells[13].decode(Date?.self)
        version = try cells[14].decode(Int.self)
        createdAt = try cells[16].decode(Date?.self)
        updatedAt = try cells[17].decode(Date?.self)
    }
}

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
    static func read(_ select: SQLSelectBuilder, limit: Int, sql: any SQLDatabase, postgres: any PostgresDatabase) async throws -> ListPage<TicketDTO>? {
        var serializer = SQLSerializer(database: sql)
        select.select.serialize(to: &serializer)
        guard let binds = PostgresDirect.bindings(serializer.binds) else { return nil }
        let rows = try await PostgresDirect.query(PostgresQuery(unsafeSQL: serializer.sql, binds: binds), on: postgres)
        let page = rows.prefix(limit).map { $0.makeRandomAccess() }
        let ids = try page.map { try $0[0].decode(UUID.self) }
        var assignees: [UUID: [String]] = [:]
        if !ids.isEmpty {
            var binds = PostgresBindings()
            binds.append(ids, context: .default)
            let query = PostgresQuery(unsafeSQL: "SELECT ticket_id, principal_id FROM ticket_assignees WHERE ticket_id = ANY($1) ORDER BY position", binds: binds)
            for row in try await PostgresDirect.query(query, on: postgres) {
                let cells = row.makeRandomAccess()
                assignees[try cells[0].decode(UUID.self), default: []].append(try cells[1].decode(UUID.self).text)
            }
        }
        return .tickets(try zip(page, ids).map { cells, id in try TicketDTO(cells: cells, id: id, assignees: assignees[id] ?? []) },
                        more: rows.count > limit)
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

import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// Ticket reads and writes under the access policy. Handlers and pages call these with a database
/// and a principal; nothing here decides visibility on its own.
enum TicketService {
    static let what = "ticket"

    // MARK: Reads

    /// One page of the tickets the principal can see, newest first, filtered in SQL, as DTOs (the pages).
    static func list(_ filter: TicketFilter, page: PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<TicketDTO> {
        try await checkCursor(filter, page: page, by: principal, on: db)
        let columns = Ticket.qualifiedColumns + ", CAST(\(db.ticketStore.assigneesJSON) AS TEXT) AS assignee_ids"
        let rows = try await pageQuery(filter, page: page, by: principal, on: db).select(columns).all()
        let tickets = try rows.prefix(page.limit).map { row in
            var ticket = try TicketDTO(row: row)
            ticket.assigneeIds = try JSONDecoder().decode([String].self, from: Data(try row.decode(column: "assignee_ids", as: String.self).utf8))
            return ticket
        }
        return .tickets(tickets, more: rows.count > page.limit)
    }

    /// `list`'s page as the API's JSON with the fields the principal is shown
    /// (`AccessPolicy.visibleTicketFields`): the busiest read there is, written the database's
    /// fastest way (`TicketStore.pageJSON`).
    static func listJSON(_ filter: TicketFilter, page: PageRequest, by principal: Principal, on db: any Database) async throws -> JSONWriter {
        try await checkCursor(filter, page: page, by: principal, on: db)
        return try await db.ticketStore.pageJSON(pageQuery(filter, page: page, by: principal, on: db), fields: TicketField.shown(to: principal), on: db)
    }

    /// The query of a page of `list`: the tickets `principal` can see under `filter`, newest first,
    /// one more than the page holds (to tell whether another page follows), with any select list.
    private static func pageQuery(_ filter: TicketFilter, page: PageRequest, by principal: Principal, on db: any Database) -> TicketPageQuery {
        TicketPageQuery(limit: page.limit) { columns in
            var select = db.sql.select().column(SQLRaw(columns)).from(Ticket.schema)
            for predicate in predicates(filter, by: principal, search: db.stores.textSearch) { select = select.where(predicate) }
            let terms = filter.sort.terms(Ticket.schema)
            if let after = page.after {
                guard let number = Int(after) else { throw TandemError.invalid("cursor", "is not a cursor this server issued") }
                select = select.where(keyset(filter.sort, after: number))
            }
            for term in terms { select = select.orderBy(SQLRaw(term.sql), term.descending ? SQLDirection.descending : .ascending) }
            return select.limit(page.limit + 1)
        }
    }

    /// The tickets after the one numbered `number` in `sort`'s order. The default order needs only
    /// the number; another compares its terms with the cursor ticket's, read in a subquery.
    private static func keyset(_ sort: TicketSort, after number: Int) -> any SQLExpression {
        if sort == .default { return SQLBinaryExpression(SQLColumn("number", table: Ticket.schema), .lessThan, SQLBind(number)) }
        let cursorTable = "cursor_ticket"
        let terms = Array(zip(sort.terms(Ticket.schema), sort.terms(cursorTable)))
        var alternatives: [SQLQueryString] = []
        for index in terms.indices {
            var parts: [SQLQueryString] = []
            for (offset, (mine, its)) in terms[...index].enumerated() {
                let cursorValue: SQLQueryString =
                    "(SELECT \(unsafeRaw: its.sql) FROM \(ident: Ticket.schema) AS \(ident: cursorTable) WHERE \(ident: cursorTable).\(ident: "number") = \(bind: number))"
                let op = offset < index ? "=" : (mine.descending ? "<" : ">")
                parts.append("\(unsafeRaw: mine.sql) \(unsafeRaw: op) \(cursorValue)")
            }
            alternatives.append("(" + parts.joined(separator: " AND ") + ")")
        }
        return "(" + alternatives.joined(separator: " OR ") + ")" as SQLQueryString
    }

    /// A cursor of an order other than the default must name a ticket the principal sees: its
    /// values place the next page, and they must neither come from a hidden ticket nor from none.
    private static func checkCursor(_ filter: TicketFilter, page: PageRequest, by principal: Principal, on db: any Database) async throws {
        guard filter.sort != .default, let after = page.after else { return }
        guard let number = Int(after) else { throw TandemError.invalid("cursor", "is not a cursor this server issued") }
        var query = Ticket.query(on: db).filter(\.$number == number)
        let scope = AccessPolicy.ticketScope(for: principal)
        if scope != .all { query = query.filter(.sql(scope.sql(for: Ticket.scopeTable))) }
        guard try await query.count() > 0 else { throw TandemError.invalid("cursor", "points at a ticket that is gone; start again from the first page") }
    }

    /// How many tickets of each status the principal sees under `filter` (its statuses aside): the
    /// list's scope and filters, one query.
    static func countsByStatus(_ filter: TicketFilter, by principal: Principal, on db: any Database) async throws -> [TicketStatus: Int] {
        var filter = filter
        filter.statuses = []
        var select = db.sql.select().column(SQLColumn("status", table: Ticket.schema)).column(
            SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: SQLIdentifier("n"))
        )
        .from(Ticket.schema)
        for predicate in predicates(filter, by: principal, search: db.stores.textSearch) { select = select.where(predicate) }
        var counts: [TicketStatus: Int] = [:]
        for row in try await select.groupBy(SQLColumn("status", table: Ticket.schema)).all() {
            guard let status = TicketStatus(rawValue: try row.decode(column: "status", as: String.self)) else { continue }
            counts[status] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    static func count(_ filter: TicketFilter, by principal: Principal, on db: any Database) async throws -> Int {
        var query = Ticket.query(on: db)
        for predicate in predicates(filter, by: principal, search: db.stores.textSearch) { query = query.filter(.sql(predicate)) }
        return try await query.count()
    }

    /// The WHERE terms for the tickets `principal` can see under `filter`; `list` and `count` share them.
    private static func predicates(_ filter: TicketFilter, by principal: Principal, search: any TextSearch) -> [any SQLExpression] {
        var predicates: [any SQLExpression] = []
        let scope = Scope.allOf([AccessPolicy.ticketScope(for: principal), filter.scope])
        if scope != .all { predicates.append(scope.sql(for: Ticket.scopeTable)) }
        if !filter.statuses.isEmpty {
            predicates.append(
                SQLBinaryExpression(
                    SQLColumn("status", table: Ticket.schema), .in, SQLGroupExpression(filter.statuses.map { SQLBind($0.rawValue) })))
        }
        if let side = filter.responsibleSide {
            predicates.append(SQLBinaryExpression(SQLColumn("responsible_side", table: Ticket.schema), .equal, SQLBind(side.rawValue)))
        }
        if let text = filter.text {
            // Full text: the words of the title, the description and the notes the principal may read. Text
            // without a word (punctuation only) finds nothing.
            predicates.append(
                SearchQuery(text).map { search.ticketMatch($0, audiences: AccessPolicy.searchableNoteAudiences(for: principal)) } ?? SQLRaw("1 = 0"))
        }
        return predicates
    }

    /// The ticket if the principal can see it; otherwise 404.
    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> Ticket {
        try await Lookup.visible(Ticket.self, id, scope: AccessPolicy.ticketScope(for: principal), table: Ticket.scopeTable, what: what, on: db)
    }

    /// Refuses work on a ticket the principal sees (`visible`) but may not change (a read-only team member, a level
    /// that views tickets only): 403.
    static func requireWorkable(_ ticket: Ticket, by principal: Principal, on db: any Database) async throws {
        let id = try ticket.requireID()
        let facts = Self.facts(ticket, assignees: try await assigneeIds(of: [id], on: db)[id] ?? [])
        guard AccessPolicy.ticketScope(for: principal, .edit).evaluate(facts) else { throw TandemError.forbidden(readOnlyRefusal) }
    }

    static let readOnlyRefusal = "you can see this ticket but your security level or team access does not let you change it"

    static func get(_ id: UUID, by principal: Principal, on db: any Database) async throws -> TicketDTO {
        let ticket = try await visible(id, by: principal, on: db)
        return TicketDTO(ticket, assignees: try await assigneeIds(of: [id], on: db)[id] ?? [])
    }

    static func assigneeIds(of tickets: [UUID], on db: any Database) async throws -> [UUID: [UUID]] {
        guard !tickets.isEmpty else { return [:] }
        var assignees: [UUID: [UUID]] = [:]
        for row in try await db.sql.select().columns("ticket_id", "principal_id").from(TicketAssignee.schema)
            .where("ticket_id", .in, tickets).orderBy("position").all()
        {
            assignees[try row.decode(column: "ticket_id", as: UUID.self), default: []].append(try row.decode(column: "principal_id", as: UUID.self))
        }
        return assignees
    }

    /// The facts the policy evaluates for one ticket.
    static func facts(_ ticket: Ticket, assignees: [UUID]) -> ScopeFacts {
        ScopeFacts(
            values: [
                .id: ticket.id, .organization: ticket.organizationId, .site: ticket.siteId, .queue: ticket.queueId,
                .team: ticket.teamId, .contact: ticket.contactId,
            ],
            assigneeIds: Set(assignees), coManagedVisible: ticket.coManagedVisible)
    }

    static func etagMatches(_ header: String, _ ticket: Ticket) -> Bool {
        header == "*"
            || header.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == ticket.etag }
    }
}

extension ListPage<TicketDTO> {
    /// A page of tickets, newest first; with more after it, the cursor is its last ticket's number.
    static func tickets(_ items: [TicketDTO], more: Bool) -> Self {
        ListPage(items: items, nextCursor: more ? items.last.map { ticketCursor(after: $0.number) } : nil)
    }

    /// The cursor of the page after the ticket numbered `number`.
    static func ticketCursor(after number: Int) -> String {
        PageRequest.cursor(String(number))
    }
}

import Fluent
import Foundation
import SQLKit
import SQLiteKit
import TandemCore

/// Tickets on SQLite. A write transaction (BEGIN IMMEDIATE) already holds the whole database, so
/// nothing is locked row by row; numbers come from a counter row under that lock. The page's JSON
/// is written by SQLite itself (`json_object`), read on a read connection of its own.
struct SQLiteTicketStore: TicketStore {
    /// A JSON array of the ticket's assignee ids (stored as `uuidString` writes them), in position order.
    let assigneesJSON = """
        json((SELECT json_group_array(principal_id ORDER BY position) FROM \(TicketAssignee.schema) \
        WHERE ticket_id = "\(Ticket.schema)"."id"))
        """

    func pageJSON(_ query: TicketPageQuery, fields: Set<TicketField>?, on db: any Database) async throws -> JSONWriter {
        var serializer = SQLSerializer(database: db.sql)
        try query.select("\"\(Ticket.schema)\".\"number\" AS number, \(ticketJSON(fields: fields)) AS ticket").select.serialize(to: &serializer)
        let (text, binds) = (serializer.sql, try serializer.binds.map { try SQLiteDataEncoder().encode($0) })
        let rows: [(number: Int, json: String)]
        if let readers = SQLiteDirect.readers(db) {
            // One hand-off, the statement prepared once.
            rows = try await readers.read { connection in
                var rows: [(number: Int, json: String)] = []
                try connection.query(text, binds) { rows.append(try Self.pageRow($0)) }
                return rows
            }
        } else {
            guard let sqlite = SQLiteDirect.database(db) else { throw TandemError.conflict("the SQLite ticket store runs on SQLite only") }
            rows = try await sqlite.query(text, binds).map(Self.pageRow)
        }
        let items = rows.prefix(query.limit)
        var json = JSONWriter(capacity: items.reduce(64) { $0 + $1.json.utf8.count + 1 })
        json.page(items, nextCursor: { rows.count > query.limit ? ListPage<TicketDTO>.ticketCursor(after: items.last!.number) : nil }) { json, row in
            json.raw(row.json)
        }
        return json
    }

    /// A row of the page query: the ticket's number (for the cursor) and its JSON.
    private static func pageRow(_ row: some SQLiteColumns) throws -> (number: Int, json: String) {
        (try SQLiteDirect.int(row, "number"), try SQLiteDirect.text(row, "ticket"))
    }

    /// One ticket's JSON object with the members `fields` holds (nil: all), as `JSONWriter` writes a
    /// `TicketDTO`: ids as stored, dates as `ISO8601.string` (whole seconds, rounded down as it
    /// does; strftime alone would round to the millisecond), nil members left out.
    func ticketJSON(fields: Set<TicketField>?) -> String {
        var members: [String] = []
        for member in TicketJSONMember.sorted where fields?.contains(member.field) ?? true {
            let value: String
            switch member {
            case .assignees: value = assigneesJSON
            case .reference: value = "printf('[#T-%06d]', \"\(Ticket.schema)\".\"number\")"
            case .column(_, let column):
                let name = "\"\(Ticket.schema)\".\"\(column.name)\""
                switch column.kind {
                case .optionalDate: value = "strftime('%Y-%m-%dT%H:%M:%SZ', CAST(\(name) AS INTEGER), 'unixepoch')"
                case .bool: value = "iif(\(name), json('true'), json('false'))"
                case .id, .optionalId, .text, .int: value = name
                }
            }
            members.append("'\(member.field.rawValue)', \(value)")
        }
        // A merge patch onto an empty object drops the members whose value is null.
        return "json_patch('{}', json_object(\(members.joined(separator: ", "))))"
    }

    func lock(_ tickets: TicketsToLock, on db: any Database) async throws {}

    func nextNumber(on db: any Database) async throws -> Int {
        guard let sqlite = SQLiteDirect.database(db), let row = try await sqlite.query(Self.allocateNumbers, [.int(1)]).first else {
            throw TandemError.conflict("could not allocate a ticket number")
        }
        return try SQLiteDirect.int(row, "value")
    }

    /// One event row (`EventLog.values`), prepared once on the group commit's connection.
    static let insertEvent = BulkValue.insertStatement(into: EventLog.schema, columns: EventLog.columns)

    /// Allocates `?1` ticket numbers (under the write lock) and answers the last: they are the `?1` numbers up to it.
    static let allocateNumbers = "UPDATE counters SET value = value + ?1 WHERE name = 'ticket_number' RETURNING value"

    /// `TicketService.creationBatch` on the group commit's connection: one counter UPDATE for the
    /// group's numbers, then each ticket's row (if its references hold; nil otherwise) and audit
    /// event, with statements prepared once.
    @Sendable static func create(_ items: [TicketService.NewTicket], _ connection: SQLiteDirectConnection) throws -> [TicketDTO?] {
        guard case .integer(let last) = try connection.execute(Self.allocateNumbers, [.integer(items.count)]).first else {
            throw TandemError.conflict("could not allocate a ticket number")
        }
        return try items.enumerated().map { offset, item in
            let number = last - items.count + 1 + offset
            // The audit and domain events are dated as the ticket is (`db.now`, the application's clock).
            let at = item.ticket.createdAt ?? Date()
            item.ticket.number = number
            // A refused ticket leaves a gap in the numbers, as a failed insert does on PostgreSQL's sequence.
            guard try !connection.execute(Ticket.insertIfReferencesHold, item.ticket.sqlValues.map(\.sqlite)).isEmpty else { return nil }
            let event = AuditEntry(
                action: "created", entityType: Ticket.schema, entityId: item.ticket.id, actor: item.principal,
                organizationId: item.ticket.organizationId, ticketId: item.ticket.id, before: nil,
                after: item.audit.head + String(number) + item.audit.tail)
            try connection.execute(Audit.insertOne, event.values(at: at).map(\.sqlite))
            let created = DomainEvent(.ticketCreated, entityId: item.ticket.id, ticket: item.ticket.eventFacts)
            try connection.execute(Self.insertEvent, EventLog.values(created, by: item.principal, at: at).map(\.sqlite))
            return TicketDTO(item.ticket, assignees: [])
        }
    }
}

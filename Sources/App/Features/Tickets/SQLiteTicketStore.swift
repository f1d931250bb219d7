import Fluent
import Foundation
import SQLKit
import SQLiteKit
import TandemCore

/// Tickets on SQLite. A write transaction (BEGIN IMMEDIATE) already holds the whole database, so
/// nothing is locked row by row; numbers come from a counter row under that lock.
struct SQLiteTicketStore: TicketStore {
    func readPage(_ select: SQLSelectBuilder, limit: Int, on db: any Database) async throws -> ListPage<TicketDTO> {
        guard let sqlite = db as? any SQLiteDatabase else { throw TandemError.conflict("the SQLite ticket store runs on SQLite only") }
        return try await SQLiteTicketPage.read(select, limit: limit, sql: db.sql, sqlite: sqlite, readers: SQLiteDirect.readers(db))
    }

    func pageJSON(_ select: SQLSelectBuilder, limit: Int, on db: any Database) async throws -> JSONWriter? { nil }

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
        let at = Date()
        return try items.enumerated().map { offset, item in
            let number = last - items.count + 1 + offset
            var values = item.values
            values[1] = .integer(number)
            // A refused ticket leaves a gap in the numbers, as a failed insert does on PostgreSQL's sequence.
            guard try !connection.execute(Ticket.insertIfReferencesHold, values).isEmpty else { return nil }
            item.ticket.number = number
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

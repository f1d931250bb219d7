import Fluent
import Foundation
import SQLKit
import SQLiteKit
import TandemCore

/// Tickets on SQLite. A write transaction (BEGIN IMMEDIATE) already holds the whole database, so
/// nothing is locked row by row; numbers come from a counter row under that lock.
struct SQLiteTicketStore: TicketStore {
    var json: TicketJSONDialect { .sqlite }

    /// On the read connections outside a transaction (one hand-off, the statement prepared once).
    func pageRows(_ select: SQLSelectBuilder, on db: any Database) async throws -> [TicketJSONRow] {
        var serializer = SQLSerializer(database: db.sql)
        select.select.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        let (text, binds) = (serializer.sql, try serializer.binds.map { try encoder.encode($0) })
        if let readers = SQLiteDirect.readers(db) {
            return try await readers.read { connection in
                var rows: [TicketJSONRow] = []
                try connection.query(text, binds) { rows.append(try TicketJSONRow(row: $0)) }
                return rows
            }
        }
        guard let sqlite = SQLiteDirect.database(db) else { throw TandemError.conflict("the SQLite ticket store runs on SQLite only") }
        return try await sqlite.query(text, binds).map(TicketJSONRow.init(row:))
    }

    func lock(_ tickets: TicketsToLock, on db: any Database) async throws {}

    func nextNumber(on db: any Database) async throws -> Int {
        guard let sqlite = SQLiteDirect.database(db), let row = try await sqlite.query(Self.allocateNumbers, [.int(1)]).first else {
            throw TandemError.conflict("could not allocate a ticket number")
        }
        return try SQLiteDirect.int(row, "value")
    }

    /// Allocates `?1` ticket numbers (under the write lock) and answers the last: they are the `?1` numbers up to it.
    static let allocateNumbers = "UPDATE counters SET value = value + ?1 WHERE name = 'ticket_number' RETURNING value"

    /// `TicketService.creationBatch` inside the group commit's transaction: one counter UPDATE for
    /// the batch's numbers, one INSERT of the tickets whose references hold (`Ticket.referencesHold`;
    /// nil for the others), and one INSERT each of their audit and domain events.
    @Sendable static func create(_ items: [TicketService.NewTicket], _ db: any Database) async throws -> [TicketDTO?] {
        guard let sqlite = SQLiteDirect.database(db), let row = try await sqlite.query(allocateNumbers, [.int(items.count)]).first else {
            throw TandemError.conflict("could not allocate a ticket number")
        }
        let first = try SQLiteDirect.int(row, "value") - items.count + 1
        var binds: [SQLiteData] = []
        binds.reserveCapacity(items.count * Ticket.columns.count)
        for (offset, item) in items.enumerated() {
            item.ticket.number = first + offset
            binds += item.ticket.sqlValues.map(\.sqlite)
        }
        // A refused ticket leaves a gap in the numbers, as a failed insert does on PostgreSQL's sequence.
        let inserted = Set(try await sqlite.query(insertIfReferencesHold(count: items.count), binds).map { try SQLiteDirect.text($0, "id") })
        let created = items.filter { inserted.contains($0.ticket.id!.text) }
        let at = Date()
        let audit = created.map { item in
            AuditEntry(
                action: "created", entityType: Ticket.schema, entityId: item.ticket.id, actor: item.principal,
                organizationId: item.ticket.organizationId, ticketId: item.ticket.id, before: nil,
                after: item.audit.head + String(item.ticket.number) + item.audit.tail
            ).values(at: at)
        }
        try await db.bulkInsert(into: AuditEvent.schema, columns: Audit.columns, rows: audit)
        let events = created.map { item in
            EventLog.values(DomainEvent(.ticketCreated, entityId: item.ticket.id, ticket: item.ticket.eventFacts), by: item.principal, at: at)
        }
        try await db.bulkInsert(into: EventLog.schema, columns: EventLog.columns, rows: events)
        return items.map { inserted.contains($0.ticket.id!.text) ? TicketDTO($0.ticket, assignees: []) : nil }
    }

    /// An INSERT of `count` tickets' `Ticket.sqlColumns` (binds in that order, ticket after ticket)
    /// that writes only those whose references hold; answers the ids it wrote.
    static func insertIfReferencesHold(count: Int) -> String {
        let row = "(" + Array(repeating: "?", count: Ticket.sqlColumns.count).joined(separator: ", ") + ")"
        let values = (1...Ticket.sqlColumns.count).map { "input.column\($0)" }
        return """
            INSERT INTO \(Ticket.schema) (\(Ticket.sqlColumns.joined(separator: ", "))) \
            SELECT \(values.joined(separator: ", ")) FROM (VALUES \(Array(repeating: row, count: count).joined(separator: ", "))) AS input \
            WHERE \(Ticket.referencesHold(values)) RETURNING id
            """
    }
}

extension TicketJSONRow {
    fileprivate init(row: some SQLiteColumns) throws {
        self.init(number: try SQLiteDirect.int(row, "number"), json: try SQLiteDirect.text(row, "ticket"))
    }
}

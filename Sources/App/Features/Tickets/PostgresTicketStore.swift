import Fluent
import Foundation
import PostgresKit
import SQLKit
import TandemCore

/// Tickets on PostgreSQL: the page written from the rows' bytes (`PostgresTicketPage`), row locks taken in id order (the `tickets.assignee_ids` triggers update ticket rows, so a write
/// that changes assignees locks their tickets first: the other order could deadlock), numbers from a
/// sequence, and concurrent creations as one statement.
struct PostgresTicketStore: TicketStore {
    /// The array the `TicketAssigneeIds` triggers keep; its JSON holds only ids, brackets and quotes.
    let assigneesJSON = "upper(array_to_json(\"\(Ticket.schema)\".\"assignee_ids\")::text)"

    /// From the rows' bytes (`PostgresTicketPage`), with the shown fields only.
    func pageJSON(_ query: TicketPageQuery, fields: Set<TicketField>?, on db: any Database) async throws -> JSONWriter {
        guard let postgres = PostgresDirect.database(db) else { throw TandemError.conflict("the PostgreSQL ticket store runs on PostgreSQL only") }
        return try await PostgresTicketPage.json(query, fields: fields, sql: db.sql, postgres: postgres)
    }

    func lock(_ tickets: TicketsToLock, on db: any Database) async throws {
        switch tickets {
        case .ids(let ids):
            guard !ids.isEmpty else { return }
            try await db.sql.select().column("id").from(Ticket.schema).where("id", .in, ids).orderBy("id").for(.update).run()
        case .assignedTo(let principalId):
            try await db.sql.raw(
                """
                SELECT id FROM tickets WHERE id IN (SELECT ticket_id FROM ticket_assignees WHERE principal_id = \(bind: principalId))
                ORDER BY id FOR UPDATE
                """
            ).run()
        }
    }

    /// A sequence, so concurrent transactions do not queue on a counter row.
    func nextNumber(on db: any Database) async throws -> Int {
        guard let value = try await db.sql.raw("SELECT nextval('ticket_number_seq') AS value").first()?.decode(column: "value", as: Int.self) else {
            throw TandemError.conflict("could not allocate a ticket number")
        }
        return value
    }

    /// `TicketService.creationBatch`: `CreateTicketsStatement` for the whole batch.
    @Sendable static func create(_ items: [TicketService.NewTicket], _ postgres: any PostgresDatabase) async throws -> [TicketDTO?] {
        let rows = try await PostgresDirect.execute(CreateTicketsStatement(items), on: postgres)
        var numbers: [UUID: Int] = [:]
        for row in rows {
            let cells = row.makeRandomAccess()
            numbers[try cells[0].decode(UUID.self)] = try cells[1].decode(Int.self)
        }
        return items.map { item in
            guard let number = numbers[item.ticket.id!] else { return nil }
            item.ticket.number = number
            return TicketDTO(item.ticket, assignees: [])
        }
    }

    /// New tickets' numbers, rows and audit events in one statement (atomic, and durable once
    /// answered), each ticket only if its references hold; prepared once per connection, for any
    /// number of tickets (the values go as one array per column). Answers the id and number of
    /// each ticket it wrote. The audit JSON is written around the number the statement draws.
    struct CreateTicketsStatement: PostgresPreparedStatement {
        static let name = "tandem-create-tickets"
        static let sql: String = {
            var inputs: [String] = [], arrays: [String] = []
            func input(_ name: String, _ type: String) -> String {
                inputs.append(name)
                arrays.append("$\(arrays.count + 1)::\(type)[]")
                return "input.\(name)"
            }
            let ticket = Ticket.postgresTypes.enumerated().map { offset, type in
                offset == 1 ? "nextval('ticket_number_seq')" : input("c\(offset)", type)
            }
            let auditId = input("audit_id", "uuid"), actor = input("actor_id", "uuid"), actorKind = input("actor_kind", "text")
            let actorName = input("actor_name", "text"), head = input("head", "text"), tail = input("tail", "text")
            let audit = [
                auditId, "created.created_at", actor, actorKind, actorName, "'created'", "'\(Ticket.schema)'",
                "created.id", "created.organization_id", "created.id", "NULL", "\(head) || created.number || \(tail)",
            ]
            // `EventLog.columns` of a `ticket.created` event (the trigger draws its position), at the ticket's creation.
            let event = [
                "'\(DomainEventType.ticketCreated.rawValue)'", "'\(DomainEventType.ticketCreated.area.rawValue)'", "created.created_at", "created.id",
                "created.organization_id",
                "created.id", "created.site_id", "created.queue_id", "created.team_id", "created.contact_id", "created.co_managed_visible", "NULL", actor,
                actorKind, "NULL",
            ]
            return """
                WITH input AS (
                    SELECT * FROM unnest(\(arrays.joined(separator: ", "))) AS input(\(inputs.joined(separator: ", ")))
                ), created AS (
                    INSERT INTO tickets (\(Ticket.sqlColumns.joined(separator: ", ")))
                    SELECT \(ticket.joined(separator: ", ")) FROM input WHERE \(Ticket.referencesHold(ticket))
                    RETURNING id, number, organization_id, site_id, queue_id, team_id, contact_id, co_managed_visible, created_at
                ), audited AS (
                    INSERT INTO audit_events (\(Audit.columns.joined(separator: ", ")))
                    SELECT \(audit.joined(separator: ", ")) FROM created JOIN input ON input.c0 = created.id
                ), evented AS (
                    INSERT INTO events (\(EventLog.columns.joined(separator: ", ")))
                    SELECT \(event.joined(separator: ", ")) FROM created JOIN input ON input.c0 = created.id ORDER BY created.number
                )
                SELECT id, number FROM created
                """
        }()

        let items: [TicketService.NewTicket]

        init(_ items: [TicketService.NewTicket]) {
            self.items = items
        }

        func makeBindings() -> PostgresBindings {
            let rows = items.map(\.ticket.sqlValues)
            var binds = PostgresBindings(capacity: Ticket.postgresTypes.count + 6)
            for (column, type) in Ticket.postgresTypes.enumerated() where column != 1 {
                let values = rows.map { $0[column] }
                assert(values.allSatisfy { $0.postgresType == type }, "Ticket.postgresTypes is out of step with sqlValues")
                binds.append(BulkArray(values, of: values[0]), context: .default)
            }
            binds.append(items.map { _ in UUID.v7() }, context: .default)
            binds.append(items.map(\.principal.id), context: .default)
            binds.append(items.map { $0.principal.kind.rawValue }, context: .default)
            binds.append(items.map { $0.principal.displayName }, context: .default)
            binds.append(items.map(\.audit.head), context: .default)
            binds.append(items.map(\.audit.tail), context: .default)
            return binds
        }

        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore

/// The one writer of tickets, their items (notes, time entries, attachments) and their assignees.
///
/// Every change runs in one write transaction that:
/// 1. locks the tickets it changes, in id order (`TicketStore.lock`), before any of their items or
///    assignee rows: on PostgreSQL the assignee triggers update ticket rows, so the other order
///    could deadlock;
/// 2. re-reads what it changes under that lock and checks the client's version (If-Match) and the
///    policy's answer for the locked row;
/// 3. writes, then records the audit event and the domain events last (`Audit.recordAll`): the
///    event position lock (migration `CreateEvents`) is then held only for the commit.
///
/// Callers validate input and ask the policy about what they read before (404 and 403); what they
/// hand over here is only written.
enum TicketPipeline {
    // MARK: Tickets

    /// A new ticket, its assignees and its events (`ticket.created`, and `ticket.assigned` when it has assignees).
    static func create(_ ticket: Ticket, assignees: [UUID], kinds: [UUID: PrincipalKind], by principal: Principal, on db: any Database) async throws
        -> TicketDTO
    {
        ticket.number = try await db.ticketStore.nextNumber(on: db)
        try await db.bulkInsert(into: Ticket.schema, columns: Ticket.sqlColumns, rows: [ticket.sqlValues])
        // A new ticket has no assignees to replace: no DELETE.
        if !assignees.isEmpty { try await insertAssignees(of: ticket.id!, assignees, kinds: kinds, on: db) }
        let dto = TicketDTO(ticket, assignees: assignees)
        var events = [DomainEvent(.ticketCreated, entityId: ticket.id, ticket: ticket.eventFacts)]
        if !assignees.isEmpty {
            events.append(DomainEvent(.ticketAssigned, entityId: ticket.id, ticket: ticket.eventFacts, data: DomainEventData(added: assignees, removed: [])))
        }
        try await Audit.record(
            "created", Ticket.schema, id: ticket.id, by: principal, organizationId: ticket.organizationId, ticketId: ticket.id,
            after: dto, events: events, on: db)
        return dto
    }

    /// A change of one ticket: `change` gets the locked ticket and its assignee rows (in order), checked against
    /// `ifMatch` and the policy's edit scope, changes the ticket in place and answers the new
    /// assignee list (nil: unchanged) with every assignee's kind.
    static func update(
        _ id: UUID, ifMatch: String?, by principal: Principal, on db: any Database,
        _ change: @escaping @Sendable (Ticket, [TicketAssignee], any Database) async throws -> ([UUID]?, [UUID: PrincipalKind])
    ) async throws -> TicketDTO {
        try await db.write { db in
            let (ticket, rows) = try await lockedTicket(id, ifMatch: ifMatch, for: .edit, by: principal, on: db)
            let assignees = rows.map(\.principalId)
            let before = TicketDTO(ticket, assignees: assignees)
            let (newAssignees, kinds) = try await change(ticket, rows, db)
            ticket.version += 1
            try await ticket.save(on: db)
            if let newAssignees {
                try await TicketAssignee.query(on: db).filter(\.$ticketId == id).delete()
                try await insertAssignees(of: id, newAssignees, kinds: kinds, on: db)
            }
            let after = TicketDTO(ticket, assignees: newAssignees ?? assignees)
            let events = DomainEvent.ticketChanges(
                ticket.eventFacts, before: before.fieldValues, after: after.fieldValues,
                assigneesBefore: assignees, assigneesAfter: newAssignees ?? assignees)
            try await Audit.record(
                "updated", Ticket.schema, id: id, by: principal, organizationId: ticket.organizationId, ticketId: id,
                before: before, after: after, events: events, on: db)
            return after
        }
    }

    /// Deletes the ticket (its items and assignees go with it); answers the blob keys of its
    /// attachments, for the caller to delete once this has committed.
    static func delete(_ id: UUID, ifMatch: String?, by principal: Principal, on db: any Database) async throws -> [String] {
        try await db.write { db in
            let (ticket, rows) = try await lockedTicket(id, ifMatch: ifMatch, for: .delete, by: principal, on: db)
            let keys = try await Attachment.query(on: db).filter(\.$ticketId == id).all().map(\.blobKey)
            let before = TicketDTO(ticket, assignees: rows.map(\.principalId))
            try await ticket.delete(on: db)
            try await Audit.record(
                "deleted", Ticket.schema, id: id, by: principal, organizationId: ticket.organizationId, ticketId: id, before: before,
                events: [DomainEvent(.ticketDeleted, entityId: id, ticket: ticket.eventFacts)], on: db)
            return keys
        }
    }

    /// Hands the ticket to the other side (SPEC §13): its responsible side changes and it moves to its next
    /// version; audited as `handedOff` (with the reason) and recorded as `ticket.handedOff`. The policy
    /// decides who may (`AccessPolicy.handoffRefusal`), on the locked row.
    static func handOff(_ id: UUID, to side: ResponsibleSide, reason: String?, ifMatch: String?, by principal: Principal, on db: any Database) async throws {
        try await db.write { db in
            let (ticket, _) = try await lockedTicket(id, ifMatch: ifMatch, for: .edit, by: principal, on: db)
            let from = ResponsibleSide(rawValue: ticket.responsibleSide) ?? .msp
            let coManagement = try await TicketSLA.coManagementFacts(ticket, on: db)
            if let refusal = AccessPolicy.handoffRefusal(
                principal, coManagement: coManagement.system, organizationCoManaged: coManagement.organization,
                coManagedVisible: ticket.coManagedVisible, from: from, to: side)
            {
                throw refusal
            }
            ticket.responsibleSide = side.rawValue
            ticket.version += 1
            try await ticket.save(on: db)
            try await Audit.record(
                "handedOff", Ticket.schema, id: id, by: principal, organizationId: ticket.organizationId, ticketId: id,
                before: HandoffRecord(responsibleSide: from, reason: nil), after: HandoffRecord(responsibleSide: side, reason: reason),
                events: [DomainEvent(.ticketHandedOff, entityId: id, ticket: ticket.eventFacts, data: DomainEventData(from: from.rawValue, to: side.rawValue))],
                on: db)
        }
    }

    /// What the audit keeps of a handoff.
    struct HandoffRecord: Encodable, Sendable {
        var responsibleSide: ResponsibleSide
        var reason: String?
    }

    /// The ticket locked for `operation`: 404 if gone or no longer visible, 403 if only readable, 412 if `ifMatch` is stale.
    private static func lockedTicket(
        _ id: UUID, ifMatch: String?, for operation: AccessOperation, by principal: Principal,
        on db: any Database
    ) async throws -> (Ticket, [TicketAssignee]) {
        try await db.ticketStore.lock(.ids([id]), on: db)
        guard let ticket = try await Ticket.find(id, on: db) else { throw TandemError.notFound(TicketService.what) }
        let assignees = try await TicketService.assigneeRows(of: id, on: db)
        let facts = TicketService.facts(ticket, assignees: assignees.map(\.principalId))
        guard AccessPolicy.ticketScope(for: principal).evaluate(facts) else { throw TandemError.notFound(TicketService.what) }
        guard AccessPolicy.ticketScope(for: principal, operation).evaluate(facts) else {
            throw TandemError.forbidden(
                operation == .delete
                    ? "your security level does not allow deleting this ticket"
                    : TicketService.readOnlyRefusal)
        }
        if let ifMatch, !TicketService.etagMatches(ifMatch, ticket) {
            throw TandemError.preconditionFailed("The ticket changed since you read it (now version \(ticket.version)); reload it and apply your change again.")
        }
        return (ticket, assignees)
    }

    private static func insertAssignees(of ticketId: UUID, _ assignees: [UUID], kinds: [UUID: PrincipalKind], on db: any Database) async throws {
        // One statement for the list: on PostgreSQL each statement runs the trigger that copies it to the ticket.
        try await db.bulkInsert(
            into: TicketAssignee.schema, columns: ["id", "ticket_id", "principal_id", "principal_kind", "position"],
            rows: assignees.enumerated().map { position, principalId in
                [.id(.v7()), .id(ticketId), .id(principalId), .text((kinds[principalId] ?? .resource).rawValue), .int(position)]
            })
    }

    // MARK: Work recorded on a ticket (security requests)

    /// What a step of work on a ticket wrote: its answer, its audit entries (with their events), the
    /// status it moves the ticket to (nil: none), and who that ticket change is recorded as by.
    struct Step<Value: Sendable>: Sendable {
        var value: Value
        var entries: [AuditEntry]
        var ticketStatus: TicketStatus? = nil
        var actor: Principal? = nil
    }

    /// Runs `step` with the ticket locked (404 if it is gone), moves the ticket to the status the step
    /// asks for (`ticket.statusChanged`, audited as a ticket update), and records the step's entries
    /// and the ticket's last. The step reads and writes its own rows; it decides who may act.
    static func step<Value: Sendable>(
        on ticketId: UUID, on db: any Database, _ step: @escaping @Sendable (Ticket, any Database) async throws -> Step<Value>
    ) async throws -> Value {
        try await db.write { db in
            try await db.ticketStore.lock(.ids([ticketId]), on: db)
            guard let ticket = try await Ticket.find(ticketId, on: db) else { throw TandemError.notFound(TicketService.what) }
            let done = try await step(ticket, db)
            var entries = done.entries
            if let status = done.ticketStatus, status.rawValue != ticket.status {
                let assignees = try await TicketService.assigneeRows(of: ticketId, on: db).map(\.principalId)
                let before = TicketDTO(ticket, assignees: assignees)
                ticket.status = status.rawValue
                ticket.version += 1
                try await ticket.save(on: db)
                let after = TicketDTO(ticket, assignees: assignees)
                let events = DomainEvent.ticketChanges(
                    ticket.eventFacts, before: before.fieldValues, after: after.fieldValues, assigneesBefore: assignees, assigneesAfter: assignees)
                entries.append(
                    Audit.entry(
                        "updated", Ticket.schema, id: ticketId, by: done.actor, organizationId: ticket.organizationId, ticketId: ticketId, before: before,
                        after: after, events: events))
            }
            try await Audit.recordAll(entries, on: db)
            return done.value
        }
    }

    // MARK: Assignees of tickets a write has not locked

    /// Takes `principalId` off every ticket it is assigned to (deactivation, resource deletion, erasure):
    /// answers each ticket's audit entry and `ticket.assigned` event, for the caller to record last with its own.
    static func unassign(_ principalId: UUID, by actor: Principal?, on db: any Database) async throws -> [AuditEntry] {
        try await db.ticketStore.lock(.assignedTo(principalId), on: db)
        let ticketIds = try await TicketAssignee.query(on: db).filter(\.$principalId == principalId).all().map(\.ticketId)
        return try await removeAssignees(of: ticketIds, only: principalId, by: actor, on: db)
    }

    /// Takes every assignee off `ticketIds` (co-management deactivation); answers as `unassign` does.
    static func unassignAll(of ticketIds: [UUID], by actor: Principal?, on db: any Database) async throws -> [AuditEntry] {
        guard !ticketIds.isEmpty else { return [] }
        try await db.ticketStore.lock(.ids(ticketIds), on: db)
        return try await removeAssignees(of: ticketIds, only: nil, by: actor, on: db)
    }

    /// Removes `only` (or every assignee) from the locked `ticketIds`; each changed ticket moves to its next version.
    private static func removeAssignees(of ticketIds: [UUID], only principalId: UUID?, by actor: Principal?, on db: any Database) async throws -> [AuditEntry] {
        guard !ticketIds.isEmpty else { return [] }
        let tickets = try await Ticket.query(on: db).filter(\.$id ~~ ticketIds).sort(\.$id).all()
        let assignees = try await TicketService.assigneeIds(of: ticketIds, on: db)
        var query = TicketAssignee.query(on: db).filter(\.$ticketId ~~ ticketIds)
        if let principalId { query = query.filter(\.$principalId == principalId) }
        try await query.delete()
        var entries: [AuditEntry] = []
        for ticket in tickets {
            let id = ticket.id!, current = assignees[id] ?? []
            let kept = current.filter { principalId != nil && $0 != principalId }
            guard kept != current else { continue }
            let before = TicketDTO(ticket, assignees: current)
            ticket.version += 1
            try await ticket.save(on: db)
            let after = TicketDTO(ticket, assignees: kept)
            entries.append(
                AuditEntry(
                    action: "updated", entityType: Ticket.schema, entityId: id, actor: actor, organizationId: ticket.organizationId, ticketId: id,
                    before: JSONColumn.encode(before), after: JSONColumn.encode(after),
                    events: [
                        DomainEvent(
                            .ticketAssigned, entityId: id, ticket: ticket.eventFacts,
                            data: DomainEventData(added: [], removed: current.filter { !kept.contains($0) }))
                    ]))
        }
        return entries
    }

    // MARK: Items

    /// Adds an item to the ticket (`before` runs first in the transaction, for an attachment's bytes; `after` last,
    /// answering audit entries of what the item caused, such as a block-hour contract's threshold).
    static func add<Item: TicketItem, DTO: Encodable & Sendable>(
        _ item: Item, by principal: Principal, on db: any Database, dto: @escaping @Sendable (Item) -> DTO,
        before: @escaping @Sendable (any Database) async throws -> Void = { _ in },
        after: @escaping @Sendable (any Database, Ticket) async throws -> [AuditEntry] = { _, _ in [] }
    ) async throws -> DTO {
        try await db.write { db in
            let ticket = try await lockedForItem(item.ticketId, on: db)
            try await before(db)
            try await item.create(on: db)
            let done = dto(item)
            let later = try await after(db, ticket)
            try await Audit.recordAll(
                [
                    Audit.entry(
                        "created", Item.schema, id: item.id, by: principal, organizationId: ticket.organizationId, ticketId: ticket.id,
                        after: done, events: [event(item, .added, ticket)])
                ] + later, on: db)
            return done
        }
    }

    /// Saves a changed item; `before` is its DTO as it was. `check` runs first under the ticket's lock (a refusal
    /// there writes nothing), `after` last, as for `add`.
    static func update<Item: TicketItem, DTO: Encodable & Sendable>(
        _ item: Item, before: DTO, by principal: Principal, on db: any Database, dto: @escaping @Sendable (Item) -> DTO,
        check: @escaping @Sendable (any Database) async throws -> Void = { _ in },
        after: @escaping @Sendable (any Database, Ticket) async throws -> [AuditEntry] = { _, _ in [] }
    ) async throws -> DTO {
        try await db.write { db in
            let ticket = try await lockedForItem(item.ticketId, on: db)
            try await check(db)
            try await item.save(on: db)
            let done = dto(item)
            let later = try await after(db, ticket)
            try await Audit.recordAll(
                [
                    Audit.entry(
                        "updated", Item.schema, id: item.id, by: principal, organizationId: ticket.organizationId, ticketId: ticket.id,
                        before: before, after: done, events: [event(item, .updated, ticket)])
                ] + later, on: db)
            return done
        }
    }

    /// Deletes an item; `check` runs first under the ticket's lock.
    static func delete<Item: TicketItem>(
        _ item: Item, by principal: Principal, on db: any Database, snapshot: @escaping @Sendable (Item) -> any Encodable & Sendable,
        check: @escaping @Sendable (any Database) async throws -> Void = { _ in }
    ) async throws {
        try await db.write { db in
            let ticket = try await lockedForItem(item.ticketId, on: db)
            try await check(db)
            try await item.delete(on: db)
            try await Audit.record(
                "deleted", Item.schema, id: item.id, by: principal, organizationId: ticket.organizationId, ticketId: ticket.id,
                before: snapshot(item), events: [event(item, .deleted, ticket)], on: db)
        }
    }

    /// An item's ticket, locked: items change under their ticket's lock, like its assignees.
    private static func lockedForItem(_ ticketId: UUID, on db: any Database) async throws -> Ticket {
        try await db.ticketStore.lock(.ids([ticketId]), on: db)
        guard let ticket = try await Ticket.find(ticketId, on: db) else { throw TandemError.notFound(TicketService.what) }
        return ticket
    }

    private static func event<Item: TicketItem>(_ item: Item, _ change: DomainEventType.ItemChange, _ ticket: Ticket) -> DomainEvent {
        DomainEvent(DomainEventType.item(Item.area, change)!, entityId: item.id, ticket: ticket.eventFacts, publishTo: PublishTo(rawValue: item.publishTo))
    }
}

extension TicketDTO {
    /// Each column's value by API name, as text (`Ticket.columns`), to tell which fields a change touched.
    var fieldValues: [TicketField: String] {
        var values: [TicketField: String] = [:]
        for column in Ticket.columns {
            guard let field = column.field else { continue }
            switch column.access {
            case .id(let get, _), .text(let get, _): values[field] = get(self)
            case .optionalId(let get, _): values[field] = get(self)
            case .int(let get, _): values[field] = String(get(self))
            case .bool(let get, _): values[field] = String(get(self))
            case .date(let get, _): values[field] = get(self).map { String($0.timeIntervalSince1970) }
            case .unshown: break
            }
        }
        return values
    }
}

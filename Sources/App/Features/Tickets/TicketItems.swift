import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// Notes, time entries and attachments: items of a ticket, each with a publish-to.
protocol TicketItem: Model, Sendable where IDValue == UUID {
    static var scopeTable: ScopeTable { get }
    static var area: Area { get }
    static var what: String { get }
    var ticketId: UUID { get }
    var publishTo: String { get set }
}

extension Note: TicketItem {
    static let area = Area.notes
    static let what = "note"
}

extension TimeEntry: TicketItem {
    static let area = Area.timeEntries
    static let what = "time entry"
}

extension Attachment: TicketItem {
    static let area = Area.attachments
    static let what = "attachment"
}

/// Reads and deletes shared by the three item kinds; each kind adds its own create and update.
enum TicketItems {
    static func list<Item: TicketItem>(_ type: Item.Type, ticketId: UUID, page: PageRequest, by principal: Principal, on db: any Database) async throws -> (
        items: [Item], nextCursor: String?
    ) {
        _ = try await TicketService.visible(ticketId, by: principal, on: db)
        return try await Item.query(on: db)
            .filter(.sql(SQLBinaryExpressionBuilder.ticketIdEquals(ticketId, table: Item.scopeTable.name)))
            .filter(AccessPolicy.ticketItemScope(for: principal, area: Item.area), on: Item.scopeTable)
            .page(page)
    }

    /// The item if its ticket and its publish-to let the principal see it; otherwise 404.
    static func visible<Item: TicketItem>(_ type: Item.Type, ticketId: UUID, id: UUID, by principal: Principal, on db: any Database) async throws -> Item {
        _ = try await TicketService.visible(ticketId, by: principal, on: db)
        let item = try await Lookup.visible(
            Item.self, id, scope: AccessPolicy.ticketItemScope(for: principal, area: Item.area), table: Item.scopeTable, what: Item.what, on: db)
        guard item.ticketId == ticketId else { throw TandemError.notFound(Item.what) }
        return item
    }

    /// An item the principal may change with `operation` (edit or delete): 404 if hidden, 403 if only readable.
    static func changeable<Item: TicketItem>(
        _ type: Item.Type, ticketId: UUID, id: UUID, _ operation: AccessOperation, by principal: Principal, on db: any Database
    ) async throws -> (Ticket, Item) {
        let item = try await visible(Item.self, ticketId: ticketId, id: id, by: principal, on: db)
        let ticket = try await TicketService.visible(ticketId, by: principal, on: db)
        let allowed = AccessPolicy.ticketItemScope(for: principal, area: Item.area, operation)
            .evaluate(ScopeFacts(values: [.id: id], publishTo: PublishTo(rawValue: item.publishTo)))
        guard allowed else { throw TandemError.forbidden("your security level does not allow this on a \(Item.what)") }
        return (ticket, item)
    }

    /// The ticket an item is being added to: visible, and the principal may add this kind of item.
    static func ticketForNewItem<Item: TicketItem>(_ type: Item.Type, ticketId: UUID, by principal: Principal, on db: any Database) async throws -> Ticket {
        let ticket = try await TicketService.visible(ticketId, by: principal, on: db)
        guard AccessPolicy.ticketItemScope(for: principal, area: Item.area, .create) != .none else {
            throw TandemError.forbidden("your security level does not allow adding a \(Item.what)")
        }
        return ticket
    }

    static func delete<Item: TicketItem>(
        _ type: Item.Type, ticketId: UUID, id: UUID, by principal: Principal, on db: any Database,
        snapshot: @escaping @Sendable (Item) -> any Encodable & Sendable
    ) async throws -> Item {
        let (_, item) = try await changeable(Item.self, ticketId: ticketId, id: id, .delete, by: principal, on: db)
        // Time of a submitted or approved timesheet week stays as it was.
        let check: @Sendable (any Database) async throws -> Void =
            if let entry = item as? TimeEntry {
                { [authorId = entry.authorId, workedAt = entry.workedAt] db in try await Timesheets.requireUnlocked(personId: authorId, at: [workedAt], on: db)
                }
            } else {
                { _ in }
            }
        try await TicketPipeline.delete(item, by: principal, on: db, snapshot: snapshot, check: check)
        return item
    }
}

enum SQLBinaryExpressionBuilder {
    static func ticketIdEquals(_ ticketId: UUID, table: String) -> any SQLExpression {
        SQLBinaryExpression(SQLColumn("ticket_id", table: table), .equal, SQLBind(ticketId))
    }
}

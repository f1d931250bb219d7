import Fluent
import Foundation
import SQLKit
import TandemCore

/// What the ticket feature does differently per database, behind one seam: feature code asks
/// `db.ticketStore` and never which database it runs on. The tests check each store's page against
/// a reference path (Fluent, the policy evaluated in Swift) for every principal kind and filter.
protocol TicketStore: Sendable {
    /// An SQL expression of the ticket's (`tickets` in scope) assignee ids as a JSON array text, in position order.
    var assigneesJSON: String { get }
    /// A page of tickets as the API's JSON with the members `fields` holds (nil: all), this database's fastest way.
    func pageJSON(_ query: TicketPageQuery, fields: Set<TicketField>?, on db: any Database) async throws -> JSONWriter
    /// Locks these tickets' rows for the rest of the write transaction, in id order.
    func lock(_ tickets: TicketsToLock, on db: any Database) async throws
    /// Allocates a ticket number inside a write transaction.
    func nextNumber(on db: any Database) async throws -> Int
}

/// A page of `TicketService.list`: its query with any select list, and how many tickets it shows
/// (the query asks for one more, to tell whether another page follows).
struct TicketPageQuery {
    let limit: Int
    let select: (_ columns: String) throws -> SQLSelectBuilder
}

/// The tickets a write locks before it changes their assignees (`TicketPipeline.unassign`) or the ticket itself.
enum TicketsToLock: Sendable {
    case ids([UUID])
    case assignedTo(UUID)
}

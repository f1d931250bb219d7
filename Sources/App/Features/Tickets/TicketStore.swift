import Fluent
import Foundation
import SQLKit

/// What the ticket feature does differently per database, behind one seam: feature code asks
/// `db.ticketStore` and never which database it runs on. Each store's fast paths are checked
/// against a reference path (Fluent, the policy evaluated in Swift) by the tests, on both databases.
protocol TicketStore: Sendable {
    /// A page of tickets for a `TicketService` page query, read this database's fastest way.
    func readPage(_ select: SQLSelectBuilder, limit: Int, on db: any Database) async throws -> ListPage<TicketDTO>
    /// The same page as the API's JSON written straight from the rows; nil: written from the DTOs.
    func pageJSON(_ select: SQLSelectBuilder, limit: Int, on db: any Database) async throws -> JSONWriter?
    /// Locks these tickets' rows for the rest of the write transaction, in id order.
    func lock(_ tickets: TicketsToLock, on db: any Database) async throws
    /// Allocates a ticket number inside a write transaction.
    func nextNumber(on db: any Database) async throws -> Int
}

/// The tickets a write locks before it changes their assignees (`TicketPipeline.unassign`) or the ticket itself.
enum TicketsToLock: Sendable {
    case ids([UUID])
    case assignedTo(UUID)
}

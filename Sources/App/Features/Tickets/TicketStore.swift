import Fluent
import Foundation
import SQLKit

/// What the ticket feature does differently per database, behind one seam: feature code asks
/// `db.ticketStore` and never which database it runs on. The page's JSON comes from the database
/// (`TicketJSONDialect`); the tests check it against a reference path (Fluent, the policy
/// evaluated in Swift) for every principal kind and filter, on both databases.
protocol TicketStore: Sendable {
    /// How this database writes a ticket as JSON in SQL.
    var json: TicketJSONDialect { get }
    /// The rows of a ticket page query whose select list is `TicketJSONRow.selectList`, read this database's fastest way.
    func pageRows(_ select: SQLSelectBuilder, on db: any Database) async throws -> [TicketJSONRow]
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

import Foundation
import TandemCore
import Vapor

/// One domain event as the feed answers it.
struct EventDTO: Content, Equatable {
    var position: Int
    var type: String
    var at: Date
    var entityId: UUID?
    var organizationId: UUID?
    var ticketId: UUID?
    var publishTo: String?
    /// Who made the change; nil when the reader may not see them (or the system did).
    var actorId: UUID?
    var actorKind: String?
    var data: DomainEventData?
}

/// A page of the feed; `nextCursor` is always the position to ask `after` next, also at the end.
struct EventPage: Content {
    var items: [EventDTO]
    var nextCursor: String
}

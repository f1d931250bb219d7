import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `GET /api/v1/events?after=<position>&limit=N`: the change feed, in position order, of the events
/// the caller may read (`AccessPolicy.eventScope`, `AccessPolicy.eventShown`).
enum EventsAPI {
    static let defaultLimit = 100
    static let maxLimit = 1000

    static func register(_ api: any RoutesBuilder) {
        api.get("events") { req async throws -> EventPage in
            var validator = FieldValidator()
            let after =
                req.queryText("after").map { text -> Int in
                    guard let value = Int(text), value >= 0 else { validator.fail("after", "must be an event position (an integer, 0 or more)"); return 0 }
                    return value
                } ?? 0
            let limit = PageRequest.limit(of: req, fallback: defaultLimit, max: maxLimit, &validator)
            try validator.check()
            return try await Events.feed(after: after, limit: limit, by: req.principal, on: req.db)
        }
    }
}

/// Reading the events table under the policy.
enum Events {
    /// `through`: no event after this position (a consumer's batch, read again for each reader).
    static func feed(after: Int, through: Int? = nil, limit: Int, by principal: Principal, on db: any Database) async throws -> EventPage {
        var events = try await Self.after(after, through: through, limit: limit, scope: AccessPolicy.eventScope(for: principal), on: db)
        let last = events.last?.position ?? after
        events = events.compactMap { event in
            guard let type = DomainEventType(rawValue: event.type) else { return nil }
            var event = event
            guard let data = AccessPolicy.eventShown(type, event.data ?? DomainEventData(), to: principal) else { return nil }
            event.data = data.isEmpty ? nil : data
            return event
        }
        let people = try await PeopleDirectory.visible(
            events.flatMap { [$0.actorId].compactMap { $0 } + ($0.data?.added ?? []) + ($0.data?.removed ?? []) },
            to: principal, on: db)
        for index in events.indices {
            if let actor = events[index].actorId, !people.contains(actor) { events[index].actorId = nil }
            if var data = events[index].data, data.added != nil || data.removed != nil {
                // Those the reader may not see are left out, as the ticket's history leaves them.
                data.added = data.added?.filter(people.contains)
                data.removed = data.removed?.filter(people.contains)
                events[index].data = data
            }
        }
        return EventPage(items: events, nextCursor: String(last))
    }

    /// The position of the latest event (0: none).
    static func latestPosition(on db: any Database) async throws -> Int {
        try await db.sql.raw("SELECT coalesce(max(position), 0) AS position FROM events").first()?.decode(column: "position", as: Int.self) ?? 0
    }

    /// The events after `position` (at most `limit`) that `scope` lets through, in position order.
    static func after(_ position: Int, through: Int? = nil, limit: Int, scope: Scope = .all, on db: any Database) async throws -> [EventDTO] {
        var select = db.sql.select().column("*").from(EventLog.schema).where("position", .greaterThan, SQLBind(position))
        if let through { select = select.where("position", .lessThanOrEqual, SQLBind(through)) }
        if scope != .all { select = select.where(scope.sql(for: EventLog.scopeTable)) }
        return try await select.orderBy("position").limit(limit).all().map(read)
    }

    static func read(_ row: any SQLRow) throws -> EventDTO {
        EventDTO(
            position: try row.decode(column: "position", as: Int.self), type: try row.decode(column: "type", as: String.self),
            at: try row.decode(column: "at", as: Date.self), entityId: try row.decode(column: "entity_id", as: UUID?.self),
            organizationId: try row.decode(column: "organization_id", as: UUID?.self), ticketId: try row.decode(column: "ticket_id", as: UUID?.self),
            publishTo: try row.decode(column: "publish_to", as: String?.self), actorId: try row.decode(column: "actor_id", as: UUID?.self),
            actorKind: try row.decode(column: "actor_kind", as: String?.self),
            data: try row.decode(column: "data", as: String?.self).map { JSONColumn.decode($0, default: DomainEventData()) })
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// A ticket's SLA clocks, read from its recorded events (`SLATimeline`: creation, status changes, the
/// first note published to the contact by staff, handoffs) under its organization's policy for its
/// priority, in business time of its site's internal location (every minute, in UTC, when it has none).
enum TicketSLA {
    /// The event types a timeline is made of.
    static let timelineTypes: [DomainEventType] = [.ticketCreated, .ticketStatusChanged, .noteAdded, .ticketHandedOff]
    /// Written out, not bound: the partial index `events_ticket_timeline` (migration `CreateSLAAlerts`) serves
    /// only a query whose condition implies its own, which SQLite cannot see through bound parameters.
    static let timelineCondition = "type IN (\(timelineTypes.map { "'\($0.rawValue)'" }.joined(separator: ", ")))"

    /// The facts of a ticket its clocks read: a `Ticket` has them, and a report reads only these columns (a `Ticket`
    /// model decoded through Fluent cost 10 % of a report's CPU).
    struct Subject: Sendable {
        var id: UUID
        var organizationId: UUID
        var siteId: UUID?
        var status: String
        var priority: String
        var createdAt: Date?

        init(_ ticket: Ticket) {
            self.init(
                id: ticket.id!, organizationId: ticket.organizationId, siteId: ticket.siteId, status: ticket.status, priority: ticket.priority,
                createdAt: ticket.createdAt)
        }

        init(
            id: UUID, organizationId: UUID, siteId: UUID?, status: String, priority: String, createdAt: Date?
        ) {
            self.id = id
            self.organizationId = organizationId
            self.siteId = siteId
            self.status = status
            self.priority = priority
            self.createdAt = createdAt
        }

        /// The columns `init(row:)` reads, from `tickets`.
        static let columns = ["id", "organization_id", "site_id", "status", "priority", "created_at"].map {
            SQLColumn($0, table: Ticket.schema)
        }

        init(row: any SQLRow) throws {
            self.init(
                id: try row.decode(column: "id", as: UUID.self), organizationId: try row.decode(column: "organization_id", as: UUID.self),
                siteId: try row.decode(column: "site_id", as: UUID?.self), status: try row.decode(column: "status", as: String.self),
                priority: try row.decode(column: "priority", as: String.self), createdAt: try row.decode(column: "created_at", as: Date?.self))
        }
    }

    /// What the clocks of several tickets need, read in a few queries: their timelines, policies and calendars.
    struct Inputs: Sendable {
        var timelines: [UUID: SLATimeline]
        var policies: [PolicyKey: SLAPolicy]
        var calendars: [UUID: BusinessCalendar]
        /// The calendar of a ticket whose site has none.
        var allHours = BusinessCalendar.allHours

        func policy(_ ticket: Ticket) -> SLAPolicy? { policy(Subject(ticket)) }

        func policy(_ ticket: Subject) -> SLAPolicy? { policies[PolicyKey(organizationId: ticket.organizationId, priority: ticket.priority)] }

        func clock(_ ticket: Ticket, now: Date) -> SLAClock? { clock(Subject(ticket), now: now) }

        func clock(_ ticket: Subject, now: Date) -> SLAClock? {
            guard let policy = policy(ticket), let timeline = timelines[ticket.id] else { return nil }
            let calendar = ticket.siteId.flatMap { calendars[$0] } ?? allHours
            return SLAClock(targets: policy.targets, timeline: timeline, calendar: calendar, now: now)
        }

        /// The same inputs with every calendar's days from `from` to `to` worked out once
        /// (`BusinessCalendar.prepared`), for the clocks of many tickets over the same days.
        func prepared(from: Date, to: Date) -> Inputs {
            var inputs = self
            // Sites share their location's calendar: each distinct one once.
            var done: [BusinessCalendar] = []
            inputs.calendars = calendars.mapValues { calendar in
                if let known = done.first(where: { $0 == calendar }) { return known }
                let prepared = calendar.prepared(from: from, to: to)
                done.append(prepared)
                return prepared
            }
            inputs.allHours = allHours.prepared(from: from, to: to)
            return inputs
        }
    }

    struct PolicyKey: Hashable, Sendable {
        var organizationId: UUID
        var priority: String
    }

    static func inputs(for tickets: [Ticket], on db: any Database) async throws -> Inputs {
        try await inputs(for: tickets.map(Subject.init), on: db)
    }

    static func inputs(for tickets: [Subject], on db: any Database) async throws -> Inputs {
        guard !tickets.isEmpty else { return Inputs(timelines: [:], policies: [:], calendars: [:]) }
        let organizations = Array(Set(tickets.map(\.organizationId)))
        var policies: [PolicyKey: SLAPolicy] = [:]
        for chunk in organizations.chunked(500).map(Array.init) {
            for policy in try await SLAPolicy.query(on: db).filter(\.$organizationId ~~ chunk).all() {
                policies[PolicyKey(organizationId: policy.organizationId, priority: policy.priority)] = policy
            }
        }
        return Inputs(
            timelines: try await timelines(of: tickets, on: db), policies: policies, calendars: try await calendars(of: tickets, on: db))
    }

    /// Each site's calendar (its internal location's), for the sites of `tickets` that have one.
    static func calendars(of tickets: [Subject], on db: any Database) async throws -> [UUID: BusinessCalendar] {
        let siteIds = Array(Set(tickets.compactMap(\.siteId)))
        guard !siteIds.isEmpty else { return [:] }
        var locationOfSite: [UUID: UUID] = [:]
        for chunk in siteIds.chunked(500).map(Array.init) {
            for site in try await Site.query(on: db).filter(\.$id ~~ chunk).all() {
                if let location = site.internalLocationId { locationOfSite[site.id!] = location }
            }
        }
        let locations = try await InternalLocation.query(on: db).filter(\.$id ~~ Array(Set(locationOfSite.values))).all()
        let calendars = Dictionary(uniqueKeysWithValues: locations.compactMap { location in location.calendar.map { (location.id!, $0) } })
        return locationOfSite.compactMapValues { calendars[$0] }
    }

    /// Each ticket's timeline from its events, in position order.
    static func timelines(of tickets: [Subject], on db: any Database) async throws -> [UUID: SLATimeline] {
        var entries: [UUID: [SLATimeline.Entry]] = [:]
        var created: [UUID: Date] = [:]
        var initialStatus: [UUID: TicketStatus] = [:]
        for chunk in tickets.map(\.id).chunked(500).map(Array.init) {
            let rows = try await db.sql.select().columns("ticket_id", "type", "at", "actor_kind", "publish_to", "data").from(EventLog.schema)
                .where("ticket_id", .in, SQLBind.group(chunk)).where(SQLRaw(timelineCondition))
                .orderBy("position").all(decoding: EventRow.self)
            for row in rows {
                let data = row.data.map { JSONColumn.decode($0, default: DomainEventData()) } ?? DomainEventData()
                switch DomainEventType(rawValue: row.type) {
                case .ticketCreated:
                    created[row.ticketId] = created[row.ticketId] ?? row.at
                case .ticketStatusChanged:
                    guard let to = data.to.flatMap(TicketStatus.init(rawValue:)) else { continue }
                    if initialStatus[row.ticketId] == nil, let from = data.from.flatMap(TicketStatus.init(rawValue:)) { initialStatus[row.ticketId] = from }
                    entries[row.ticketId, default: []].append(.init(at: row.at, .status(to)))
                case .noteAdded:
                    // The first response: a note the contact reads, written by MSP staff or the client's IT.
                    guard row.publishTo == PublishTo.all.rawValue,
                        [PrincipalKind.resource.rawValue, PrincipalKind.coManagingUser.rawValue].contains(row.actorKind ?? "")
                    else { continue }
                    entries[row.ticketId, default: []].append(.init(at: row.at, .responded))
                case .ticketHandedOff:
                    guard let to = data.to.flatMap(ResponsibleSide.init(rawValue:)) else { continue }
                    entries[row.ticketId, default: []].append(.init(at: row.at, .handedOff(to)))
                default: continue
                }
            }
        }
        var timelines: [UUID: SLATimeline] = [:]
        for ticket in tickets {
            let id = ticket.id
            let status = initialStatus[id] ?? TicketStatus(rawValue: ticket.status) ?? .new
            // The ticket's own creation time first: the fast creation paths stamp their event with the system clock.
            timelines[id] = SLATimeline(createdAt: ticket.createdAt ?? created[id] ?? Date(), initialStatus: status, entries: entries[id] ?? [])
        }
        return timelines
    }

    private struct EventRow: Decodable {
        let ticketId: UUID
        let type: String
        let at: Date
        let actorKind: String?
        let publishTo: String?
        let data: String?

        enum CodingKeys: String, CodingKey {
            case ticketId = "ticket_id", type, at, actorKind = "actor_kind", publishTo = "publish_to", data
        }
    }

    // MARK: The API

    /// `GET /api/v1/tickets/{id}/sla`: for whoever sees the ticket (404 otherwise).
    static func get(_ id: UUID, by principal: Principal, on db: any Database) async throws -> TicketSLADTO {
        let ticket = try await Lookup.visible(
            Ticket.self, id, scope: AccessPolicy.ticketSLAScope(for: principal), table: Ticket.scopeTable, what: TicketService.what, on: db)
        let inputs = try await inputs(for: [ticket], on: db)
        let calendar = try await ticket.siteId.asyncMap { try await Site.find($0, on: db)?.internalLocationId } ?? nil
        // The ids of what the reader may open: the policy and the internal location are MSP configuration.
        let readsPolicy = AccessPolicy.slaPolicyScope(for: principal, .view).evaluate(ScopeFacts(values: [.organization: ticket.organizationId, .id: nil]))
        let readsLocation = AccessPolicy.configurationScope(for: principal, .internalLocations, .view) != .none
        return TicketSLADTO(
            ticketId: id.uuidString, responsibleSide: ResponsibleSide(rawValue: ticket.responsibleSide) ?? .msp, coManaged: try await coManaged(ticket, on: db),
            policyId: readsPolicy ? inputs.policy(ticket)?.id?.uuidString : nil, internalLocationId: readsLocation ? calendar?.uuidString : nil,
            timeZone: (ticket.siteId.flatMap { inputs.calendars[$0] } ?? .allHours).timeZone.identifier,
            targets: inputs.clock(ticket, now: db.now).map { $0.clocks.map(SLATargetDTO.init) } ?? [])
    }

    /// Whether the ticket has two sides now: co-management on for the system and its organization, and
    /// the ticket visible to co-managing users.
    static func coManaged(_ ticket: Ticket, on db: any Database) async throws -> Bool {
        let facts = try await coManagementFacts(ticket, on: db)
        return facts.system && facts.organization && ticket.coManagedVisible
    }

    static func coManagementFacts(_ ticket: Ticket, on db: any Database) async throws -> (system: Bool, organization: Bool) {
        let system = try await Setting.flag(Setting.coManagementEnabled, on: db)
        let organization = try await Organization.find(ticket.organizationId, on: db)?.coManagementEnabled ?? false
        return (system, organization)
    }

    static func register(_ api: any RoutesBuilder) {
        let ticket = api.grouped("tickets", ":id")
        ticket.get("sla") { req async throws -> TicketSLADTO in
            try await get(req.id("id", TicketService.what), by: req.principal, on: req.db)
        }
        ticket.post("handoff") { req async throws -> TicketSLADTO in
            try await handOff(
                req.id("id", TicketService.what), ifMatch: req.headers.first(name: .ifMatch), by: req.principal, on: req.db,
                { try req.content.decode(HandoffInput.self) })
        }
    }

    /// `POST /api/v1/tickets/{id}/handoff` (and the ticket page's button): the ticket must be visible before
    /// the body is read (a hidden one is a 404 whatever is sent), then the body is checked and the pipeline
    /// hands it over; answers the clocks after.
    static func handOff(
        _ id: UUID, ifMatch: String?, by principal: Principal, on db: any Database, _ body: () throws -> HandoffInput
    ) async throws -> TicketSLADTO {
        _ = try await TicketService.visible(id, by: principal, on: db)
        let input = try body()
        var validator = FieldValidator()
        let to = validator.choice(input.to, "to", as: ResponsibleSide.self)
        let reason = validator.text(input.reason, "reason", max: 500, required: false)
        try validator.check()
        guard let to else { throw TandemError.invalid("to", "is required") }
        try await TicketPipeline.handOff(id, to: to, reason: reason?.nonEmpty, ifMatch: ifMatch, by: principal, on: db)
        return try await get(id, by: principal, on: db)
    }
}

struct HandoffInput: Decodable, Sendable {
    var to: String?
    var reason: String?
}

struct TicketSLADTO: Content {
    var ticketId: String
    var responsibleSide: ResponsibleSide
    /// Whether the ticket can be handed to the client's IT now.
    var coManaged: Bool
    /// Nil: the organization has no SLA policy for the ticket's priority (`targets` is then empty), or the reader does
    /// not read SLA policies (co-managing users, contacts: the targets still show).
    var policyId: String?
    /// Nil also for a reader who does not read internal locations.
    var internalLocationId: String?
    var timeZone: String
    var targets: [SLATargetDTO]
}

struct SLATargetDTO: Content {
    var target: SLATarget
    var state: SLATargetClock.State
    var targetMinutes: Int
    var elapsedMinutes: Int
    var remainingMinutes: Int
    var dueAt: Date?
    var approachedAt: Date?
    var breachedAt: Date?
    var stoppedAt: Date?
    var breachedBy: ResponsibleSide?
    var sides: [SideDTO]

    struct SideDTO: Content {
        var side: ResponsibleSide
        var elapsedMinutes: Int
        var withinTarget: Bool
    }

    init(_ clock: SLATargetClock) {
        target = clock.target
        state = clock.state
        targetMinutes = Int(clock.targetSeconds / 60)
        elapsedMinutes = clock.elapsedMinutes
        remainingMinutes = clock.remainingMinutes
        dueAt = clock.dueAt
        approachedAt = clock.approachedAt
        breachedAt = clock.breachedAt
        stoppedAt = clock.stoppedAt
        breachedBy = clock.breachedBy
        sides = ResponsibleSide.allCases.map { SideDTO(side: $0, elapsedMinutes: clock.elapsedMinutes($0), withinTarget: clock.withinTarget($0)) }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// A configuration collection: staff read it, the kind's admin permission changes it (`AccessPolicy.configurationScope`).
protocol ConfigurationCollection: CRUDCollection {
    static var kind: ConfigurationKind { get }
    static func name(_ row: Row) -> String
}

extension ConfigurationCollection {
    static var table: ScopeTable { ScopeTable(name: Row.schema, columns: [.id: "id"]) }

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.configurationScope(for: principal, kind, operation)
    }

    static func authorizeCreate(_ principal: Principal) throws { try AccessPolicy.authorizeConfiguration(principal, kind, .create) }

    static func authorize(_ operation: AccessOperation, _ row: Row, by principal: Principal, on db: any Database) throws {
        try AccessPolicy.authorizeConfiguration(principal, kind, operation)
    }

    static func organizationId(_ row: Row) -> UUID? { nil }

    static func clash(_ row: Row) -> String? { "a \(what) named '\(name(row))' already exists" }
}

/// `/api/v1/queues`, `/teams`, `/roles`, `/internal-locations`, `/departments`.
enum ConfigurationAPI {
    static func register(_ api: any RoutesBuilder) {
        CRUD.register(QueuesCollection.self, api)
        CRUD.register(TeamsCollection.self, api)
        CRUD.register(RolesCollection.self, api)
        CRUD.register(InternalLocationsCollection.self, api)
        CRUD.register(DepartmentsCollection.self, api)
    }

    static func inUse(_ count: Int, _ message: String) throws {
        if count > 0 { throw TandemError.conflict(message) }
    }
}

enum QueuesCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.queues
    static let path: PathComponent = "queues"
    static let what = "queue"

    static func dto(_ row: Queue, on db: any Database) async throws -> QueueDTO {
        let members = try await QueueMember.query(on: db).filter(\.$queueId == row.id!).all().map(\.principalId.uuidString)
        return QueueDTO(id: row.id!.uuidString, name: row.name, memberIds: members.sorted())
    }

    static func apply(_ input: QueueInput, to row: Queue, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        let members = input.memberIds.value.map { $0.compactMap { validator.id($0, "memberIds") } }
        try validator.check()
        guard let members else { return nil }
        try await Lookup.requireExisting(Resource.self, members, field: "memberIds", on: req.db)
        let queueId = row.id!
        return { db in
            try await QueueMember.query(on: db).filter(\.$queueId == queueId).delete()
            for member in Set(members) { try await QueueMember(queueId: queueId, principalId: member).create(on: db) }
            return []
        }
    }

    static func prepareDelete(_ row: Queue, on db: any Database) async throws {
        try ConfigurationAPI.inUse(try await Ticket.query(on: db).filter(\.$queueId == row.id!).count(), "tickets are in this queue; move them first")
    }

    static func name(_ row: Queue) -> String { row.name }
}

enum TeamsCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.teams
    static let path: PathComponent = "teams"
    static let what = "team"

    static func dto(_ row: Team, on db: any Database) async throws -> TeamDTO {
        let members = try await TeamMember.query(on: db).filter(\.$teamId == row.id!).sort(\.$id).all()
        return TeamDTO(
            id: row.id!.uuidString, name: row.name, members: members.map { TeamMemberDTO(principalId: $0.principalId.uuidString, access: $0.access) })
    }

    static func apply(_ input: TeamInput, to row: Team, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        let members: [(UUID, TeamAccess)]? = input.members.value.map { list in
            list.enumerated().compactMap { index, member in
                let id = validator.id(member.principalId, "members[\(index)].principalId")
                let access = validator.choice(member.access, "members[\(index)].access", as: TeamAccess.self)
                guard let id, let access else { return nil }
                return (id, access)
            }
        }
        if let members, Set(members.map(\.0)).count != members.count { validator.fail("members", "lists the same member twice") }
        try validator.check()
        guard let members else { return nil }
        try await Lookup.requireExisting(Resource.self, members.map(\.0), field: "members", on: req.db)
        let teamId = row.id!
        let rows = members.map { (principal: $0.0, access: $0.1) }
        return { db in
            try await TeamMember.query(on: db).filter(\.$teamId == teamId).delete()
            for member in rows { try await TeamMember(teamId: teamId, principalId: member.principal, access: member.access).create(on: db) }
            return []
        }
    }

    static func prepareDelete(_ row: Team, on db: any Database) async throws {
        try ConfigurationAPI.inUse(try await Ticket.query(on: db).filter(\.$teamId == row.id!).count(), "tickets belong to this team; move them first")
    }

    static func name(_ row: Team) -> String { row.name }
}

enum RolesCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.roles
    static let path: PathComponent = "roles"
    static let what = "role"

    static func dto(_ row: Role, on db: any Database) async throws -> RoleDTO { RoleDTO(row) }

    /// Rates are billing: left out for those who may not see it.
    static func shown(_ dto: RoleDTO, to principal: Principal, on db: any Database) async throws -> RoleDTO {
        guard !AccessPolicy.seesBilling(principal) else { return dto }
        var shown = dto
        shown.hourlyRate = nil
        shown.blockHourMultiplier = nil
        return shown
    }

    static func apply(_ input: RoleInput, to row: Role, creating: Bool, _ req: Request) throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        if creating || !input.hourlyRate.isAbsent,
            let rate = exact(input.hourlyRate.value, "hourlyRate", BillingRole.rateRange, &validator)
        {
            row.hourlyRate = rate
        }
        if creating || !input.blockHourMultiplier.isAbsent,
            let multiplier = exact(input.blockHourMultiplier.value ?? (creating ? 1 : nil), "blockHourMultiplier", BillingRole.multiplierRange, &validator)
        {
            row.blockHourMultiplier = multiplier
        }
        try validator.check()
        return nil
    }

    /// A required exact number within `bounds`, with at most four decimal places (more are refused, never rounded).
    static func exact(_ value: Decimal?, _ field: String, _ bounds: ClosedRange<BillingDecimal>, _ validator: inout FieldValidator) -> BillingDecimal? {
        guard let value else {
            validator.fail(field, "is required")
            return nil
        }
        guard let exact = BillingDecimal(exactly: value) else {
            validator.fail(
                field,
                BillingDecimal.hasTooManyPlaces(value.description)
                    ? "must have at most four decimal places (more is not rounded)" : "must be between \(bounds.lowerBound) and \(bounds.upperBound)")
            return nil
        }
        guard bounds.contains(exact) else {
            validator.fail(field, "must be between \(bounds.lowerBound) and \(bounds.upperBound)")
            return nil
        }
        return exact
    }

    static func prepareDelete(_ row: Role, on db: any Database) async throws {
        try ConfigurationAPI.inUse(try await TimeEntry.query(on: db).filter(\.$roleId == row.id!).count(), "time entries use this role; it cannot be deleted")
        try ConfigurationAPI.inUse(
            try await CoManagingUserRole.query(on: db).filter(\.$roleId == row.id!).count(), "co-managing users have this role; it cannot be deleted")
    }

    static func name(_ row: Role) -> String { row.name }
}

enum InternalLocationsCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.internalLocations
    static let path: PathComponent = "internal-locations"
    static let what = "internal location"

    static func dto(_ row: InternalLocation, on db: any Database) async throws -> InternalLocationDTO { InternalLocationDTO(row) }

    static func apply(_ input: InternalLocationInput, to row: InternalLocation, creating: Bool, _ req: Request) throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        if creating || !input.timeZone.isAbsent, let zone = validator.text(input.timeZone.value, "timeZone", max: 64) {
            if TimeZone(identifier: zone) == nil {
                validator.fail("timeZone", "'\(zone)' is not an IANA time zone (such as America/New_York)")
            } else {
                row.timeZone = zone
            }
        }
        if creating || !input.businessHours.isAbsent {
            let days = input.businessHours.value ?? []
            for (index, day) in days.enumerated() {
                if !(1...7).contains(day.weekday) { validator.fail("businessHours[\(index)].weekday", "must be 1 (Monday) to 7 (Sunday)") }
                let start = BusinessDay.minutes(day.start), end = BusinessDay.minutes(day.end)
                if start == nil { validator.fail("businessHours[\(index)].start", "must be a time HH:MM") }
                if end == nil { validator.fail("businessHours[\(index)].end", "must be a time HH:MM") }
                // An end before the start runs past midnight (overnight hours); the same time would be no hours or all day.
                if let start, start == 24 * 60 { validator.fail("businessHours[\(index)].start", "must be before 24:00") }
                if let start, let end, start == end {
                    validator.fail("businessHours[\(index)]", "must not end when it starts (an end before the start runs past midnight)")
                }
            }
            if Set(days.map(\.weekday)).count != days.count { validator.fail("businessHours", "lists a weekday twice") }
            row.businessHours = days
        }
        if creating || !input.holidays.isAbsent {
            let holidays = input.holidays.value ?? []
            for (index, day) in holidays.enumerated() where !ISO8601.isCalendarDate(day) {
                validator.fail("holidays[\(index)]", "'\(day)' is not a date YYYY-MM-DD")
            }
            row.holidays = holidays
        }
        try validator.check()
        guard !creating, let id = row.id else { return nil }
        return { db in
            try await recheckTickets(at: id, on: db)
            return []
        }
    }

    /// The SLA clocks of the tickets at the location's sites run on its calendar: they are worked out again.
    static func recheckTickets(at location: UUID, on db: any Database) async throws {
        try await SLASchedule.recheck("t.site_id IN (SELECT id FROM sites WHERE internal_location_id = \(bind: location))", now: db.now, on: db)
    }

    /// Its sites fall back to all hours.
    static func prepareDelete(_ row: InternalLocation, on db: any Database) async throws {
        try await recheckTickets(at: row.requireID(), on: db)
    }

    static func name(_ row: InternalLocation) -> String { row.name }
}

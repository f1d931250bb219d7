import Fluent
import Foundation
import TandemCore
import Vapor

/// One configuration collection: its model, DTO, input, and how a body applies to a row.
protocol ConfigurationCollection {
    associatedtype Row: Model where Row.IDValue == UUID
    associatedtype DTO: Content
    associatedtype Input: Decodable & Sendable
    static var kind: ConfigurationKind { get }
    static var path: PathComponent { get }
    static var what: String { get }
    static func dto(_ row: Row, on db: any Database) async throws -> DTO
    /// Validates and applies the body; returns work to run inside the write transaction after the row is saved.
    static func apply(_ input: Input, to row: Row, creating: Bool, on db: any Database) async throws -> (@Sendable (any Database) async throws -> Void)?
    /// Refuses a delete that would break references.
    static func checkDelete(_ row: Row, on db: any Database) async throws
    static func name(_ row: Row) -> String
}

/// `/api/v1/queues`, `/teams`, `/roles`, `/internal-locations`: the same five routes each.
enum ConfigurationAPI {
    static func register(_ api: any RoutesBuilder) {
        register(QueuesCollection.self, api)
        register(TeamsCollection.self, api)
        register(RolesCollection.self, api)
        register(InternalLocationsCollection.self, api)
    }

    static func register<C: ConfigurationCollection>(_ collection: C.Type, _ api: any RoutesBuilder) {
        let routes = api.grouped(C.path)
        let table = ScopeTable(name: C.Row.schema, columns: [.id: "id"])
        func visible(_ req: Request) async throws -> C.Row {
            try await Lookup.visible(
                C.Row.self, req.id("id", C.what), scope: AccessPolicy.configurationScope(for: req.principal, C.kind, .view), table: table, what: C.what,
                on: req.db)
        }
        routes.get { req async throws -> ListPage<C.DTO> in
            let (items, next) = try await C.Row.query(on: req.db).filter(AccessPolicy.configurationScope(for: req.principal, C.kind, .view), on: table).page(
                PageRequest(req))
            var dtos: [C.DTO] = []
            for item in items { dtos.append(try await C.dto(item, on: req.db)) }
            return ListPage(items: dtos, nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeConfiguration(principal, C.kind, .create)
            let row = C.Row()
            row.id = .v7()
            let after = try await C.apply(req.content.decode(C.Input.self), to: row, creating: true, on: req.db)
            try await save(C.self, row, creating: true, before: nil, after: after, by: principal, on: req.db)
            return try await C.dto(row, on: req.db).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> C.DTO in
            try await C.dto(visible(req), on: req.db)
        }
        routes.patch(":id") { req async throws -> C.DTO in
            let principal = try req.principal
            let row = try await visible(req)
            try AccessPolicy.authorizeConfiguration(principal, C.kind, .edit)
            let before = try await C.dto(row, on: req.db)
            let after = try await C.apply(req.content.decode(C.Input.self), to: row, creating: false, on: req.db)
            try await save(C.self, row, creating: false, before: before, after: after, by: principal, on: req.db)
            return try await C.dto(row, on: req.db)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let row = try await visible(req)
            try AccessPolicy.authorizeConfiguration(principal, C.kind, .delete)
            let before = try await C.dto(row, on: req.db)
            try await req.db.write { db in
                try await C.checkDelete(row, on: db)
                try await row.delete(on: db)
                try await Audit.record("deleted", C.Row.schema, id: row.id, by: principal, before: before, on: db)
            }
            return .noContent
        }
    }

    static func save<C: ConfigurationCollection>(
        _ collection: C.Type, _ row: C.Row, creating: Bool, before: C.DTO?, after: (@Sendable (any Database) async throws -> Void)?, by principal: Principal,
        on db: any Database
    ) async throws {
        try await mapUniqueViolation("a \(C.what) named '\(C.name(row))' already exists") {
            try await db.write { db in
                try await row.save(on: db)
                try await after?(db)
                try await Audit.record(
                    creating ? "created" : "updated", C.Row.schema, id: row.id, by: principal, before: before, after: try await C.dto(row, on: db), on: db)
            }
        }
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

    static func apply(_ input: QueueInput, to row: Queue, creating: Bool, on db: any Database) async throws -> (@Sendable (any Database) async throws -> Void)?
    {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        let members = input.memberIds.value.map { $0.compactMap { validator.id($0, "memberIds") } }
        try validator.check()
        guard let members else { return nil }
        try await Lookup.requireExisting(Resource.self, members, field: "memberIds", on: db)
        let queueId = row.id!
        return { db in
            try await QueueMember.query(on: db).filter(\.$queueId == queueId).delete()
            for member in Set(members) { try await QueueMember(queueId: queueId, principalId: member).create(on: db) }
        }
    }

    static func checkDelete(_ row: Queue, on db: any Database) async throws {
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

    static func apply(_ input: TeamInput, to row: Team, creating: Bool, on db: any Database) async throws -> (@Sendable (any Database) async throws -> Void)? {
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
        try await Lookup.requireExisting(Resource.self, members.map(\.0), field: "members", on: db)
        let teamId = row.id!
        let rows = members.map { (principal: $0.0, access: $0.1) }
        return { db in
            try await TeamMember.query(on: db).filter(\.$teamId == teamId).delete()
            for member in rows { try await TeamMember(teamId: teamId, principalId: member.principal, access: member.access).create(on: db) }
        }
    }

    static func checkDelete(_ row: Team, on db: any Database) async throws {
        try ConfigurationAPI.inUse(try await Ticket.query(on: db).filter(\.$teamId == row.id!).count(), "tickets belong to this team; move them first")
    }

    static func name(_ row: Team) -> String { row.name }
}

enum RolesCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.roles
    static let path: PathComponent = "roles"
    static let what = "role"

    static func dto(_ row: Role, on db: any Database) async throws -> RoleDTO { RoleDTO(row) }

    static func apply(_ input: RoleInput, to row: Role, creating: Bool, on db: any Database) async throws -> (@Sendable (any Database) async throws -> Void)? {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        if creating || !input.hourlyRate.isAbsent, let rate = validator.range(input.hourlyRate.value, "hourlyRate", 0...100_000) { row.hourlyRate = rate }
        if creating || !input.blockHourMultiplier.isAbsent,
            let multiplier = validator.range(input.blockHourMultiplier.value ?? (creating ? 1 : nil), "blockHourMultiplier", 0...100)
        {
            row.blockHourMultiplier = multiplier
        }
        try validator.check()
        return nil
    }

    static func checkDelete(_ row: Role, on db: any Database) async throws {
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

    static func apply(_ input: InternalLocationInput, to row: InternalLocation, creating: Bool, on db: any Database) async throws -> (
        @Sendable (any Database) async throws -> Void
    )? {
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
                let start = BusinessHours.minutes(day.start), end = BusinessHours.minutes(day.end)
                if start == nil { validator.fail("businessHours[\(index)].start", "must be a time HH:MM") }
                if end == nil { validator.fail("businessHours[\(index)].end", "must be a time HH:MM") }
                if let start, let end, start >= end { validator.fail("businessHours[\(index)]", "must end after it starts") }
            }
            if Set(days.map(\.weekday)).count != days.count { validator.fail("businessHours", "lists a weekday twice") }
            row.businessHours = days
        }
        if creating || !input.holidays.isAbsent {
            let holidays = input.holidays.value ?? []
            for (index, day) in holidays.enumerated() where !BusinessHours.isDate(day) {
                validator.fail("holidays[\(index)]", "'\(day)' is not a date YYYY-MM-DD")
            }
            row.holidays = holidays
        }
        try validator.check()
        return nil
    }

    static func checkDelete(_ row: InternalLocation, on db: any Database) async throws {}

    static func name(_ row: InternalLocation) -> String { row.name }
}

enum BusinessHours {
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0...59).contains(minutes), hours * 60 + minutes <= 1440
        else { return nil }
        return hours * 60 + minutes
    }

    /// A day of the calendar: `2026-02-30` is refused, not rolled over to March.
    static func isDate(_ text: String) -> Bool {
        ISO8601.isCalendarDate(text)
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// MSP resources: what `/api/v1/resources` and the `/admin/resources` pages do, each through here.
enum ResourceService {
    /// What a resource body changes besides the row: each nil when the body leaves it alone.
    struct Changes: Sendable {
        var password: String?
        /// `.some(nil)` lifts the restrictions ("allow use of all customers").
        var restrictions: [UUID]??
        var queues: [UUID]?
        var teams: [UUID]?
    }

    /// What deactivating a resource changes, worked out before it is done.
    struct DeactivationImpact: Sendable {
        /// Tickets it is an assignee of (as the asker may see them), and of those the ones left with no assignee.
        var tickets: Int
        var ticketsLeftUnassigned: Int
        var queues: [String]
        var teams: [String]
        /// Organizations whose account team it is on, and those it is the account manager of.
        var accountTeams: [String]
        var accountManaged: [String]
        var brokenRules: [String]
    }

    static func dto(_ resource: Resource, on db: any Database) async throws -> ResourceDTO {
        let id = resource.id!
        let restrictions = try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).all().map(\.organizationId)
        let queues = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId)
        return ResourceDTO(resource, restrictions: restrictions, queueIds: queues)
    }

    /// The teams a resource is a member of (team membership lives on the team; the resource form shows it).
    static func teamIds(of resourceId: UUID, on db: any Database) async throws -> [UUID] {
        try await TeamMember.query(on: db).filter(\.$principalId == resourceId).all().map(\.teamId)
    }

    /// A new resource comes with its password: a credential like any other.
    static func authorizeCreate(_ principal: Principal) throws {
        try AccessPolicy.authorizeConfiguration(principal, .resources, .create)
        try AccessPolicy.authorizeCredentialChange(principal, .password)
    }

    static func create(_ input: ResourceInput, by principal: Principal, on db: any Database, passwords: AsyncPasswordHasher) async throws -> Resource {
        try authorizeCreate(principal)
        let resource = Resource()
        resource.id = .v7()
        resource.active = true
        resource.clientRestricted = false
        let changes = try await apply(input, to: resource, creating: true, by: principal, on: db)
        resource.passwordHash = try await passwords.hash(changes.password!)
        try await save(resource, changes, creating: true, by: principal, on: db)
        return resource
    }

    static func update(_ resource: Resource, _ input: ResourceInput, by principal: Principal, on db: any Database, passwords: AsyncPasswordHasher) async throws
    {
        try AccessPolicy.authorizeConfiguration(principal, .resources, .edit)
        // Taken before `apply` changes the model, so the audit's before is the real one.
        let before = try await dto(resource, on: db)
        let changes = try await apply(input, to: resource, creating: false, by: principal, on: db)
        if changes.password != nil { try AccessPolicy.authorizeCredentialChange(principal, .password) }
        if resource.username != before.username { try AccessPolicy.authorizeCredentialChange(principal, .loginName) }
        if let password = changes.password { resource.passwordHash = try await passwords.hash(password) }
        try await save(resource, changes, creating: false, before: before, by: principal, on: db)
    }

    /// Staff who worked tickets stay in history: they are deactivated, not removed. Their tickets lose them as
    /// an assignee, they leave their queues, teams and account teams (and stop being an account manager), their
    /// sessions and tokens end, and rules naming them break.
    static func deactivate(_ resource: Resource, by principal: Principal, on db: any Database) async throws {
        try AccessPolicy.authorizeConfiguration(principal, .resources, .delete)
        guard resource.id != principal.id else { throw TandemError.conflict("you cannot delete yourself") }
        let id = resource.id!
        let before = try await dto(resource, on: db)
        try await db.write { db in
            let unassigned = try await TicketPipeline.unassign(id, by: principal, on: db)
            try await QueueMember.query(on: db).filter(\.$principalId == id).delete()
            try await TeamMember.query(on: db).filter(\.$principalId == id).delete()
            try await AccountTeams.remove(id, on: db)
            try await Sessions.end(of: id, on: db)
            resource.active = false
            try await resource.save(on: db)
            try await Automations.recheck(on: db)
            try await Audit.record("deleted", Resource.schema, id: id, by: principal, before: before, along: unassigned, on: db)
        }
    }

    /// What `deactivate` would change. The rules it would break are found by deactivating inside a
    /// transaction that is then rolled back, so the answer is the deactivation's own.
    static func deactivationImpact(_ resource: Resource, shownTo principal: Principal, on db: any Database) async throws -> DeactivationImpact {
        let id = resource.id!
        var filter = TicketFilter()
        filter.assigneeId = id
        let tickets = try await TicketService.count(filter, by: principal, on: db)
        let assigned = try await TicketAssignee.query(on: db).filter(\.$principalId == id).all().map(\.ticketId)
        let others =
            try await assigned.isEmpty ? [] : TicketAssignee.query(on: db).filter(\.$ticketId ~~ assigned).filter(\.$principalId != id).all().map(\.ticketId)
        let lonely = Set(assigned).subtracting(others)
        var left = 0
        if !lonely.isEmpty {
            left = try await Ticket.query(on: db).filter(\.$id ~~ Array(lonely)).filter(AccessPolicy.ticketScope(for: principal), on: Ticket.scopeTable).count()
        }
        let queueIds = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId)
        let queues = try await queueIds.isEmpty ? [] : Queue.query(on: db).filter(\.$id ~~ queueIds).sort(\.$name).all().map(\.name)
        let memberOf = try await teamIds(of: id, on: db)
        let teams = try await memberOf.isEmpty ? [] : Team.query(on: db).filter(\.$id ~~ memberOf).sort(\.$name).all().map(\.name)
        var broken: [String] = []
        do {
            try await db.write { db in
                guard let copy = try await Resource.find(id, on: db) else { return }
                copy.active = false
                try await copy.save(on: db)
                throw Undone(brokenRules: try await Automations.recheck(on: db))
            }
        } catch let undone as Undone {
            broken = undone.brokenRules
        }
        let accounts = try await AccountTeams.organizations(of: id, on: db)
        return DeactivationImpact(
            tickets: tickets, ticketsLeftUnassigned: left, queues: queues, teams: teams, accountTeams: accounts.teams, accountManaged: accounts.managed,
            brokenRules: broken)
    }

    private struct Undone: Error {
        var brokenRules: [String]
    }

    /// Applies a resource body to the row; answers what it changes besides.
    static func apply(_ input: ResourceInput, to resource: Resource, creating: Bool, by principal: Principal, on db: any Database) async throws -> Changes {
        var validator = FieldValidator()
        var changes = Changes()
        if creating || !input.username.isAbsent, let username = Usernames.validate(input.username.value, &validator) { resource.username = username }
        if creating || !input.password.isAbsent {
            changes.password = validator.password(input.password.value)
        }
        if creating || !input.firstName.isAbsent, let value = validator.text(input.firstName.value, "firstName", max: 100) { resource.firstName = value }
        if creating || !input.lastName.isAbsent, let value = validator.text(input.lastName.value, "lastName", max: 100) { resource.lastName = value }
        if !input.email.isAbsent { resource.email = validator.email(input.email.value, "email") }
        if creating || !input.securityLevelId.isAbsent, let id = validator.id(input.securityLevelId.value, "securityLevelId") { resource.securityLevelId = id }
        if !input.active.isAbsent { resource.active = input.active.value ?? true }
        switch input.timeZone {
        case .absent: break
        case .null: resource.timeZone = nil
        case .value(let text):
            if let zone = validator.text(text, "timeZone", max: 64) {
                if TimeZone(identifier: zone) == nil {
                    validator.fail("timeZone", "'\(zone)' is not an IANA time zone (such as America/New_York)")
                } else {
                    resource.timeZone = zone
                }
            }
        }
        switch input.clientRestrictions {
        case .absent: break
        case .null: changes.restrictions = .some(nil)
        case .value(let texts): changes.restrictions = .some(texts.compactMap { validator.id($0, "clientRestrictions") })
        }
        changes.queues = input.queueIds.value.map { $0.compactMap { validator.id($0, "queueIds") } }
        changes.teams = input.teamIds.value.map { $0.compactMap { validator.id($0, "teamIds") } }
        try validator.check()
        if creating || !input.securityLevelId.isAbsent {
            guard let level = try await SecurityLevel.find(resource.securityLevelId, on: db) else {
                throw TandemError.invalid("securityLevelId", "no security level with this id")
            }
            if level.coManaged { throw TandemError.invalid("securityLevelId", "'\(level.name)' is a co-managed level; MSP resources need an MSP level") }
            try AccessPolicy.authorizeGrant(principal, level.permissions)
        }
        if let restrictions = changes.restrictions, let ids = restrictions {
            try await Lookup.requireExisting(Organization.self, ids, field: "clientRestrictions", on: db)
        }
        if let queues = changes.queues { try await Lookup.requireExisting(Queue.self, queues, field: "queueIds", on: db) }
        if let teams = changes.teams {
            // A team's members are the team's configuration: changing them asks what the teams API asks.
            try AccessPolicy.authorizeConfiguration(principal, .teams, .edit)
            try await Lookup.requireExisting(Team.self, teams, field: "teamIds", on: db)
        }
        return changes
    }

    static func save(_ resource: Resource, _ changes: Changes, creating: Bool, before: ResourceDTO? = nil, by principal: Principal, on db: any Database)
        async throws
    {
        let id = resource.id!
        if let restrictions = changes.restrictions { resource.clientRestricted = restrictions != nil }
        try await mapUniqueViolation("the username '\(resource.username)' is taken") {
            try await db.write { db in
                try await resource.save(on: db)
                if let restrictions = changes.restrictions {
                    try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).delete()
                    for organizationId in Set(restrictions ?? []) {
                        try await ResourceClientRestriction(resourceId: id, organizationId: organizationId).create(on: db)
                    }
                }
                if let queues = changes.queues {
                    try await QueueMember.query(on: db).filter(\.$principalId == id).delete()
                    for queueId in Set(queues) { try await QueueMember(queueId: queueId, principalId: id).create(on: db) }
                }
                if let teams = changes.teams { try await setTeams(Set(teams), of: id, by: principal, on: db) }
                // A new password or a deactivation ends every session and token: re-activation revives none.
                if changes.password != nil && !creating || (before?.active == true && !resource.active) { try await Sessions.end(of: id, on: db) }
                if changes.password != nil && !creating { try await Audit.record("passwordSet", Resource.schema, id: id, by: principal, on: db) }
                let after = try await dto(resource, on: db)
                try await Audit.record(creating ? "created" : "updated", Resource.schema, id: id, by: principal, before: before, after: after, on: db)
            }
        }
    }

    /// Joins the resource to `teams` (as a full member) and takes it out of the others; each team changed is
    /// audited as the teams API audits a change of its members.
    private static func setTeams(_ teams: Set<UUID>, of resourceId: UUID, by principal: Principal, on db: any Database) async throws {
        let current = Set(try await teamIds(of: resourceId, on: db))
        for teamId in current.symmetricDifference(teams).sorted(by: { $0.uuidString < $1.uuidString }) {
            guard let team = try await Team.find(teamId, on: db) else { continue }
            let before = try await TeamsCollection.dto(team, on: db)
            if teams.contains(teamId) {
                try await TeamMember(teamId: teamId, principalId: resourceId, access: .full).create(on: db)
            } else {
                try await TeamMember.query(on: db).filter(\.$teamId == teamId).filter(\.$principalId == resourceId).delete()
            }
            let after = try await TeamsCollection.dto(team, on: db)
            try await Audit.record("updated", Team.schema, id: teamId, by: principal, before: before, after: after, on: db)
        }
    }
}

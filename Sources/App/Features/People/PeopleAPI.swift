import Fluent
import Foundation
import TandemCore
import Vapor

enum Usernames {
    /// At most 32 characters of letters, digits, dot, dash and underscore.
    static func validate(_ value: String?, _ validator: inout FieldValidator) -> String? {
        guard let text = validator.text(value, "username", max: 32) else { return nil }
        let lowered = text.lowercased()
        guard lowered.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            validator.fail("username", "may contain only letters, digits, '.', '-' and '_'")
            return nil
        }
        return lowered
    }
}

/// `/api/v1/security-levels` and `/api/v1/resources`.
enum PeopleAPI {
    static func register(_ api: any RoutesBuilder) {
        CRUD.register(SecurityLevelsCollection.self, api)
        registerResources(api.grouped("resources"))
    }

    static func config(_ req: Request, _ kind: ConfigurationKind, _ operation: AccessOperation) throws -> Scope {
        AccessPolicy.configurationScope(for: try req.principal, kind, operation)
    }

    static func visible<M: Model>(_ type: M.Type, _ req: Request, _ kind: ConfigurationKind, what: String) async throws -> M where M.IDValue == UUID {
        try await Lookup.visible(
            M.self, req.id("id", what), scope: config(req, kind, .view), table: ScopeTable(name: M.schema, columns: [.id: "id"]), what: what, on: req.db)
    }

    // MARK: Resources

    // Resources keep their own routes: a delete deactivates (their tickets are unassigned, their
    // sessions end) rather than deleting, and a create or a new username or password is a credential
    // change checked around the body, with a `passwordSet` entry before the resource's own.

    static func dto(_ resource: Resource, on db: any Database) async throws -> ResourceDTO {
        let id = resource.id!
        let restrictions = try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).all().map(\.organizationId)
        let queues = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId)
        return ResourceDTO(resource, restrictions: restrictions, queueIds: queues)
    }

    static func registerResources(_ routes: any RoutesBuilder) {
        let what = "resource"
        routes.get { req async throws -> ListPage<ResourceDTO> in
            let (items, next) = try await Resource.query(on: req.db).filter(config(req, .resources, .view), on: ScopeTable(name: Resource.schema, columns: [:]))
                .page(PageRequest(req))
            var dtos: [ResourceDTO] = []
            for item in items { dtos.append(try await dto(item, on: req.db)) }
            return ListPage(items: dtos, nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeConfiguration(principal, .resources, .create)
            // A new resource comes with its password: a credential like any other.
            try AccessPolicy.authorizeCredentialChange(principal, .password)
            let input = try req.content.decode(ResourceInput.self)
            let resource = Resource()
            resource.id = .v7()
            resource.active = true
            resource.clientRestricted = false
            let (password, restrictions, queues) = try await apply(input, to: resource, creating: true, by: principal, on: req.db)
            resource.passwordHash = try await req.password.async.hash(password!)
            try await save(resource, restrictions: restrictions, queues: queues, creating: true, by: principal, on: req.db)
            return try await dto(resource, on: req.db).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> ResourceDTO in
            try await dto(visible(Resource.self, req, .resources, what: what), on: req.db)
        }
        routes.patch(":id") { req async throws -> ResourceDTO in
            let principal = try req.principal
            let resource = try await visible(Resource.self, req, .resources, what: what)
            try AccessPolicy.authorizeConfiguration(principal, .resources, .edit)
            let input = try req.content.decode(ResourceInput.self)
            // Taken before `apply` changes the model, so the audit's before is the real one.
            let before = try await dto(resource, on: req.db)
            let (password, restrictions, queues) = try await apply(input, to: resource, creating: false, by: principal, on: req.db)
            if password != nil { try AccessPolicy.authorizeCredentialChange(principal, .password) }
            if resource.username != before.username { try AccessPolicy.authorizeCredentialChange(principal, .loginName) }
            if let password { resource.passwordHash = try await req.password.async.hash(password) }
            try await save(
                resource, restrictions: restrictions, queues: queues, creating: false, before: before, passwordSet: password != nil, by: principal, on: req.db)
            return try await dto(resource, on: req.db)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let resource = try await visible(Resource.self, req, .resources, what: what)
            try AccessPolicy.authorizeConfiguration(principal, .resources, .delete)
            guard resource.id != principal.id else { throw TandemError.conflict("you cannot delete yourself") }
            let id = resource.id!
            let before = try await dto(resource, on: req.db)
            try await req.db.write { db in
                // Staff who worked tickets stay in history: they are deactivated, not removed.
                let unassigned = try await TicketPipeline.unassign(id, by: principal, on: db)
                try await QueueMember.query(on: db).filter(\.$principalId == id).delete()
                try await TeamMember.query(on: db).filter(\.$principalId == id).delete()
                try await Sessions.end(of: id, on: db)
                resource.active = false
                try await resource.save(on: db)
                try await Automations.recheck(on: db)
                try await Audit.record("deleted", Resource.schema, id: id, by: principal, before: before, along: unassigned, on: db)
            }
            return .noContent
        }
    }

    /// Applies a resource body; returns the new password, client restrictions and queues when given.
    static func apply(_ input: ResourceInput, to resource: Resource, creating: Bool, by principal: Principal, on db: any Database) async throws -> (
        String?, [UUID]??, [UUID]?
    ) {
        var validator = FieldValidator()
        if creating || !input.username.isAbsent, let username = Usernames.validate(input.username.value, &validator) { resource.username = username }
        var password: String?
        if creating || !input.password.isAbsent {
            password = validator.password(input.password.value)
        }
        if creating || !input.firstName.isAbsent, let value = validator.text(input.firstName.value, "firstName", max: 100) { resource.firstName = value }
        if creating || !input.lastName.isAbsent, let value = validator.text(input.lastName.value, "lastName", max: 100) { resource.lastName = value }
        if !input.email.isAbsent { resource.email = validator.email(input.email.value, "email") }
        if creating || !input.securityLevelId.isAbsent, let id = validator.id(input.securityLevelId.value, "securityLevelId") { resource.securityLevelId = id }
        if !input.active.isAbsent { resource.active = input.active.value ?? true }
        var restrictions: [UUID]??
        switch input.clientRestrictions {
        case .absent: break
        case .null: restrictions = .some(nil)
        case .value(let texts): restrictions = .some(texts.compactMap { validator.id($0, "clientRestrictions") })
        }
        let queues = input.queueIds.value.map { $0.compactMap { validator.id($0, "queueIds") } }
        try validator.check()
        if creating || !input.securityLevelId.isAbsent {
            guard let level = try await SecurityLevel.find(resource.securityLevelId, on: db) else {
                throw TandemError.invalid("securityLevelId", "no security level with this id")
            }
            if level.coManaged { throw TandemError.invalid("securityLevelId", "'\(level.name)' is a co-managed level; MSP resources need an MSP level") }
            try AccessPolicy.authorizeGrant(principal, level.permissions)
        }
        if let restrictions, let ids = restrictions { try await Lookup.requireExisting(Organization.self, ids, field: "clientRestrictions", on: db) }
        if let queues { try await Lookup.requireExisting(Queue.self, queues, field: "queueIds", on: db) }
        return (password, restrictions, queues)
    }

    static func save(
        _ resource: Resource, restrictions: [UUID]??, queues: [UUID]?, creating: Bool, before: ResourceDTO? = nil, passwordSet: Bool = false,
        by principal: Principal, on db: any Database
    ) async throws {
        let id = resource.id!
        if let restrictions { resource.clientRestricted = restrictions != nil }
        try await mapUniqueViolation("the username '\(resource.username)' is taken") {
            try await db.write { db in
                try await resource.save(on: db)
                if let restrictions {
                    try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).delete()
                    for organizationId in Set(restrictions ?? []) {
                        try await ResourceClientRestriction(resourceId: id, organizationId: organizationId).create(on: db)
                    }
                }
                if let queues {
                    try await QueueMember.query(on: db).filter(\.$principalId == id).delete()
                    for queueId in Set(queues) { try await QueueMember(queueId: queueId, principalId: id).create(on: db) }
                }
                // A new password or a deactivation ends every session and token: re-activation revives none.
                if passwordSet || (before?.active == true && !resource.active) { try await Sessions.end(of: id, on: db) }
                if passwordSet { try await Audit.record("passwordSet", Resource.schema, id: id, by: principal, on: db) }
                let after = try await dto(resource, on: db)
                try await Audit.record(creating ? "created" : "updated", Resource.schema, id: id, by: principal, before: before, after: after, on: db)
            }
        }
    }
}

/// Custom levels start as a copy of another (`copyOf`) or from the permissions given; system levels
/// (`systemKey`) never change.
enum SecurityLevelsCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.securityLevels
    static let path: PathComponent = "security-levels"
    static let what = "security level"

    static func authorize(_ operation: AccessOperation, _ level: SecurityLevel, by principal: Principal, on db: any Database) throws {
        try AccessPolicy.authorizeConfiguration(principal, kind, operation)
        guard level.systemKey == nil else {
            throw TandemError.conflict(
                operation == .delete ? "system security levels cannot be deleted" : "system security levels cannot be edited; copy one to make a custom level")
        }
    }

    static func dto(_ row: SecurityLevel, on db: any Database) -> SecurityLevelDTO { SecurityLevelDTO(row) }

    static func apply(_ input: SecurityLevelInput, to level: SecurityLevel, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        let wasCoManaged = creating ? nil : level.coManaged
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { level.name = name }
        let copyOf = creating ? input.copyOf.value.flatMap { validator.id($0, "copyOf") } : nil
        if creating, copyOf == nil, input.permissions.value == nil { validator.fail("copyOf", "give the level to copy, or permissions") }
        if !creating, !input.copyOf.isAbsent { validator.fail("copyOf", "only applies when creating a level") }
        try validator.check()
        if creating {
            var source: SecurityLevel?
            if let copyOf {
                source = try await SecurityLevel.find(copyOf, on: req.db)
                if source == nil { throw TandemError.invalid("copyOf", "no security level with this id") }
            }
            level.systemKey = nil
            level.coManaged = input.coManaged.value ?? source?.coManaged ?? false
            level.permissions = (input.permissions.value ?? source?.permissions)!
        } else {
            if !input.coManaged.isAbsent { level.coManaged = input.coManaged.value ?? false }
            if let permissions = input.permissions.value { level.permissions = permissions }
        }
        try level.permissions.validate(coManaged: level.coManaged)
        try AccessPolicy.authorizeGrant(req.principal, level.permissions)
        if let wasCoManaged, level.coManaged != wasCoManaged, try await Resource.query(on: req.db).filter(\.$securityLevelId == level.id!).count() > 0 {
            throw TandemError.conflict("resources use this level; it cannot become a co-managed level")
        }
        return nil
    }

    static func prepareDelete(_ level: SecurityLevel, on db: any Database) async throws {
        let users =
            try await Resource.query(on: db).filter(\.$securityLevelId == level.id!).count()
            + CoManagingUser.query(on: db).filter(\.$securityLevelId == level.id!).count()
        if users > 0 { throw TandemError.conflict("the security level is in use; move its users to another level first") }
    }

    static func name(_ row: SecurityLevel) -> String { row.name }
}

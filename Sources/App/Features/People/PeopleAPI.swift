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
        registerSecurityLevels(api.grouped("security-levels"))
        registerResources(api.grouped("resources"))
    }

    static func config(_ req: Request, _ kind: ConfigurationKind, _ operation: AccessOperation) throws -> Scope {
        AccessPolicy.configurationScope(for: try req.principal, kind, operation)
    }

    static func visible<M: Model>(_ type: M.Type, _ req: Request, _ kind: ConfigurationKind, what: String) async throws -> M where M.IDValue == UUID {
        try await Lookup.visible(
            M.self, req.id("id", what), scope: config(req, kind, .view), table: ScopeTable(name: M.schema, columns: [.id: "id"]), what: what, on: req.db)
    }

    // MARK: Security levels

    static func registerSecurityLevels(_ routes: any RoutesBuilder) {
        let what = "security level"
        routes.get { req async throws -> ListPage<SecurityLevelDTO> in
            let (items, next) = try await SecurityLevel.query(on: req.db).filter(
                config(req, .securityLevels, .view), on: ScopeTable(name: SecurityLevel.schema, columns: [:])
            ).page(PageRequest(req))
            return ListPage(items: items.map(SecurityLevelDTO.init), nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeConfiguration(principal, .securityLevels, .create)
            let level = try await createLevel(req.content.decode(SecurityLevelInput.self), by: principal, on: req.db)
            return try await SecurityLevelDTO(level).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> SecurityLevelDTO in
            SecurityLevelDTO(try await visible(SecurityLevel.self, req, .securityLevels, what: what))
        }
        routes.patch(":id") { req async throws -> SecurityLevelDTO in
            let principal = try req.principal
            let level = try await visible(SecurityLevel.self, req, .securityLevels, what: what)
            try AccessPolicy.authorizeConfiguration(principal, .securityLevels, .edit)
            guard level.systemKey == nil else { throw TandemError.conflict("system security levels cannot be edited; copy one to make a custom level") }
            let input = try req.content.decode(SecurityLevelInput.self)
            let before = SecurityLevelDTO(level)
            var validator = FieldValidator()
            if !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { level.name = name }
            if !input.coManaged.isAbsent { level.coManaged = input.coManaged.value ?? false }
            if let permissions = input.permissions.value { level.permissions = permissions }
            if !input.copyOf.isAbsent { validator.fail("copyOf", "only applies when creating a level") }
            try validator.check()
            try level.permissions.validate(coManaged: level.coManaged)
            try AccessPolicy.authorizeGrant(principal, level.permissions)
            if level.coManaged != before.coManaged, try await Resource.query(on: req.db).filter(\.$securityLevelId == level.id!).count() > 0 {
                throw TandemError.conflict("resources use this level; it cannot become a co-managed level")
            }
            try await mapUniqueViolation("a security level named '\(level.name)' already exists") {
                try await req.db.write { db in
                    try await level.save(on: db)
                    try await Audit.record("updated", SecurityLevel.schema, id: level.id, by: principal, before: before, after: SecurityLevelDTO(level), on: db)
                }
            }
            return SecurityLevelDTO(level)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let level = try await visible(SecurityLevel.self, req, .securityLevels, what: what)
            try AccessPolicy.authorizeConfiguration(principal, .securityLevels, .delete)
            guard level.systemKey == nil else { throw TandemError.conflict("system security levels cannot be deleted") }
            let id = level.id!
            try await req.db.write { db in
                let users =
                    try await Resource.query(on: db).filter(\.$securityLevelId == id).count()
                    + CoManagingUser.query(on: db).filter(\.$securityLevelId == id).count()
                if users > 0 {
                    throw TandemError.conflict("the security level is in use; move its users to another level first")
                }
                try await level.delete(on: db)
                try await Audit.record("deleted", SecurityLevel.schema, id: id, by: principal, before: SecurityLevelDTO(level), on: db)
            }
            return .noContent
        }
    }

    /// A custom level, copied from `copyOf` or given its permissions; the API and the admin pages create levels here.
    static func createLevel(_ input: SecurityLevelInput, by principal: Principal, on db: any Database) async throws -> SecurityLevel {
        try AccessPolicy.authorizeConfiguration(principal, .securityLevels, .create)
        var validator = FieldValidator()
        let name = validator.text(input.name.value, "name", max: 100)
        let copyOf = input.copyOf.value.flatMap { validator.id($0, "copyOf") }
        if copyOf == nil, input.permissions.value == nil { validator.fail("copyOf", "give the level to copy, or permissions") }
        try validator.check()
        var permissions = input.permissions.value
        var coManaged = input.coManaged.value
        if let copyOf {
            guard let source = try await SecurityLevel.find(copyOf, on: db) else { throw TandemError.invalid("copyOf", "no security level with this id") }
            permissions = permissions ?? source.permissions
            coManaged = coManaged ?? source.coManaged
        }
        try permissions!.validate(coManaged: coManaged ?? false)
        try AccessPolicy.authorizeGrant(principal, permissions!)
        let level = SecurityLevel()
        level.id = .v7()
        level.name = name!
        level.systemKey = nil
        level.coManaged = coManaged ?? false
        level.permissions = permissions!
        try await mapUniqueViolation("a security level named '\(name!)' already exists") {
            try await db.write { db in
                try await level.create(on: db)
                try await Audit.record("created", SecurityLevel.schema, id: level.id, by: principal, after: SecurityLevelDTO(level), on: db)
            }
        }
        return level
    }

    // MARK: Resources

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

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

    // Resources keep their own routes (`ResourceService`): a delete deactivates (their tickets are
    // unassigned, their sessions end) rather than deleting, and a create or a new username or password is a
    // credential change checked around the body, with a `passwordSet` entry before the resource's own.

    static func registerResources(_ routes: any RoutesBuilder) {
        let what = "resource"
        routes.get { req async throws -> ListPage<ResourceDTO> in
            let (items, next) = try await Resource.query(on: req.db).filter(config(req, .resources, .view), on: ScopeTable(name: Resource.schema, columns: [:]))
                .page(PageRequest(req))
            var dtos: [ResourceDTO] = []
            for item in items { dtos.append(try await ResourceService.dto(item, on: req.db)) }
            return ListPage(items: dtos, nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            try ResourceService.authorizeCreate(principal)
            let input = try req.content.decode(ResourceInput.self)
            let resource = try await ResourceService.create(input, by: principal, on: req.db, passwords: req.password.async)
            return try await ResourceService.dto(resource, on: req.db).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> ResourceDTO in
            try await ResourceService.dto(visible(Resource.self, req, .resources, what: what), on: req.db)
        }
        routes.patch(":id") { req async throws -> ResourceDTO in
            let principal = try req.principal
            let resource = try await visible(Resource.self, req, .resources, what: what)
            try AccessPolicy.authorizeConfiguration(principal, .resources, .edit)
            let input = try req.content.decode(ResourceInput.self)
            try await ResourceService.update(resource, input, by: principal, on: req.db, passwords: req.password.async)
            return try await ResourceService.dto(resource, on: req.db)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            let resource = try await visible(Resource.self, req, .resources, what: what)
            try await ResourceService.deactivate(resource, by: req.principal, on: req.db)
            return .noContent
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

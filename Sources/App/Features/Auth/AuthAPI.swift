import Fluent
import Foundation
import TandemCore
import Vapor

struct LoginInput: Decodable, Sendable {
    var username: String
    var password: String
    var totp: String?
}

struct PrincipalDTO: Content {
    var id: String
    var kind: String
    var displayName: String
    var securityLevelId: String?
    var permissions: Permissions
    var clientRestrictions: [String]?
    var organizationId: String?

    init(_ principal: Principal) {
        id = principal.id.uuidString
        kind = principal.kind.rawValue
        displayName = principal.displayName
        securityLevelId = principal.securityLevelId?.uuidString
        permissions = principal.permissions
        clientRestrictions = principal.clientRestrictions.map { $0.map(\.uuidString).sorted() }
        organizationId = principal.organizationId?.uuidString
    }
}

struct TokenDTO: Content {
    var token: String
    var expiresAt: Date
    var principal: PrincipalDTO
}

struct PersonalTokenInput: Decodable, Sendable {
    var name: String
    var expiresInDays: Int?
}

struct PersonalTokenDTO: Content {
    var id: String
    var name: String?
    var token: String?
    var expiresAt: Date
    var createdAt: Date?
}

/// Password login, rate limited per username and per address, kept in the database.
enum Login {
    static let lifetime: TimeInterval = 12 * 3600
    static let window: TimeInterval = 15 * 60
    static let maxFailuresPerUsername = 5
    static let maxFailuresPerAddress = 50

    /// Checks the credentials and returns the principal; counts failures; 429 past the limit.
    static func verify(username rawUsername: String, password: String, totp: String? = nil, address: String, on db: any Database, passwords: AsyncPasswordHasher) async throws -> (id: UUID, kind: PrincipalKind) {
        // No username holds a control character, and PostgreSQL text cannot even store a NUL to count the failure.
        guard !rawUsername.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw TandemError.invalid("username", "must not contain control characters")
        }
        let username = try await normalize(rawUsername, on: db)
        let since = Date().addingTimeInterval(-window)
        let byName = try await LoginFailure.query(on: db).filter(\.$username == username).filter(\.$at > since).count()
        let byAddress = try await LoginFailure.query(on: db).filter(\.$address == address).filter(\.$at > since).count()
        if byName >= maxFailuresPerUsername || byAddress >= maxFailuresPerAddress {
            throw TandemError.rateLimited(retryAfterSeconds: Int(window))
        }
        if let found = try await check(username: username, password: password, on: db, passwords: passwords) {
            guard found.kind == .coManagingUser else { return found }
            do {
                try await TwoFactor.checkLogin(userId: found.id, code: totp, on: db)
                return found
            } catch TandemError.totpRequired(let detail) {
                // A wrong code counts against the limit like a wrong password; asking for one does not.
                if let totp, !totp.isEmpty { try await recordFailure(username: username, address: address, on: db) }
                throw TandemError.totpRequired(detail)
            }
        }
        try await recordFailure(username: username, address: address, on: db)
        throw TandemError.unauthorized("The username or password is wrong.")
    }

    static func recordFailure(username: String, address: String, on db: any Database) async throws {
        let failure = LoginFailure()
        failure.id = .v7()
        failure.username = username
        failure.address = address
        failure.at = Date()
        try await failure.create(on: db)
    }

    /// `user@<tenant domain>` logs in as `user`; other addresses are contacts' emails.
    static func normalize(_ username: String, on db: any Database) async throws -> String {
        let lowered = username.trimmingCharacters(in: .whitespaces).lowercased()
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value.lowercased() ?? ""
        if !domain.isEmpty, lowered.hasSuffix("@" + domain) { return String(lowered.dropLast(domain.count + 1)) }
        return lowered
    }

    private static func check(username: String, password: String, on db: any Database, passwords: AsyncPasswordHasher) async throws -> (id: UUID, kind: PrincipalKind)? {
        if let resource = try await Resource.query(on: db).filter(\.$username == username).filter(\.$active == true).first() {
            return try await passwords.verify(password, created: resource.passwordHash) ? (resource.id!, .resource) : nil
        }
        if let user = try await CoManagingUser.query(on: db).filter(\.$username == username).filter(\.$active == true).filter(\.$erased == false).first() {
            return try await passwords.verify(password, created: user.passwordHash) ? (user.id!, .coManagingUser) : nil
        }
        if username.contains("@"), let contact = try await Contact.query(on: db).filter(\.$email == username).first(), let hash = contact.portalPasswordHash {
            return try await passwords.verify(password, created: hash) ? (contact.id!, .contact) : nil
        }
        // Spend the same time on unknown users, so timing does not reveal which usernames exist.
        _ = try? await passwords.hash(password)
        return nil
    }
}

enum AuthAPI {
    static func register(_ api: any RoutesBuilder) {
        api.post("auth", "token") { req async throws -> TokenDTO in
            let input = try req.content.decode(LoginInput.self)
            let found = try await Login.verify(username: input.username, password: input.password, totp: input.totp, address: req.remoteAddress?.ipAddress ?? "unknown",
                                               on: req.db, passwords: req.password.async)
            let (secret, token) = try await Tokens.issue(for: found, kind: .login, lifetime: Login.lifetime, on: req.db)
            guard let principal = try await PrincipalLoader.load(id: found.id, kind: found.kind, on: req.db) else {
                throw TandemError.unauthorized("The username or password is wrong.")
            }
            return TokenDTO(token: secret, expiresAt: token.expiresAt, principal: PrincipalDTO(principal))
        }
        api.post("auth", "logout") { req async throws -> HTTPStatus in
            guard let authenticated = req.authenticated else { throw TandemError.unauthorized("Not logged in.") }
            try await APIToken.query(on: req.db).filter(\.$id == authenticated.tokenId).delete()
            return .noContent
        }
        api.get("me") { req async throws -> PrincipalDTO in
            PrincipalDTO(try req.principal)
        }
        let tokens = api.grouped("me", "api-tokens")
        tokens.get { req async throws -> ListPage<PersonalTokenDTO> in
            let principal = try req.principal
            let (items, next) = try await APIToken.query(on: req.db).filter(\.$principalId == principal.id)
                .filter(\.$kind == APIToken.Kind.personal.rawValue).page(PageRequest(req))
            return ListPage(items: items.map { PersonalTokenDTO(id: $0.id!.uuidString, name: $0.name, token: nil, expiresAt: $0.expiresAt, createdAt: $0.createdAt) }, nextCursor: next)
        }
        tokens.post { req async throws -> Response in
            let principal = try req.principal
            let input = try req.content.decode(PersonalTokenInput.self)
            var validator = FieldValidator()
            let name = validator.text(input.name, "name", max: 100)
            let days = validator.range(input.expiresInDays ?? 90, "expiresInDays", 1...366)
            try validator.check()
            let (secret, token) = try await Tokens.issue(for: (principal.id, principal.kind), kind: .personal, name: name, lifetime: TimeInterval(days!) * 86400, on: req.db)
            try await Audit.record("created", "api_token", id: token.id, by: principal, after: ["name": name], on: req.db)
            return try await PersonalTokenDTO(id: token.id!.uuidString, name: name, token: secret, expiresAt: token.expiresAt, createdAt: token.createdAt)
                .encodeResponse(status: .created, for: req)
        }
        tokens.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let id = try req.id("id", "API token")
            guard let token = try await APIToken.query(on: req.db).filter(\.$id == id).filter(\.$principalId == principal.id)
                .filter(\.$kind == APIToken.Kind.personal.rawValue).first() else { throw TandemError.notFound("API token") }
            try await token.delete(on: req.db)
            try await Audit.record("deleted", "api_token", id: id, by: principal, on: req.db)
            return .noContent
        }
    }
}

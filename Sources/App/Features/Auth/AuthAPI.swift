import Fluent
import Foundation
import TandemCore
import Vapor

/// Password login, rate limited per username and per address, counted in the database (`LoginThrottle`).
enum Login {
    static let lifetime: TimeInterval = 12 * 3600
    static let window = LoginThrottle.window
    static let maxFailuresPerUsername = 5
    static let maxFailuresPerAddress = 50

    /// Checks the credentials and returns the principal; 429 past the limit. The attempt is counted
    /// before the password is checked and taken back when it was right, so parallel wrong passwords
    /// or codes never get more than the limit's tries.
    static func verify(
        username rawUsername: String, password: String, totp: String? = nil, address: String, on db: any Database, passwords: AsyncPasswordHasher
    ) async throws -> (id: UUID, kind: PrincipalKind) {
        // No username holds a control character, and PostgreSQL text cannot even store a NUL to count the attempt.
        guard !rawUsername.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw TandemError.invalid("username", "must not contain control characters")
        }
        let username = try await normalize(rawUsername, on: db)
        let attempts = [
            LoginThrottle.Attempt(key: "username:" + username, limit: maxFailuresPerUsername),
            LoginThrottle.Attempt(key: "address:" + address, limit: maxFailuresPerAddress),
        ]
        guard try await LoginThrottle.attempt(attempts, on: db) else {
            throw TandemError.rateLimited(retryAfterSeconds: Int(window))
        }
        guard let found = try await check(username: username, password: password, on: db, passwords: passwords) else {
            throw TandemError.unauthorized("The username or password is wrong.")
        }
        let right = { try await LoginThrottle.release(attempts.map(\.key), on: db) }
        guard AccessPolicy.requiresTwoFactor(found.kind) else {
            try await right()
            return found
        }
        do {
            try await TwoFactor.checkLogin(userId: found.id, code: totp, on: db)
        } catch TandemError.totpRequired(let detail) {
            // A wrong code stays counted like a wrong password; asking for one does not.
            if totp?.isEmpty ?? true { try await right() }
            throw TandemError.totpRequired(detail)
        } catch TandemError.totpEnrolmentRequired(let token) {
            try await right()
            throw TandemError.totpEnrolmentRequired(enrolmentToken: token)
        }
        try await right()
        return found
    }

    /// `user@<tenant domain>` logs in as `user`; other addresses are contacts' emails.
    static func normalize(_ username: String, on db: any Database) async throws -> String {
        let lowered = username.trimmingCharacters(in: .whitespaces).lowercased()
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value.lowercased() ?? ""
        if !domain.isEmpty, lowered.hasSuffix("@" + domain) { return String(lowered.dropLast(domain.count + 1)) }
        return lowered
    }

    private static func check(username: String, password: String, on db: any Database, passwords: AsyncPasswordHasher) async throws -> (
        id: UUID, kind: PrincipalKind
    )? {
        if let resource = try await Resource.query(on: db).filter(\.$username == username).filter(\.$active == true).first() {
            return try await passwords.verify(password, created: resource.passwordHash) ? (resource.id!, .resource) : nil
        }
        if let user = try await CoManagingUser.query(on: db).filter(\.$username == username).filter(\.$active == true).filter(\.$erased == false).first() {
            return try await passwords.verify(password, created: user.passwordHash) ? (user.id!, .coManagingUser) : nil
        }
        if username.contains("@"), let contact = try await Contact.query(on: db).filter(\.$email == username).first(), let hash = contact.portalPasswordHash,
            try await !Sessions.isCoManagingContact(contact.id!, on: db)
        {
            return try await passwords.verify(password, created: hash) ? (contact.id!, .contact) : nil
        }
        // Spend the same time on unknown users, so timing does not reveal which usernames exist.
        _ = try? await passwords.hash(password)
        return nil
    }
}

/// A principal changes their own password with the current one (`PUT /api/v1/me/password`): every other
/// session and token of theirs ends, the one in use stays. Wrong current passwords are limited like logins.
enum OwnPassword {
    static func change(_ input: PasswordChangeInput, of authenticated: Authenticated, on db: any Database, passwords: AsyncPasswordHasher) async throws {
        let principal = authenticated.principal
        var validator = FieldValidator()
        if input.currentPassword?.isEmpty ?? true { validator.fail("currentPassword", "is required") }
        if let new = validator.password(input.newPassword, "newPassword"), new == input.currentPassword {
            validator.fail("newPassword", "must differ from the current password")
        }
        try validator.check()
        let stored: (hash: String?, save: @Sendable (String, any Database) async throws -> Void)
        switch principal.kind {
        case .resource:
            guard let resource = try await Resource.find(principal.id, on: db) else { throw TandemError.unauthorized("Not logged in.") }
            stored = (
                resource.passwordHash,
                { hash, db in
                    resource.passwordHash = hash; try await resource.save(on: db)
                }
            )
        case .coManagingUser:
            guard let user = try await CoManagingUser.find(principal.id, on: db) else { throw TandemError.unauthorized("Not logged in.") }
            stored = (
                user.passwordHash,
                { hash, db in
                    user.passwordHash = hash; try await user.save(on: db)
                }
            )
        case .contact:
            guard let contact = try await Contact.find(principal.id, on: db) else { throw TandemError.unauthorized("Not logged in.") }
            stored = (
                contact.portalPasswordHash,
                { hash, db in
                    contact.portalPasswordHash = hash; try await contact.save(on: db)
                }
            )
        }
        let attempt = LoginThrottle.Attempt(key: "password-change:\(principal.id.uuidString)", limit: Login.maxFailuresPerUsername)
        guard try await LoginThrottle.attempt([attempt], on: db) else { throw TandemError.rateLimited(retryAfterSeconds: Int(Login.window)) }
        guard let hash = stored.hash, try await passwords.verify(input.currentPassword!, created: hash) else {
            throw TandemError.invalid("currentPassword", "is not your current password")
        }
        try await LoginThrottle.release([attempt.key], on: db)
        let newHash = try await passwords.hash(input.newPassword!)
        let save = stored.save
        try await db.write { db in
            try await save(newHash, db)
            try await Sessions.end(of: principal.id, except: authenticated.tokenId, on: db)
            try await Audit.record(
                "passwordChanged", principal.kind.auditEntity, id: principal.id, by: principal, organizationId: principal.organizationId, on: db)
        }
    }
}

enum AuthAPI {
    static func register(_ api: any RoutesBuilder) {
        api.post("auth", "token") { req async throws -> TokenDTO in
            let input = try req.content.decode(LoginInput.self)
            let found = try await Login.verify(
                username: input.username, password: input.password, totp: input.totp, address: req.clientAddress ?? "unknown",
                on: req.db, passwords: req.password.async)
            let (secret, token) = try await Tokens.issue(for: found, kind: .login, lifetime: Login.lifetime, on: req.db)
            guard let principal = try await PrincipalLoader.load(id: found.id, kind: found.kind, on: req.db) else {
                throw TandemError.unauthorized("The username or password is wrong.")
            }
            return TokenDTO(token: secret, expiresAt: token.expiresAt, principal: PrincipalDTO(principal))
        }
        api.post("auth", "logout") { req async throws -> HTTPStatus in
            guard let authenticated = req.authenticated else { throw TandemError.unauthorized("Not logged in.") }
            try await Tokens.end(authenticated.tokenId, on: req.db)
            return .noContent
        }
        api.get("me") { req async throws -> PrincipalDTO in
            PrincipalDTO(try req.principal)
        }
        api.put("me", "password") { req async throws -> HTTPStatus in
            guard let authenticated = req.authenticated, authenticated.tokenKind != .enrolment else { throw TandemError.unauthorized("Not logged in.") }
            try await OwnPassword.change(req.content.decode(PasswordChangeInput.self), of: authenticated, on: req.db, passwords: req.password.async)
            return .noContent
        }
        let tokens = api.grouped("me", "api-tokens")
        tokens.get { req async throws -> ListPage<PersonalTokenDTO> in
            let principal = try req.principal
            let (items, next) = try await APIToken.query(on: req.db).filter(\.$principalId == principal.id)
                .filter(\.$kind == APIToken.Kind.personal.rawValue).page(PageRequest(req))
            return ListPage(
                items: items.map { PersonalTokenDTO(id: $0.id!.uuidString, name: $0.name, token: nil, expiresAt: $0.expiresAt, createdAt: $0.createdAt) },
                nextCursor: next)
        }
        tokens.post { req async throws -> Response in
            let principal = try req.principal
            let input = try req.content.decode(PersonalTokenInput.self)
            var validator = FieldValidator()
            let name = validator.text(input.name, "name", max: 100)
            let days = validator.range(input.expiresInDays ?? 90, "expiresInDays", 1...366)
            try validator.check()
            let (secret, token) = try await Tokens.issue(
                for: (principal.id, principal.kind), kind: .personal, name: name, lifetime: TimeInterval(days!) * 86400, on: req.db)
            try await Audit.record("created", "api_token", id: token.id, by: principal, after: ["name": name], on: req.db)
            return try await PersonalTokenDTO(id: token.id!.uuidString, name: name, token: secret, expiresAt: token.expiresAt, createdAt: token.createdAt)
                .encodeResponse(status: .created, for: req)
        }
        tokens.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let id = try req.id("id", "API token")
            guard
                let token = try await APIToken.query(on: req.db).filter(\.$id == id).filter(\.$principalId == principal.id)
                    .filter(\.$kind == APIToken.Kind.personal.rawValue).first()
            else { throw TandemError.notFound("API token") }
            try await req.db.write { db in
                try await token.delete(on: db)
                try await Audit.record("deleted", "api_token", id: id, by: principal, on: db)
            }
            return .noContent
        }
    }
}

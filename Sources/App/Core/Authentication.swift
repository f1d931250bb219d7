import Crypto
import Fluent
import Foundation
import TandemCore
import Vapor

/// Who made the request and with which token.
struct Authenticated: Sendable {
    let principal: Principal
    let tokenId: UUID
    let tokenKind: APIToken.Kind
    /// The secret itself, for page sessions (the CSRF token derives from it).
    let secret: String
}

extension Request {
    private struct AuthenticatedKey: StorageKey { typealias Value = Authenticated }

    var authenticated: Authenticated? {
        get { storage[AuthenticatedKey.self] }
        set { storage[AuthenticatedKey.self] = newValue }
    }

    /// The principal, or 401 when the request carries no valid token.
    var principal: Principal {
        get throws {
            guard let authenticated else { throw TandemError.unauthorized("Send a valid token: Authorization: Bearer <token>.") }
            return authenticated.principal
        }
    }
}

enum Tokens {
    static let sessionCookie = "tandem_session"

    /// A new random secret (256 bits, URL-safe).
    static func generate() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        return "tdm_" + Data(bytes).base64URLEncodedString()
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Issues a token for a principal; only its hash is stored.
    static func issue(for principal: (id: UUID, kind: PrincipalKind), kind: APIToken.Kind, name: String? = nil, lifetime: TimeInterval, on db: any Database) async throws -> (secret: String, token: APIToken) {
        let secret = generate()
        let token = APIToken()
        token.id = .v7()
        token.tokenHash = hash(secret)
        token.principalId = principal.id
        token.principalKind = principal.kind.rawValue
        token.kind = kind.rawValue
        token.name = name
        token.expiresAt = Date().addingTimeInterval(lifetime)
        try await token.create(on: db)
        return (secret, token)
    }

    /// Resolves a secret to its principal, or nil when unknown or expired.
    static func resolve(_ secret: String, on db: any Database) async throws -> Authenticated? {
        guard let token = try await APIToken.query(on: db).filter(\.$tokenHash == hash(secret)).filter(\.$expiresAt > Date()).first(),
              let kind = PrincipalKind(rawValue: token.principalKind),
              let tokenKind = APIToken.Kind(rawValue: token.kind),
              let principal = try await PrincipalLoader.load(id: token.principalId, kind: kind, on: db)
        else { return nil }
        return Authenticated(principal: principal, tokenId: token.id!, tokenKind: tokenKind, secret: secret)
    }
}

/// Reads the bearer token or the session cookie. Routes that need a principal ask `req.principal`.
struct TokenAuthenticator: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let bearer = request.headers.bearerAuthorization {
            // An enrolment token is good only for setting up two-factor authentication.
            guard let authenticated = try await Tokens.resolve(bearer.token, on: request.db),
                  authenticated.tokenKind != .enrolment || request.url.path.hasPrefix("/api/v1/me/totp") else {
                throw TandemError.unauthorized("The token is unknown or has expired.")
            }
            request.authenticated = authenticated
        } else if let cookie = request.cookies[Tokens.sessionCookie]?.string,
                  let authenticated = try await Tokens.resolve(cookie, on: request.db), authenticated.tokenKind == .session {
            request.authenticated = authenticated
        }
        return try await next.respond(to: request)
    }
}

/// Loads everything the access policy needs to know about a principal.
enum PrincipalLoader {
    static func load(id: UUID, kind: PrincipalKind, on db: any Database) async throws -> Principal? {
        switch kind {
        case .resource:
            guard let resource = try await Resource.find(id, on: db), resource.active,
                  let level = try await SecurityLevel.find(resource.securityLevelId, on: db) else { return nil }
            return try await principal(for: resource, level: level, on: db)
        case .contact:
            guard let contact = try await Contact.find(id, on: db) else { return nil }
            return Principal(
                id: id, kind: .contact, displayName: contact.fullName, securityLevelId: nil, permissions: .nothing,
                organizationId: contact.organizationId, contactId: id, portalOrganizationWide: contact.portalOrganizationWide)
        case .coManagingUser:
            guard let user = try await CoManagingUser.find(id, on: db) else { return nil }
            return try await principal(for: user, on: db)
        }
    }

    static func principal(for resource: Resource, level: SecurityLevel, on db: any Database) async throws -> Principal {
        let id = try resource.requireID()
        var restrictions: Set<UUID>?
        if resource.clientRestricted {
            restrictions = Set(try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).all().map(\.organizationId))
        }
        let queues = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId)
        var teams: [UUID: TeamAccess] = [:]
        for member in try await TeamMember.query(on: db).filter(\.$principalId == id).all() {
            teams[member.teamId] = TeamAccess(rawValue: member.access) ?? .own
        }
        return Principal(
            id: id, kind: .resource, displayName: resource.fullName, securityLevelId: level.id, permissions: level.permissions,
            clientRestrictions: restrictions, queueIds: Set(queues), teams: teams)
    }
}

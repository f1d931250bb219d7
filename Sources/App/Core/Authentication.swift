import Crypto
import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
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
        SHA256.hash(data: Data(secret.utf8)).hex
    }

    /// Issues a token for a principal; only its hash is stored.
    static func issue(for principal: (id: UUID, kind: PrincipalKind), kind: APIToken.Kind, name: String? = nil, lifetime: TimeInterval, on db: any Database)
        async throws -> (secret: String, token: APIToken)
    {
        let secret = generate()
        let token = APIToken()
        token.id = .v7()
        token.tokenHash = hash(secret)
        token.principalId = principal.id
        token.principalKind = principal.kind.rawValue
        token.kind = kind.rawValue
        token.name = name
        token.expiresAt = db.now.addingTimeInterval(lifetime)
        // Through `write` like every other write: on SQLite it then queues with the group commit
        // instead of spinning in the busy handler while a group holds the write lock.
        try await db.write { db in try await token.create(on: db) }
        return (secret, token)
    }

    /// Ends a token (logout): through `write`, so the token cache forgets it before the caller answers.
    static func end(_ tokenId: UUID, on db: any Database) async throws {
        try await db.write { db in try await APIToken.query(on: db).filter(\.$id == tokenId).delete() }
    }

    /// Resolves a secret to its principal, or nil when unknown or expired.
    /// Runs on every authenticated request: one statement (the token, its resource with its
    /// security level and memberships), read straight from the driver's rows.
    static func resolve(_ secret: String, on db: any Database) async throws -> Authenticated? {
        let row = try await db.tokenLookup.row(hash: hash(secret), now: db.now, on: db)
        guard let row, let kind = PrincipalKind(rawValue: row.principalKind), let tokenKind = APIToken.Kind(rawValue: row.tokenKind) else { return nil }
        let principal: Principal?
        if kind == .resource {
            // No joined level: the resource is inactive or gone (as `PrincipalLoader.load` would answer).
            guard let levelId = row.levelId, let firstName = row.firstName, let lastName = row.lastName, let permissions = row.permissions else { return nil }
            let memberships = try PrincipalLoader.Memberships(organizations: row.restrictedTo, queues: row.queueIds, teams: row.teamAccesses)
            principal = Principal(
                id: row.principalId, kind: .resource, displayName: "\(firstName) \(lastName)", securityLevelId: levelId,
                permissions: PermissionsText.decode(permissions), clientRestrictions: row.clientRestricted == true ? memberships.organizations : nil,
                queueIds: memberships.queues, teams: memberships.teams)
        } else {
            principal = try await PrincipalLoader.load(id: row.principalId, kind: kind, on: db)
        }
        guard let principal else { return nil }
        return Authenticated(principal: principal, tokenId: row.tokenId, tokenKind: tokenKind, secret: secret)
    }
}

extension PrincipalLoader.Memberships {
    /// Memberships from the token query's lists: ids joined by commas, teams as `id:access`.
    init(organizations: String?, queues: String?, teams: String?) throws {
        func ids(_ list: String?) -> [Substring] { list.map { $0.split(separator: ",") } ?? [] }
        func uuid(_ text: Substring) throws -> UUID {
            guard let uuid = UUID(uuidString: String(text)) else { throw TandemError.conflict("a membership list holds something that is not an id") }
            return uuid
        }
        self.init()
        for id in ids(organizations) { self.organizations.insert(try uuid(id)) }
        for id in ids(queues) { self.queues.insert(try uuid(id)) }
        for entry in ids(teams) {
            let parts = entry.split(separator: ":", maxSplits: 1)
            self.teams[try uuid(parts[0])] = TeamAccess(rawValue: parts.count > 1 ? String(parts[1]) : "") ?? .own
        }
    }
}

/// A security level's permissions column decoded once per distinct text: every request decodes its
/// principal's. Keyed by the text itself, so it can never answer stale permissions.
enum PermissionsText {
    private static let decoded = NIOLockedValueBox<[String: Permissions]>([:])

    static func decode(_ text: String) -> Permissions {
        if let permissions = decoded.withLockedValue({ $0[text] }) { return permissions }
        let permissions = JSONColumn.decode(text, default: Permissions.nothing)
        decoded.withLockedValue { cache in
            if cache.count >= 256 { cache.removeAll() }
            cache[text] = permissions
        }
        return permissions
    }
}

/// Reads the bearer token or the session cookie. Routes that need a principal ask `req.principal`.
struct TokenAuthenticator: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // `/metrics` has a bearer token of its own (`MetricsAccess`).
        if request.url.path == "/metrics" { return try await next.respond(to: request) }
        if let bearer = request.headers.bearerAuthorization {
            // An enrolment token is good only for setting up two-factor authentication.
            guard let authenticated = try await Tokens.resolve(bearer.token, on: request.db),
                authenticated.tokenKind != .enrolment || request.url.path.hasPrefix("/api/v1/me/totp")
            else {
                throw TandemError.unauthorized("The token is unknown or has expired.")
            }
            request.authenticated = authenticated
        } else if let cookie = request.cookies[Tokens.sessionCookie]?.string,
            let authenticated = try await Tokens.resolve(cookie, on: request.db), authenticated.tokenKind == .session
        {
            try CookieAPIWrites.authorize(request, session: authenticated)
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
            // One query for the resource and its level, one for its memberships: this runs on every request.
            guard
                let row = try await db.sql.raw(
                    """
                    SELECT resources.first_name, resources.last_name, resources.client_restricted, security_levels.id AS level_id,
                           security_levels.permissions FROM resources JOIN security_levels ON security_levels.id = resources.security_level_id
                    WHERE resources.id = \(bind: id) AND resources.active = \(bind: true)
                    """
                ).first()
            else { return nil }
            return try await resource(id: id, row: row, on: db)
        case .contact:
            guard let contact = try await Contact.find(id, on: db), try await !Sessions.isCoManagingContact(id, on: db) else { return nil }
            return Principal(
                id: id, kind: .contact, displayName: contact.fullName, securityLevelId: nil, permissions: .nothing,
                organizationId: contact.organizationId, contactId: id, portalOrganizationWide: contact.portalOrganizationWide)
        case .coManagingUser:
            guard let user = try await CoManagingUser.find(id, on: db) else { return nil }
            return try await principal(for: user, on: db)
        }
    }

    /// A resource from a row with its `first_name`, `last_name`, `client_restricted`, `level_id` and `permissions`, and its memberships.
    static func resource(id: UUID, row: any SQLRow, on db: any Database) async throws -> Principal {
        try resource(id: id, row: row, memberships: try await Memberships.load(of: id, on: db))
    }

    static func resource(id: UUID, row: any SQLRow, memberships: Memberships) throws -> Principal {
        Principal(
            id: id, kind: .resource,
            displayName: "\(try row.decode(column: "first_name", as: String.self)) \(try row.decode(column: "last_name", as: String.self))",
            securityLevelId: try row.decode(column: "level_id", as: UUID.self),
            permissions: PermissionsText.decode(try row.decode(column: "permissions", as: String.self)),
            clientRestrictions: try row.decode(column: "client_restricted", as: Bool.self) ? memberships.organizations : nil,
            queueIds: memberships.queues, teams: memberships.teams)
    }

    static func principal(for resource: Resource, level: SecurityLevel, on db: any Database) async throws -> Principal {
        principal(for: resource, level: level, memberships: try await Memberships.load(of: try resource.requireID(), on: db))
    }

    private static func principal(for resource: Resource, level: SecurityLevel, memberships: Memberships) -> Principal {
        Principal(
            id: resource.id!, kind: .resource, displayName: resource.fullName, securityLevelId: level.id, permissions: level.permissions,
            clientRestrictions: resource.clientRestricted ? memberships.organizations : nil, queueIds: memberships.queues, teams: memberships.teams)
    }

    /// Active resources as principals, three queries however many (the pages' lists of people to choose from).
    static func principals(of resources: [Resource], on db: any Database) async throws -> [Principal] {
        let active = resources.filter(\.active)
        let levels = Dictionary(
            uniqueKeysWithValues: try await SecurityLevel.query(on: db).filter(\.$id ~~ Set(active.map(\.securityLevelId))).all().map { ($0.id!, $0) })
        let memberships = try await Memberships.load(of: active.compactMap(\.id), on: db)
        return active.compactMap { resource in
            guard let id = resource.id, let level = levels[resource.securityLevelId] else { return nil }
            return principal(for: resource, level: level, memberships: memberships[id] ?? Memberships())
        }
    }

    /// A resource's client restrictions, queues and teams, in one round trip.
    struct Memberships {
        var organizations: Set<UUID> = []
        var queues: Set<UUID> = []
        var teams: [UUID: TeamAccess] = [:]

        static func load(of id: UUID, on db: any Database) async throws -> Memberships {
            try await load(of: [id], on: db)[id] ?? Memberships()
        }

        /// The memberships of many resources, still in one round trip.
        static func load(of ids: [UUID], on db: any Database) async throws -> [UUID: Memberships] {
            guard !ids.isEmpty else { return [:] }
            var all: [UUID: Memberships] = [:]
            for row in try await db.sql.raw(
                """
                SELECT resource_id AS owner, 'organization' AS kind, organization_id AS ref, NULL AS access FROM resource_client_restrictions
                  WHERE resource_id IN (\(binds: ids))
                UNION ALL SELECT principal_id, 'queue', queue_id, NULL FROM queue_members WHERE principal_id IN (\(binds: ids))
                UNION ALL SELECT principal_id, 'team', team_id, access FROM team_members WHERE principal_id IN (\(binds: ids))
                """
            ).all() {
                let owner = try row.decode(column: "owner", as: UUID.self)
                let ref = try row.decode(column: "ref", as: UUID.self)
                switch try row.decode(column: "kind", as: String.self) {
                case "organization": all[owner, default: Memberships()].organizations.insert(ref)
                case "queue": all[owner, default: Memberships()].queues.insert(ref)
                default: all[owner, default: Memberships()].teams[ref] = TeamAccess(rawValue: try row.decode(column: "access", as: String?.self) ?? "") ?? .own
                }
            }
            return all
        }
    }
}

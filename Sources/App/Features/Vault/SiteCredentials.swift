import Fluent
import Foundation
import TandemCore
import Vapor

/// One entry of a site's credential vault (SPEC §9). The secret is only ever stored sealed
/// (`secret_sealed`, bound to the row) and only leaves through `SiteCredentials.reveal`.
final class SiteCredential: Model, @unchecked Sendable {
    static let schema = "site_credentials"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .site: "site_id"])

    /// The kinds of the "Add Passwords and Credentials" step: servers, desktops, lights-out management,
    /// predefined and custom applications, and anything else.
    enum Kind: String, Codable, Sendable, CaseIterable {
        case server, desktop, lightsOutManagement, application, customApplication, custom

        var label: String {
            switch self {
            case .server: "Server"
            case .desktop: "Desktop"
            case .lightsOutManagement: "Lights-out management"
            case .application: "Application"
            case .customApplication: "Custom application"
            case .custom: "Custom"
            }
        }
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "site_id") var siteId: UUID
    @Field(key: "kind") var kind: String
    @Field(key: "name") var name: String
    @OptionalField(key: "username") var username: String?
    @OptionalField(key: "url") var url: String?
    @OptionalField(key: "notes") var notes: String?
    @OptionalField(key: "device_id") var deviceId: UUID?
    @Field(key: "secret_sealed") var secretSealed: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    static func binding(_ id: UUID) -> VaultBinding { VaultBinding("siteCredential.secret", rowId: id) }
}

/// An entry as lists, reads and the audit log show it: never the secret.
struct SiteCredentialDTO: Content, Equatable {
    var id: String
    var organizationId: String
    var siteId: String
    var kind: String
    var name: String
    var username: String?
    var url: String?
    var notes: String?
    var deviceId: String?
    var createdAt: Date?
    var updatedAt: Date?

    init(_ row: SiteCredential) {
        id = row.id!.uuidString
        organizationId = row.organizationId.uuidString
        siteId = row.siteId.uuidString
        kind = row.kind
        name = row.name
        username = row.username
        url = row.url
        notes = row.notes
        deviceId = row.deviceId?.uuidString
        createdAt = row.createdAt
        updatedAt = row.updatedAt
    }
}

/// `POST` and `PATCH` bodies; on PATCH an absent field stays, `null` clears an optional one.
struct SiteCredentialInput: Decodable, Sendable {
    var kind: Patch<String> = .absent
    var name: Patch<String> = .absent
    var username: Patch<String> = .absent
    var secret: Patch<String> = .absent
    var url: Patch<String> = .absent
    var notes: Patch<String> = .absent
    var deviceId: Patch<String> = .absent
}

struct RevealedSecret: Content {
    var secret: String
}

/// The vault's service, for the API and the pages alike. Who reaches what is `AccessPolicy.vaultScope`
/// and `AccessPolicy.authorizeVaultReveal`; an entry outside the principal's view is a 404.
enum SiteCredentials {
    static let what = "credential"
    /// Reveals per principal per `LoginThrottle.window` (15 minutes).
    static let revealLimit = 30

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.vaultScope(for: principal, operation)
    }

    /// A site's entries, oldest first (a site whose vault the principal may not open answers 404, as a hidden one).
    static func list(site: Site, by principal: Principal, page: PageRequest, on db: any Database) async throws -> ListPage<SiteCredentialDTO> {
        try requireVault(of: site, by: principal)
        var query = SiteCredential.query(on: db).filter(\.$siteId == site.id!).filter(scope(for: principal, .view), on: SiteCredential.scopeTable)
        if let after = try page.afterId() { query = query.filter(\.$id > after) }
        let rows = try await query.sort(\.$id).limit(page.limit + 1).all()
        let items = rows.prefix(page.limit)
        let next = rows.count > page.limit ? items.last.map { PageRequest.cursor($0.id!.uuidString) } : nil
        return ListPage(items: items.map { SiteCredentialDTO($0) }, nextCursor: next)
    }

    /// Every entry of a site the principal sees, by name (the Passwords page).
    static func all(site: Site, by principal: Principal, on db: any Database) async throws -> [SiteCredential] {
        try await SiteCredential.query(on: db).filter(\.$siteId == site.id!).filter(scope(for: principal, .view), on: SiteCredential.scopeTable)
            .sort(\.$name).sort(\.$id).all()
    }

    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> SiteCredential {
        try await Lookup.visible(SiteCredential.self, id, scope: scope(for: principal, .view), table: SiteCredential.scopeTable, what: what, on: db)
    }

    /// A site's vault is hidden (404) from principals whose level does not open the vault there.
    static func requireVault(of site: Site, by principal: Principal) throws {
        guard scope(for: principal, .view).evaluate(ScopeFacts(values: [.organization: site.organizationId])) else { throw TandemError.notFound("site") }
    }

    static func require(_ operation: AccessOperation, organizationId: UUID, by principal: Principal) throws {
        guard scope(for: principal, operation).evaluate(ScopeFacts(values: [.organization: organizationId])) else {
            let verb =
                switch operation {
                case .view: "opening"
                case .create: "adding to"
                case .edit: "changing"
                case .delete: "deleting from"
                }
            throw TandemError.forbidden("your security level does not allow \(verb) the credential vault")
        }
    }

    static func create(site: Site, _ input: SiteCredentialInput, by principal: Principal, on db: any Database) async throws -> SiteCredential {
        try require(.create, organizationId: site.organizationId, by: principal)
        let row = SiteCredential()
        row.id = .v7()
        row.siteId = site.id!
        row.organizationId = site.organizationId
        try await apply(input, to: row, creating: true, on: db)
        try await db.write { db in
            try await row.create(on: db)
            try await Audit.record(
                "created", SiteCredential.schema, id: row.id, by: principal, organizationId: row.organizationId, after: SiteCredentialDTO(row), on: db)
        }
        return row
    }

    static func update(_ row: SiteCredential, _ input: SiteCredentialInput, by principal: Principal, on db: any Database) async throws {
        try require(.edit, organizationId: row.organizationId, by: principal)
        let before = SiteCredentialDTO(row)
        let secretChanged = try await apply(input, to: row, creating: false, on: db)
        try await db.write { db in
            try await row.save(on: db)
            struct After: Encodable, Sendable {
                var credential: SiteCredentialDTO
                var secretChanged: Bool
            }
            try await Audit.record(
                "updated", SiteCredential.schema, id: row.id, by: principal, organizationId: row.organizationId, before: before,
                after: After(credential: SiteCredentialDTO(row), secretChanged: secretChanged), on: db)
        }
    }

    static func delete(_ row: SiteCredential, by principal: Principal, on db: any Database) async throws {
        try require(.delete, organizationId: row.organizationId, by: principal)
        try await db.write { db in
            try await row.delete(on: db)
            try await Audit.record(
                "deleted", SiteCredential.schema, id: row.id, by: principal, organizationId: row.organizationId, before: SiteCredentialDTO(row), on: db)
        }
    }

    /// The secret of an entry the principal sees, when its level may reveal; counted against the
    /// principal's reveal limit, and audited (`revealed`, naming the entry, never the secret).
    static func reveal(_ row: SiteCredential, by principal: Principal, on db: any Database) async throws -> String {
        try AccessPolicy.authorizeVaultReveal(principal)
        let attempt = LoginThrottle.Attempt(key: "vault-reveal:\(principal.id.uuidString)", limit: revealLimit)
        guard try await LoginThrottle.attempt([attempt], on: db) else { throw TandemError.rateLimited(retryAfterSeconds: Int(LoginThrottle.window)) }
        let secret = try db.vault().open(stored: row.secretSealed, for: SiteCredential.binding(row.id!))
        try await db.write { db in
            try await Audit.record(
                "revealed", SiteCredential.schema, id: row.id, by: principal, organizationId: row.organizationId,
                after: ["name": row.name, "siteId": row.siteId.uuidString], on: db)
        }
        return secret
    }

    /// Validates and applies a body; true when the secret was replaced (sealed again with a fresh data key).
    @discardableResult
    static func apply(_ input: SiteCredentialInput, to row: SiteCredential, creating: Bool, on db: any Database) async throws -> Bool {
        var validator = FieldValidator()
        if creating || !input.kind.isAbsent, let kind = validator.choice(input.kind.value, "kind", as: SiteCredential.Kind.self) { row.kind = kind.rawValue }
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 200) { row.name = name }
        if !input.username.isAbsent { row.username = optional(validator.text(input.username.value, "username", max: 200, required: false)) }
        if !input.url.isAbsent { row.url = optional(validator.text(input.url.value, "url", max: 2000, required: false)) }
        if !input.notes.isAbsent { row.notes = optional(validator.text(input.notes.value, "notes", max: 10_000, required: false, multiline: true)) }
        var newSecret: String?
        if creating || !input.secret.isAbsent {
            // Never trimmed: a space is part of a password. Multi-line (keys, recovery codes), up to 10,000 characters.
            switch input.secret.value {
            case nil: validator.fail("secret", "is required")
            case .some(let secret) where secret.isEmpty: validator.fail("secret", "must not be empty")
            case .some(let secret) where secret.count > 10_000: validator.fail("secret", "must be at most 10000 characters (got \(secret.count))")
            case .some(let secret) where ControlCharacters.refused(in: secret, multiline: true):
                validator.fail("secret", ControlCharacters.message(multiline: true))
            case .some(let secret): newSecret = secret
            }
        }
        var deviceId: UUID?? = nil
        if !input.deviceId.isAbsent {
            if let text = input.deviceId.value, !text.isEmpty {
                if let id = validator.id(text, "deviceId") { deviceId = .some(id) }
            } else {
                deviceId = .some(nil)
            }
        }
        try validator.check()
        if case .some(let id) = deviceId {
            if let id {
                guard try await SiteDevice.query(on: db).filter(\.$id == id).filter(\.$siteId == row.siteId).count() > 0 else {
                    throw TandemError.invalid("deviceId", "no device of this site has this id")
                }
            }
            row.deviceId = id
        }
        guard let newSecret else { return false }
        row.secretSealed = try db.vault().seal(stored: newSecret, for: SiteCredential.binding(row.id!))
        return true
    }

    private static func optional(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
}

/// `GET|POST /api/v1/sites/{id}/credentials`, `GET|PATCH|DELETE /api/v1/credentials/{id}`,
/// `POST /api/v1/credentials/{id}/reveal`.
enum SiteCredentialsAPI {
    static func register(_ api: any RoutesBuilder) {
        let site = api.grouped("sites", ":id", "credentials")
        site.get { req async throws -> ListPage<SiteCredentialDTO> in
            try await SiteCredentials.list(site: SitesCollection.visible(req), by: req.principal, page: PageRequest(req), on: req.db)
        }
        site.post { req async throws -> Response in
            let site = try await SitesCollection.visible(req)
            let principal = try req.principal
            try SiteCredentials.require(.create, organizationId: site.organizationId, by: principal)
            let row = try await SiteCredentials.create(site: site, req.content.decode(SiteCredentialInput.self), by: principal, on: req.db)
            return try await SiteCredentialDTO(row).encodeResponse(status: .created, for: req)
        }
        let item = api.grouped("credentials", ":id")
        item.get { req async throws -> SiteCredentialDTO in
            SiteCredentialDTO(try await visible(req))
        }
        item.patch { req async throws -> SiteCredentialDTO in
            let row = try await visible(req)
            try SiteCredentials.require(.edit, organizationId: row.organizationId, by: req.principal)
            try await SiteCredentials.update(row, req.content.decode(SiteCredentialInput.self), by: req.principal, on: req.db)
            return SiteCredentialDTO(row)
        }
        item.delete { req async throws -> HTTPStatus in
            try await SiteCredentials.delete(visible(req), by: req.principal, on: req.db)
            return .noContent
        }
        item.post("reveal") { req async throws -> RevealedSecret in
            RevealedSecret(secret: try await SiteCredentials.reveal(visible(req), by: req.principal, on: req.db))
        }
    }

    private static func visible(_ req: Request) async throws -> SiteCredential {
        try await SiteCredentials.visible(req.id("id", SiteCredentials.what), by: req.principal, on: req.db)
    }
}

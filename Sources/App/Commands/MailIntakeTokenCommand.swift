import Fluent
import Foundation
import TandemCore
import Vapor

/// `tandem mail-intake-token [--days N] [--name NAME]`: a token for a mail server or a mail service's
/// webhook to post mail with (`POST /api/v1/inbound/email`). The first run makes the security level
/// "Mail intake" (only `receiveMail`: it can post mail and read nothing) and the resource
/// `mail-intake` (no password that anyone knows); each run prints a new personal token of it.
struct MailIntakeTokenCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "days", help: "How long the token lasts (default 365, at most 3650)") var days: Int?
        @Option(name: "name", help: "What the token is for (default \"mail server\")") var name: String?
    }

    static let username = "mail-intake"
    static let levelName = "Mail intake"

    var help: String { "Print a token that may post mail for intake (POST /api/v1/inbound/email), and nothing else." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.migrateSchema()
        let days = signature.days ?? 365
        // The command line reports a TandemError as "tandem: days: must be 1 to 3650".
        guard (1...3650).contains(days) else { throw TandemError.invalid("days", "must be 1 to 3650") }
        let resource = try await Self.principal(on: app.db, passwords: app.password.async)
        let (secret, _) = try await Tokens.issue(
            for: (try resource.requireID(), .resource), kind: .personal, name: signature.name ?? "mail server", lifetime: TimeInterval(days) * 86400,
            on: app.db)
        context.console.print(secret)
    }

    /// The mail intake's resource, made with its level on the first run.
    static func principal(on db: any Database, passwords: AsyncPasswordHasher) async throws -> Resource {
        if let resource = try await Resource.query(on: db).filter(\.$username == username).first() { return resource }
        var permissions = Permissions.nothing
        permissions.admin = [.receiveMail]
        let level = SecurityLevel()
        level.id = .v7()
        level.name = levelName
        level.coManaged = false
        level.permissions = permissions
        let resource = Resource()
        resource.id = .v7()
        resource.username = username
        // Nobody signs in as the mail intake: its password is random and never shown.
        resource.passwordHash = try await passwords.hash(Tokens.generate())
        resource.firstName = "Mail"
        resource.lastName = "Intake"
        resource.email = nil
        resource.securityLevelId = level.id!
        resource.clientRestricted = false
        resource.active = true
        try await db.write { db in
            if let existing = try await SecurityLevel.query(on: db).filter(\.$name == levelName).first() {
                resource.securityLevelId = existing.id!
            } else {
                try await level.create(on: db)
                try await Audit.record("created", SecurityLevel.schema, id: level.id, by: nil, after: ["name": levelName], on: db)
            }
            try await resource.create(on: db)
            try await Audit.record("created", Resource.schema, id: resource.id, by: nil, after: ["username": username], on: db)
        }
        return resource
    }
}

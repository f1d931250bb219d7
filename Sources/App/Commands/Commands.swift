import Fluent
import Foundation
import TandemCore
import Vapor

func registerCommands(_ app: Application) {
    app.asyncCommands.use(MigrateCommand(), as: "migrate")
    app.asyncCommands.use(CreateAdminCommand(), as: "create-admin")
    app.asyncCommands.use(BenchSeedCommand(), as: "seed-bench")
    app.asyncCommands.use(ImportProfilesCommand(), as: "import-profiles")
    app.asyncCommands.use(ExportProfilesCommand(), as: "export-profiles")
    app.asyncCommands.use(MailIntakeTokenCommand(), as: "mail-intake-token")
    app.asyncCommands.use(RotateVaultKeyCommand(), as: "rotate-vault-key")
    app.asyncCommands.use(WorkerCommand(), as: "worker")
}

extension Application {
    /// Creates or upgrades the schema. On PostgreSQL one process at a time: instances started together (each
    /// unit's `tandem migrate`) wait on an advisory lock, and the later ones find nothing left to do.
    func migrateSchema() async throws {
        guard !db.isSQLite else { return try await autoMigrate() }
        try await db.withConnection { connection in
            try await connection.sql.raw("SELECT pg_advisory_lock(\(literal: Self.migrationLock))").run()
            do {
                try await self.autoMigrate()
            } catch {
                try? await connection.sql.raw("SELECT pg_advisory_unlock(\(literal: Self.migrationLock))").run()
                throw error
            }
            try await connection.sql.raw("SELECT pg_advisory_unlock(\(literal: Self.migrationLock))").run()
        }
    }

    /// The advisory lock key of `migrateSchema` ("tandem" in ASCII).
    private static let migrationLock = 0x74_61_6e_64_65_6d
}

/// `tandem migrate`: create or upgrade the schema, without asking.
struct MigrateCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Create or upgrade the database schema." }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.application.migrateSchema()
        context.console.print("Schema is up to date.")
    }
}

/// `tandem create-admin --username U --password P`: an MSP resource with the Administrator level.
struct CreateAdminCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "username", help: "Login name (at most 32 characters)") var username: String?
        @Option(name: "password", help: "At least 10 characters") var password: String?
        @Option(name: "first-name") var firstName: String?
        @Option(name: "last-name") var lastName: String?
        @Option(name: "email") var email: String?
    }

    var help: String { "Create an MSP resource with the Administrator security level." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.migrateSchema()
        do {
            let resource = try await Seeds.createResource(
                username: signature.username, password: signature.password, firstName: signature.firstName ?? "Admin",
                lastName: signature.lastName ?? "User", email: signature.email, system: .administrator, on: app.db, passwords: app.password.async)
            context.console.print("Created administrator \(resource.username) (\(resource.id!.uuidString)).")
        } catch let error as TandemError {
            let (problem, _) = ProblemMiddleware.problem(for: error)
            context.console.error("create-admin: \(problem.detail)")
            throw error
        }
    }
}

enum Seeds {
    /// Creates an active resource with a system level, validating as the API does.
    static func createResource(
        username: String?, password: String?, firstName: String, lastName: String, email: String?, system: SystemSecurityLevel,
        restrictions: [UUID]? = nil, on db: any Database, passwords: AsyncPasswordHasher
    ) async throws -> Resource {
        var validator = FieldValidator()
        let username = Usernames.validate(username, &validator)
        let password = validator.password(password)
        try validator.check()
        if try await Resource.query(on: db).filter(\.$username == username!).count() > 0 {
            throw TandemError.conflict("the username '\(username!)' is taken")
        }
        guard let level = try await SecurityLevel.query(on: db).filter(\.$systemKey == system.rawValue).first() else {
            throw TandemError.conflict("the system security levels are missing; run tandem migrate")
        }
        let resource = Resource()
        resource.id = .v7()
        resource.username = username!
        resource.passwordHash = try await passwords.hash(password!)
        resource.firstName = firstName
        resource.lastName = lastName
        resource.email = email
        resource.securityLevelId = level.id!
        resource.clientRestricted = restrictions != nil
        resource.active = true
        let id = resource.id!
        try await db.write { db in
            try await resource.create(on: db)
            for organizationId in restrictions ?? [] { try await ResourceClientRestriction(resourceId: id, organizationId: organizationId).create(on: db) }
            try await Audit.record("created", Resource.schema, id: id, by: nil, after: ["username": resource.username], on: db)
        }
        return resource
    }
}

/// A command's failure in words for the operator: the same detail the API would give, with field messages.
public func commandLineMessage(for error: any Error) -> String {
    if let failure = error as? CommandFailure { return failure.description }
    let (problem, _) = ProblemMiddleware.problem(for: error)
    let fields = (problem.errors ?? []).map { "\($0.field): \($0.message)" }
    return fields.isEmpty ? problem.detail : fields.joined(separator: "\n")
}

import Fluent
import FluentPostgresDriver
import Foundation
import SQLKit
import TandemCore
import Vapor

@testable import App

/// Which database the suite runs on: PostgreSQL when `TANDEM_TEST_POSTGRES_URL` is set, else SQLite.
enum TestDatabase {
    /// The credential vault's key of every test app of this process (`AppOptions.vaultKey`).
    static let vaultKey = VaultMasterKey.generate()
    static let postgresURL: String? = ProcessInfo.processInfo.environment["TANDEM_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static var name: String { postgresURL == nil ? "SQLite" : "PostgreSQL" }

    /// How many tests hold a database at once. PostgreSQL clones and drops databases one file
    /// copy at a time, so a few at once finish sooner than all of them fighting for the disk.
    static let gate = TestGate(
        width: ProcessInfo.processInfo.environment["TANDEM_TEST_CONCURRENCY"].flatMap(Int.init)
            ?? (postgresURL == nil ? 16 : 8))

    /// A fresh, migrated database for one test, and how to throw it away.
    static func make() async throws -> (storage: AppOptions.Storage, migrate: Bool, drop: @Sendable () async -> Void) {
        if let postgresURL {
            let name = try await PostgresDatabases.shared.clone(adminURL: postgresURL)
            return (
                .postgres(url: try url(postgresURL, database: name)), false,
                {
                    await PostgresDatabases.shared.drop(name, adminURL: postgresURL)
                }
            )
        }
        let path = scratch.appendingPathComponent("\(UUID().uuidString).sqlite").path
        return (
            .sqlite(path: path), true,
            {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        )
    }

    /// Per-process scratch space for SQLite files and blob directories; those of finished runs are removed.
    static let scratch: URL = {
        let files = FileManager.default
        let temporary = files.temporaryDirectory
        for name in (try? files.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("tandem-tests-") {
            if let owner = Int32(name.dropFirst("tandem-tests-".count)), kill(owner, 0) != 0, errno == ESRCH {
                try? files.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        let url = temporary.appendingPathComponent("tandem-tests-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? files.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func url(_ base: String, database: String) throws -> String {
        guard var components = URLComponents(string: base) else { throw TestSetupError("TANDEM_TEST_POSTGRES_URL is not a URL: \(base)") }
        components.path = "/" + database
        guard let url = components.string else { throw TestSetupError("cannot build a database URL from \(base)") }
        return url
    }
}

/// An async semaphore: at most `width` holders at a time, the rest wait in order.
actor TestGate {
    private let width: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { self.width = max(1, width) }

    func enter() async {
        if holders < width {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            // The slot passes straight to the next waiter.
            waiting.removeFirst().resume()
        }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Clones a migrated template database per test. The template is built once per process, however
/// many tests ask for it at the same time; clones are cheap because PostgreSQL copies files.
actor PostgresDatabases {
    static let shared = PostgresDatabases()

    private var admin: Task<Application, any Error>?
    private var template: Task<String, any Error>?
    private let pid = ProcessInfo.processInfo.processIdentifier

    /// A new database cloned from the template; its name.
    func clone(adminURL: String) async throws -> String {
        let template = try await templateName(adminURL: adminURL)
        let name = "t_\(pid)_\(UUID().uuidString.prefix(8).lowercased())"
        try await adminDatabase(adminURL).sql.raw("CREATE DATABASE \(ident: name) TEMPLATE \(ident: template)").run()
        return name
    }

    func drop(_ name: String, adminURL: String) async {
        do {
            try await adminDatabase(adminURL).sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
        } catch {
            print("could not drop test database \(name): \(String(reflecting: error))")
        }
    }

    private func templateName(adminURL: String) async throws -> String {
        if let template { return try await template.value }
        let task = Task { try await self.buildTemplate(adminURL: adminURL) }
        template = task
        return try await task.value
    }

    /// A template per process, so two test runs against one server never drop each other's.
    private func buildTemplate(adminURL: String) async throws -> String {
        let db = try await adminDatabase(adminURL)
        try await dropLeftovers(on: db)
        let name = "tandem_template_\(pid)"
        try await db.sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
        try await db.sql.raw("CREATE DATABASE \(ident: name)").run()
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        do {
            try await configure(
                app,
                options: AppOptions(
                    storage: .postgres(url: TestDatabase.url(adminURL, database: name)), blobDirectory: TestDatabase.scratch.path, bcryptCost: 4
                ).with { $0.vaultKey = TestDatabase.vaultKey })
            try await app.autoMigrate()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
        return name
    }

    /// Databases left by test processes that are gone (a crash, a killed run).
    private func dropLeftovers(on db: any Database) async throws {
        let rows = try await db.sql.raw("SELECT datname FROM pg_database WHERE datname LIKE 'tandem_template_%' OR datname LIKE 't\\_%'").all()
        for row in rows {
            let name = try row.decode(column: "datname", as: String.self)
            let parts = name.split(separator: "_")
            let pidText = name.hasPrefix("tandem_template_") ? parts.last : parts.dropFirst().first
            guard let pidText, let owner = Int32(pidText), owner != pid, kill(owner, 0) != 0, errno == ESRCH else { continue }
            try await db.sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
        }
    }

    /// One long-lived connection pool to the maintenance database, for CREATE and DROP DATABASE.
    private func adminDatabase(_ url: String) async throws -> any Database {
        if admin == nil {
            admin = Task {
                let app = try await Application.make(.testing)
                app.logger.logLevel = .warning
                // CREATE and DROP DATABASE take a while under load; callers queue rather than time out.
                app.databases.use(
                    .postgres(
                        configuration: try SQLPostgresConfiguration(url: url), maxConnectionsPerEventLoop: 2,
                        connectionPoolTimeout: .minutes(10)), as: .psql)
                return app
            }
        }
        return try await admin!.value.db
    }
}

import Fluent
import Foundation
import NIOCore
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Runs `body` against a fresh app on a fresh database (a new SQLite file, or a PostgreSQL clone of
/// the migrated template), with an administrator already logged in. Everything is thrown away after.
func withApp(clock: any WallClock = SystemClock(), _ body: (TestApp) async throws -> Void) async throws {
    await TestDatabase.gate.enter()
    do {
        try await withGatedApp(clock: clock, body)
    } catch {
        await TestDatabase.gate.leave()
        throw error
    }
    await TestDatabase.gate.leave()
}

private func withGatedApp(clock: any WallClock, _ body: (TestApp) async throws -> Void) async throws {
    _ = TestLogs.installed
    let database = try await TestDatabase.make()
    let blobs = TestDatabase.scratch.appendingPathComponent("blobs-\(UUID().uuidString)", isDirectory: true)
    let app = try await Application.make(.testing)
    app.logger.logLevel = ProcessInfo.processInfo.environment["TANDEM_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    do {
        var options = AppOptions(storage: database.storage, blobDirectory: blobs.path, bcryptCost: 4)
        options.clock = clock
        options.vaultKey = TestDatabase.vaultKey
        try await configure(app, options: options)
        if database.migrate { try await app.autoMigrate() }
        let admin = try await Seeds.createResource(
            username: "admin", password: TestApp.adminPassword, firstName: "Ada", lastName: "Admin", email: "admin@msp.example",
            system: .administrator, on: app.db, passwords: app.password.async)
        var test = TestApp(app: app, adminToken: "", adminId: admin.id!.uuidString)
        test.adminToken = try await test.login("admin", TestApp.adminPassword)
        try await body(test)
    } catch {
        try? await app.asyncShutdown()
        await database.drop()
        try? FileManager.default.removeItem(at: blobs)
        throw error
    }
    try await app.asyncShutdown()
    await database.drop()
    try? FileManager.default.removeItem(at: blobs)
}

/// One answer of the API.
struct Reply: Sendable, CustomStringConvertible {
    let status: HTTPStatus
    let headers: HTTPHeaders
    let body: Data

    var json: JSON { JSON.parse(body) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
    var contentType: String { headers.first(name: .contentType) ?? "" }
    /// The created object's id, for a `201`.
    var id: String { json["id"].string ?? "" }
    var description: String { "\(status.code) \(text.prefix(600))" }
}

/// The app under test, seen through its HTTP API.
struct TestApp: Sendable {
    static let adminPassword = "admin-pass-2026"
    static let password = "test-pass-2026"

    let app: Application
    var adminToken: String
    let adminId: String

    var db: any Database { app.db }

    // MARK: Requests

    /// Sends a request. `as` is a bearer token; nil means the administrator, "" means no token.
    func send(
        _ method: HTTPMethod, _ path: String, as token: String? = nil, json: JSON? = nil, raw: String? = nil,
        headers extra: HTTPHeaders = [:], live: Bool = false
    ) async throws -> Reply {
        var headers = extra
        let bearer = token ?? adminToken
        if !bearer.isEmpty { headers.bearerAuthorization = BearerAuthorization(token: bearer) }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(data: json.encoded) }
        if let raw { body = ByteBuffer(string: raw) }
        if body != nil, headers.contentType == nil { headers.contentType = .json }
        // The in-memory tester hands the body over already collected, so body size limits only show on a real socket.
        let tester = try live ? app.testing(method: .running(hostname: "127.0.0.1", port: 0)) : app.testing()
        var reply: Reply?
        try await tester.test(method, path, headers: headers, body: body) { response in
            reply = Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
        guard let reply else { throw TestSetupError("no answer to \(method) \(path)") }
        return reply
    }

    func get(_ path: String, as token: String? = nil, headers: HTTPHeaders = [:]) async throws -> Reply {
        try await send(.GET, path, as: token, headers: headers)
    }

    func post(_ path: String, _ json: JSON, as token: String? = nil) async throws -> Reply {
        try await send(.POST, path, as: token, json: json)
    }

    func patch(_ path: String, _ json: JSON, as token: String? = nil, headers: HTTPHeaders = [:]) async throws -> Reply {
        try await send(.PATCH, path, as: token, json: json, headers: headers)
    }

    func put(_ path: String, _ json: JSON, as token: String? = nil) async throws -> Reply {
        try await send(.PUT, path, as: token, json: json)
    }

    func delete(_ path: String, as token: String? = nil, headers: HTTPHeaders = [:]) async throws -> Reply {
        try await send(.DELETE, path, as: token, headers: headers)
    }

    /// POSTs and requires a `201`; the created object.
    @discardableResult
    func create(_ path: String, _ json: JSON, as token: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSON {
        let reply = try await post(path, json, as: token)
        guard reply.status == .created else {
            Issue.record("POST \(path) answered \(reply)", sourceLocation: sourceLocation)
            throw TestSetupError("POST \(path) answered \(reply)")
        }
        return reply.json
    }

    // MARK: Logins and fixtures

    func login(_ username: String, _ password: String) async throws -> String {
        let reply = try await post("/api/v1/auth/token", ["username": .string(username), "password": .string(password)], as: "")
        guard reply.status == .ok, let token = reply.json["token"].string else { throw TestSetupError("login as \(username) answered \(reply)") }
        return token
    }

    func securityLevelId(_ system: SystemSecurityLevel) async throws -> String {
        guard let level = try await SecurityLevel.query(on: db).filter(\.$systemKey == system.rawValue).first() else {
            throw TestSetupError("no system level \(system)")
        }
        return level.id!.uuidString
    }

    /// A resource created through the API, logged in; `restrictions` nil means all organizations.
    func resource(_ username: String, _ system: SystemSecurityLevel = .technician, restrictions: [String]? = nil, queueIds: [String]? = nil) async throws -> (
        id: String, token: String
    ) {
        var body: JSON = [
            "username": .string(username), "password": .string(Self.password), "firstName": .string(username.capitalized), "lastName": "Tester",
            "email": .string("\(username)@msp.example"), "securityLevelId": .string(try await securityLevelId(system)),
        ]
        if let restrictions { body = body.merging(["clientRestrictions": JSON(restrictions)]) }
        if let queueIds { body = body.merging(["queueIds": JSON(queueIds)]) }
        let created = try await create("/api/v1/resources", body)
        return (created.id, try await login(username, Self.password))
    }

    func organization(_ name: String) async throws -> String {
        try await create("/api/v1/organizations", ["name": .string(name)]).id
    }

    func site(_ organizationId: String, _ name: String, country: String = "US") async throws -> String {
        try await create("/api/v1/sites", ["organizationId": .string(organizationId), "name": .string(name), "country": .string(country)]).id
    }

    /// A contact; with a password it can log in to the portal with its email.
    func contact(_ organizationId: String, _ firstName: String, email: String? = nil, password: String? = nil, extra: JSON = [:]) async throws -> String {
        var body: JSON = ["organizationId": .string(organizationId), "firstName": .string(firstName), "lastName": "Contact"]
        if let email { body = body.merging(["email": .string(email)]) }
        if let password { body = body.merging(["password": .string(password)]) }
        return try await create("/api/v1/contacts", body.merging(extra)).id
    }

    @discardableResult
    func ticket(_ organizationId: String, _ title: String = "Printer offline", as token: String? = nil, extra: JSON = [:]) async throws -> JSON {
        try await create("/api/v1/tickets", (["organizationId": .string(organizationId), "title": .string(title)] as JSON).merging(extra), as: token)
    }

    @discardableResult
    func note(_ ticketId: String, _ body: String = "Checked the cable.", publishTo: String? = nil, as token: String? = nil) async throws -> JSON {
        var json: JSON = ["body": .string(body)]
        if let publishTo { json = json.merging(["publishTo": .string(publishTo)]) }
        return try await create("/api/v1/tickets/\(ticketId)/notes", json, as: token)
    }

    // MARK: Looking at the database

    /// Row counts of every table a write could touch, to prove a refused request wrote nothing.
    func rowCounts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in [
            "organizations", "sites", "contacts", "resources", "resource_client_restrictions", "security_levels", "queues", "queue_members",
            "teams", "team_members", "roles", "internal_locations", "tickets", "ticket_assignees", "notes", "time_entries",
            "attachments", "blobs", "audit_events", "events",
        ] {
            counts[table] = try await count(table)
        }
        return counts
    }

    func count(_ table: String) async throws -> Int {
        let row = try await db.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()
        return try row?.decode(column: "n", as: Int.self) ?? -1
    }

    /// The audit events about one entity, oldest first.
    func auditEvents(entityId: String) async throws -> [JSON] {
        let reply = try await get("/api/v1/audit-events?entityId=\(entityId)&limit=200")
        return reply.json["items"].array
    }
}

// MARK: Checks

/// The answer is an RFC 9457 problem with this status and, when given, names `field`.
func expectProblem(
    _ reply: Reply, _ status: HTTPStatus, field: String? = nil, contains text: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == status, "expected \(status.code), got \(reply)", sourceLocation: sourceLocation)
    #expect(reply.contentType.hasPrefix("application/problem+json"), "content type \(reply.contentType) of \(reply)", sourceLocation: sourceLocation)
    let problem = reply.json
    #expect(problem["status"].int == Int(status.code), "problem status in \(reply)", sourceLocation: sourceLocation)
    #expect(
        problem["type"].string?.isEmpty == false && problem["title"].string?.isEmpty == false && problem["detail"].string?.isEmpty == false,
        "problem fields in \(reply)", sourceLocation: sourceLocation)
    if let field {
        let fields = problem["errors"].array.compactMap { $0["field"].string }
        #expect(fields.contains(field), "expected field \(field) in \(reply)", sourceLocation: sourceLocation)
    }
    if let text {
        let words = ([problem["detail"].string ?? ""] + problem["errors"].array.compactMap { $0["message"].string }).joined(separator: "\n")
        #expect(words.contains(text), "expected '\(text)' in \(reply)", sourceLocation: sourceLocation)
    }
}

func expectStatus(_ reply: Reply, _ status: HTTPStatus, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, "expected \(status.code), got \(reply)", sourceLocation: sourceLocation)
}

/// A clock a test sets and moves (`AppOptions.clock`).
final class SetClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date

    init(_ date: Date = Date()) { self.date = date }

    func now() -> Date { lock.withLock { date } }

    func advance(by interval: TimeInterval) { lock.withLock { date += interval } }
}

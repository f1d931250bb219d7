import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Fixtures for co-management: the system switch, co-managed organizations, co-managing users and
/// teams, and their logins (which need two-factor authentication).
extension TestApp {
    /// Sends a request and requires `status`; the answer's JSON.
    @discardableResult
    func must(
        _ status: HTTPStatus, _ method: HTTPMethod, _ path: String, _ json: JSON? = nil, as token: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSON {
        let reply = try await send(method, path, as: token, json: json)
        guard reply.status == status else {
            Issue.record("\(method) \(path) answered \(reply), expected \(status.code)", sourceLocation: sourceLocation)
            throw TestSetupError("\(method) \(path) answered \(reply)")
        }
        return reply.json
    }

    /// Switches co-management on (or off) for the system.
    func setCoManagement(enabled: Bool) async throws {
        try await must(.ok, .PUT, "/api/v1/co-management", ["enabled": .bool(enabled)])
    }

    /// Changes an organization's co-managed setup: its switch and its associated users and teams.
    @discardableResult
    func setUp(_ organizationId: String, coManaged enabled: Bool? = nil, users: [String]? = nil, teams: [String]? = nil) async throws -> JSON {
        var body: JSON = [:]
        if let enabled { body = body.merging(["enabled": .bool(enabled)]) }
        if let users { body = body.merging(["coManagingUserIds": JSON(users)]) }
        if let teams { body = body.merging(["coManagingTeamIds": JSON(teams)]) }
        return try await must(.ok, .PUT, "/api/v1/organizations/\(organizationId)/co-management", body)
    }

    /// A new organization with co-management on (the system switch must be on).
    func coManagedOrganization(_ name: String) async throws -> String {
        let id = try await organization(name)
        try await setUp(id, coManaged: true)
        return id
    }

    func queue(_ name: String) async throws -> String {
        try await create("/api/v1/queues", ["name": .string(name)]).id
    }

    func role(_ name: String, hourlyRate: Double = 120) async throws -> String {
        try await create("/api/v1/roles", ["name": .string(name), "hourlyRate": .number(hourlyRate), "blockHourMultiplier": 1]).id
    }

    /// The body of the co-managing user wizard with a new contact; `extra` overrides any field.
    func coManagingUserBody(
        _ username: String, organizationId: String, queueIds: [String], level: SystemSecurityLevel = .coManagedHelpDesk,
        extra: JSON = [:]
    ) async throws -> JSON {
        let body: JSON = [
            "organizationId": .string(organizationId),
            "contact": ["firstName": .string(username.capitalized), "lastName": "Comanager", "email": .string("\(username)@client.example")],
            "username": .string(username), "password": .string(Self.password),
            "securityLevelId": .string(try await securityLevelId(level)), "queueIds": JSON(queueIds), "confirmLicense": true,
        ]
        return body.merging(extra)
    }

    /// A co-managing user made with the wizard (a new contact, license confirmed); the created user.
    func coManagingUser(
        _ username: String, organizationId: String, queueIds: [String], level: SystemSecurityLevel = .coManagedHelpDesk,
        extra: JSON = [:]
    ) async throws -> JSON {
        try await create(
            "/api/v1/co-managing-users", try await coManagingUserBody(username, organizationId: organizationId, queueIds: queueIds, level: level, extra: extra))
    }

    func coManagingTeam(_ name: String, members: [String]) async throws -> String {
        try await create("/api/v1/co-managing-teams", ["name": .string(name), "memberIds": JSON(members)]).id
    }

    /// Logs a co-managing user in without a code: an administrator pauses 2FA for the next login first.
    func loginCoManaging(_ id: String, _ username: String) async throws -> String {
        try await must(.ok, .POST, "/api/v1/co-managing-users/\(id)/totp-pause", ["for": "nextLogin"])
        return try await login(username, Self.password)
    }

    /// Gives a contact a portal login (email and password); the contact's token.
    func portalLogin(_ contactId: String, email: String, organizationWide: Bool = false) async throws -> String {
        try await must(
            .ok, .PATCH, "/api/v1/contacts/\(contactId)",
            ["email": .string(email), "password": .string(Self.password), "portalOrganizationWide": .bool(organizationWide)])
        return try await login(email, Self.password)
    }

    /// The administrator as the access policy sees it, for calling services directly.
    func adminPrincipal() async throws -> Principal {
        guard let id = UUID(uuidString: adminId), let principal = try await PrincipalLoader.load(id: id, kind: .resource, on: db) else {
            throw TestSetupError("cannot load the administrator")
        }
        return principal
    }

    /// A workflow rule telling `principalIds` of new tickets.
    func workflowRule(_ name: String, referencing principalIds: [String]) async throws -> String {
        try await AutomationRule.notifying(name, people: principalIds.compactMap(UUID.init(uuidString:)), on: db).id!.uuidString
    }

    /// The assignee ids of a ticket, as stored.
    func assignees(_ ticketId: String) async throws -> [String] {
        try await get("/api/v1/tickets/\(ticketId)").json["assigneeIds"].array.compactMap(\.string)
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The standing attack suite's credential part (SPEC §1, §12): who may set or reset a credential,
/// what ends a session, and how many guesses parallel requests get.
@Suite struct AttackSuiteCredentialTests {

    // MARK: Portal logins (the account takeover)

    @Test func onlyCredentialManagersGiveContactsAPortalLogin() async throws {
        try await withApp { t in
            let organization = try await t.organization("Northwind")
            let alice = try await t.contact(organization, "Alice", email: "alice@northwind.example")
            let (_, tara) = try await t.resource("tara")  // a technician: may edit contacts
            let before = try await t.rowCounts()

            // Editing a contact never sets its password, on create or on edit.
            expectProblem(
                try await t.patch("/api/v1/contacts/\(alice)", ["password": "attacker-pass-2026"], as: tara), .forbidden, contains: "manageCredentials")
            expectProblem(
                try await t.post(
                    "/api/v1/contacts",
                    [
                        "organizationId": .string(organization), "firstName": "Mallory", "lastName": "Doe",
                        "email": "mallory@northwind.example", "password": "attacker-pass-2026",
                    ], as: tara),
                .forbidden, contains: "manageCredentials")
            #expect(try await t.rowCounts() == before)
            expectProblem(
                try await t.post("/api/v1/auth/token", ["username": "alice@northwind.example", "password": "attacker-pass-2026"], as: ""), .unauthorized)

            // An administrator sets it, audited as its own event.
            let portal = try await t.portalLogin(alice, email: "alice@northwind.example")
            #expect(try await t.auditEvents(entityId: alice).contains { $0["action"] == "portalLoginSet" })

            // The login email of a contact with a portal login is a credential too; other fields are not.
            expectProblem(
                try await t.patch("/api/v1/contacts/\(alice)", ["email": "mallory@evil.example"], as: tara), .forbidden, contains: "manageCredentials")
            expectStatus(try await t.patch("/api/v1/contacts/\(alice)", ["firstName": "Alicia"], as: tara), .ok)
            let bob = try await t.contact(organization, "Bob", email: "bob@northwind.example")
            expectStatus(try await t.patch("/api/v1/contacts/\(bob)", ["email": "robert@northwind.example"], as: tara), .ok)

            // A new login email or password ends the contact's sessions.
            expectStatus(try await t.get("/api/v1/me", as: portal), .ok)
            expectStatus(try await t.patch("/api/v1/contacts/\(alice)", ["email": "alice@northwind.test"]), .ok)
            expectProblem(try await t.get("/api/v1/me", as: portal), .unauthorized)

            // Removing the portal login is a credential change as well.
            expectProblem(try await t.patch("/api/v1/contacts/\(alice)", ["password": nil], as: tara), .forbidden)
            expectStatus(try await t.patch("/api/v1/contacts/\(alice)", ["password": nil]), .ok)
            expectProblem(
                try await t.post("/api/v1/auth/token", ["username": "alice@northwind.test", "password": .string(TestApp.password)], as: ""), .unauthorized)
        }
    }

    @Test func clientProfilePathsCannotMoveALoginEmail() async throws {
        try await withApp { t in
            let organization = try await t.organization("Northwind")
            let site = try await t.site(organization, "HQ")
            let alice = try await t.profile(site, "Alice", email: "alice@northwind.example").id
            let portal = try await t.portalLogin(alice, email: "alice@northwind.example")
            let (_, tara) = try await t.resource("tara")
            let header = "Id,First Name,Last Name,Email,Office Phone,Office Phone Country"

            // One profile edit, and an import row, as a technician: refused, nothing changes.
            expectProblem(
                try await t.patch("/api/v1/client-profiles/\(alice)", ["email": "mallory@evil.example"], as: tara), .forbidden, contains: "manageCredentials")
            let report = try #require(
                try await t.importProfiles(site, csv: "\(header)\n\(alice),Alice,Profile,mallory@evil.example,5550100,US\n", as: tara).json.object)
            #expect(report["failed"] == 1 && report["edited"] == 0, "\(report)")
            #expect(JSON.object(report)["failures"][0]["column"] == "Email", "\(report)")
            // Other fields of the same profile stay the technician's to edit.
            expectStatus(try await t.patch("/api/v1/client-profiles/\(alice)", ["notes": "Prefers phone calls."], as: tara), .ok)
            expectStatus(try await t.get("/api/v1/me", as: portal), .ok)

            // An administrator's import moves it, and the contact's sessions end.
            let moved = try await t.importReport(site, csv: "\(header)\n\(alice),Alice,Profile,alice@northwind.test,5550100,US\n")
            #expect(moved["edited"] == 1, "\(moved)")
            expectProblem(try await t.get("/api/v1/me", as: portal), .unauthorized)
        }
    }

    @Test func aCoManagingUsersContactLogsInOnlyAsThatUser() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let organization = try await t.coManagedOrganization("Northwind")
            let queue = try await t.queue("Service Desk")
            let nina = try await t.contact(organization, "Nina", email: "nina@northwind.example")
            let portal = try await t.portalLogin(nina, email: "nina@northwind.example")

            // The contact becomes a co-managing user: its portal login and sessions end.
            let body = try await t.coManagingUserBody("nina", organizationId: organization, queueIds: [queue])
            guard case .object(var fields) = body else { throw TestSetupError("no wizard body") }
            fields["contact"] = nil
            fields["contactId"] = .string(nina)
            let user = try await t.create("/api/v1/co-managing-users", .object(fields))
            expectProblem(try await t.get("/api/v1/me", as: portal), .unauthorized)
            expectProblem(
                try await t.post("/api/v1/auth/token", ["username": "nina@northwind.example", "password": .string(TestApp.password)], as: ""), .unauthorized)

            // The co-managing user (who sees and may edit its organization's contacts) cannot give its own
            // contact a portal login, and neither can an administrator.
            try await t.setUp(organization, users: [user.id])
            let token = try await t.loginCoManaging(user.id, "nina")
            expectStatus(try await t.get("/api/v1/contacts/\(nina)", as: token), .ok)
            expectProblem(try await t.patch("/api/v1/contacts/\(nina)", ["password": "second-login-2026"], as: token), .forbidden)
            expectProblem(try await t.patch("/api/v1/contacts/\(nina)", ["password": "second-login-2026"]), .unprocessableEntity, field: "password")
            let stored = try await Contact.find(UUID(uuidString: nina)!, on: t.db)
            #expect(stored?.portalPasswordHash == nil)

            // A portal login such a contact held before (as migration 033 found them) opens nothing.
            stored?.portalPasswordHash = try await t.app.password.async.hash(TestApp.password)
            try await stored?.save(on: t.db)
            expectProblem(
                try await t.post("/api/v1/auth/token", ["username": "nina@northwind.example", "password": .string(TestApp.password)], as: ""), .unauthorized)
        }
    }

    // MARK: The matrix of who may change credentials

    /// Who may call each endpoint that sets a credential, a login name or a security setting: an
    /// independent table of SPEC §1 (credentials are administrators'), not the policy's own answer.
    enum Caller: String, CaseIterable, Sendable {
        case administrator, userManager, technician, dispatcher, helpDesk, coManagingUser, contact
    }

    struct CredentialEndpoint: Sendable {
        var name: String
        var allowed: Set<Caller>
        /// Makes what the call needs (as the administrator), sends it as `token`, and says whether it took effect.
        var call: @Sendable (TestApp, _ token: String, _ n: Int) async throws -> (Reply, tookEffect: Bool)
    }

    static let credentialManagers: Set<Caller> = [.administrator]
    static let securityLevelManagers: Set<Caller> = [.administrator, .userManager]

    static let endpoints: [CredentialEndpoint] = [
        CredentialEndpoint(name: "set a contact's portal password", allowed: credentialManagers) { t, token, n in
            let organization = try await t.organization("Org \(n)")
            let contact = try await t.contact(organization, "Target", email: "target\(n)@client.example")
            let reply = try await t.patch("/api/v1/contacts/\(contact)", ["password": "new-pass-2026-x"], as: token)
            return (reply, try await t.canLogin("target\(n)@client.example", "new-pass-2026-x"))
        },
        CredentialEndpoint(name: "create a contact with a portal password", allowed: credentialManagers) { t, token, n in
            let organization = try await t.organization("Org \(n)")
            let reply = try await t.post(
                "/api/v1/contacts",
                [
                    "organizationId": .string(organization), "firstName": "New", "lastName": "Contact",
                    "email": .string("new\(n)@client.example"), "password": "new-pass-2026-x",
                ], as: token)
            return (reply, try await t.canLogin("new\(n)@client.example", "new-pass-2026-x"))
        },
        CredentialEndpoint(name: "change the login email of a contact with a portal login", allowed: credentialManagers) { t, token, n in
            let organization = try await t.organization("Org \(n)")
            let contact = try await t.contact(organization, "Target", email: "target\(n)@client.example", password: TestApp.password)
            let reply = try await t.patch("/api/v1/contacts/\(contact)", ["email": .string("moved\(n)@evil.example")], as: token)
            return (reply, try await t.canLogin("moved\(n)@evil.example", TestApp.password))
        },
        CredentialEndpoint(name: "set a resource's password", allowed: credentialManagers) { t, token, n in
            let (id, _) = try await t.resource("target\(n)")
            let reply = try await t.patch("/api/v1/resources/\(id)", ["password": "new-pass-2026-x"], as: token)
            return (reply, try await t.canLogin("target\(n)", "new-pass-2026-x"))
        },
        CredentialEndpoint(name: "rename a resource's username", allowed: credentialManagers) { t, token, n in
            let (id, _) = try await t.resource("target\(n)")
            let reply = try await t.patch("/api/v1/resources/\(id)", ["username": .string("renamed\(n)")], as: token)
            return (reply, try await t.canLogin("renamed\(n)", TestApp.password))
        },
        CredentialEndpoint(name: "create a resource with a password", allowed: credentialManagers) { t, token, n in
            let reply = try await t.post(
                "/api/v1/resources",
                [
                    "username": .string("new\(n)"), "password": "new-pass-2026-x", "firstName": "New", "lastName": "Resource",
                    "securityLevelId": .string(try await t.securityLevelId(.technician)),
                ], as: token)
            return (reply, try await t.canLogin("new\(n)", "new-pass-2026-x"))
        },
        CredentialEndpoint(name: "set a co-managing user's password", allowed: credentialManagers) { t, token, n in
            let user = try await t.coManagingUser("target\(n)", organizationId: try await t.northwind(), queueIds: [try await t.serviceDesk()])
            let reply = try await t.patch("/api/v1/co-managing-users/\(user.id)", ["password": "new-pass-2026-x"], as: token)
            let stored = try await CoManagingUser.find(UUID(uuidString: user.id)!, on: t.db)
            return (reply, try await t.app.password.async.verify("new-pass-2026-x", created: stored?.passwordHash ?? ""))
        },
        CredentialEndpoint(name: "rename a co-managing user", allowed: credentialManagers) { t, token, n in
            let user = try await t.coManagingUser("target\(n)", organizationId: try await t.northwind(), queueIds: [try await t.serviceDesk()])
            let reply = try await t.patch("/api/v1/co-managing-users/\(user.id)", ["username": .string("renamed\(n)")], as: token)
            return (reply, try await CoManagingUser.find(UUID(uuidString: user.id)!, on: t.db)?.username == "renamed\(n)")
        },
        CredentialEndpoint(name: "create a co-managing user with a password", allowed: credentialManagers) { t, token, n in
            let body = try await t.coManagingUserBody("new\(n)", organizationId: try await t.northwind(), queueIds: [try await t.serviceDesk()])
            let reply = try await t.post("/api/v1/co-managing-users", body, as: token)
            return (reply, try await CoManagingUser.query(on: t.db).filter(\.$username == "new\(n)").count() > 0)
        },
        CredentialEndpoint(name: "pause a co-managing user's two-factor authentication", allowed: credentialManagers) { t, token, n in
            let user = try await t.coManagingUser("target\(n)", organizationId: try await t.northwind(), queueIds: [try await t.serviceDesk()])
            let reply = try await t.send(.POST, "/api/v1/co-managing-users/\(user.id)/totp-pause", as: token, json: ["for": "24h"])
            return (reply, try await CoManagingUser.find(UUID(uuidString: user.id)!, on: t.db)?.totpPausedUntil != nil)
        },
        CredentialEndpoint(name: "change a security level's permissions", allowed: securityLevelManagers) { t, token, n in
            let level = try await t.create(
                "/api/v1/security-levels", ["name": .string("Level \(n)"), "copyOf": .string(try await t.securityLevelId(.technician))])
            let reply = try await t.patch(
                "/api/v1/security-levels/\(level.id)", ["permissions": ["ticketScope": "myQueues", "admin": ["manageRules"]]], as: token)
            return (reply, try await SecurityLevel.find(UUID(uuidString: level.id)!, on: t.db)?.permissions.ticketScope == .myQueues)
        },
        // Whoever configures levels must not reach credentials through them.
        CredentialEndpoint(name: "grant manageCredentials in a security level", allowed: credentialManagers) { t, token, n in
            let level = try await t.create(
                "/api/v1/security-levels", ["name": .string("Level \(n)"), "copyOf": .string(try await t.securityLevelId(.technician))])
            let reply = try await t.patch(
                "/api/v1/security-levels/\(level.id)", ["permissions": ["ticketScope": "all", "admin": ["manageCredentials"]]], as: token)
            return (reply, try await SecurityLevel.find(UUID(uuidString: level.id)!, on: t.db)?.permissions.has(.manageCredentials) == true)
        },
        CredentialEndpoint(name: "give a resource the Administrator level", allowed: credentialManagers) { t, token, n in
            let (id, _) = try await t.resource("target\(n)")
            let administrator = try await t.securityLevelId(.administrator)
            let reply = try await t.patch("/api/v1/resources/\(id)", ["securityLevelId": .string(administrator)], as: token)
            return (reply, try await Resource.find(UUID(uuidString: id)!, on: t.db)?.securityLevelId.uuidString == administrator)
        },
    ]

    @Test func whoMayChangeCredentials() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let organization = try await t.northwind()
            let queue = try await t.serviceDesk()
            // A level that manages users, settings and levels but not credentials.
            var permissions = SystemSecurityLevel.administrator.permissions
            permissions.admin.remove(.manageCredentials)
            let userManagerLevel = try await t.create(
                "/api/v1/security-levels",
                [
                    "name": "User manager", "copyOf": .string(try await t.securityLevelId(.administrator)),
                    "permissions": try JSON.parse(JSONEncoder().encode(permissions)) ?? .null,
                ])
            var tokens: [Caller: String] = [.administrator: t.adminToken]
            let (userManager, userManagerToken) = try await t.resource("usermanager")
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(userManager)", ["securityLevelId": .string(userManagerLevel.id)])
            tokens[.userManager] = userManagerToken
            tokens[.technician] = try await t.resource("tech").token
            tokens[.dispatcher] = try await t.resource("dispatch", .dispatcher).token
            tokens[.helpDesk] = try await t.resource("helpdesk", .helpDesk).token
            let coManaging = try await t.coManagingUser("comanager", organizationId: organization, queueIds: [queue])
            tokens[.coManagingUser] = try await t.loginCoManaging(coManaging.id, "comanager")
            let contact = try await t.contact(organization, "Portal", email: "portal@client.example")
            tokens[.contact] = try await t.portalLogin(contact, email: "portal@client.example", organizationWide: true)

            var n = 0
            for endpoint in Self.endpoints {
                for caller in Caller.allCases {
                    n += 1
                    let (reply, tookEffect) = try await endpoint.call(t, tokens[caller]!, n)
                    let allowed = endpoint.allowed.contains(caller)
                    #expect(allowed == (200..<300).contains(Int(reply.status.code)), "\(caller) may \(allowed ? "" : "not ")\(endpoint.name): \(reply)")
                    #expect(allowed == tookEffect, "\(caller) \(endpoint.name): took effect \(tookEffect)")
                    if !allowed {
                        // 422 only as "no organization with this id": an organization outside the caller's reach.
                        #expect(
                            [401, 403, 404].contains(reply.status.code) || reply.json["errors"][0]["field"] == "organizationId",
                            "\(caller) \(endpoint.name): \(reply)")
                    }
                }
            }
        }
    }

    // MARK: Sessions

    @Test func passwordChangesAndDeactivationEndSessions() async throws {
        try await withApp { t in
            let (tara, login) = try await t.resource("tara")
            let personal = try #require(try await t.create("/api/v1/me/api-tokens", ["name": "CI"], as: login)["token"].string)

            // An administrator's reset ends every session and token of that principal.
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara)", ["password": "reset-pass-2026"])
            expectProblem(try await t.get("/api/v1/me", as: login), .unauthorized)
            expectProblem(try await t.get("/api/v1/me", as: personal), .unauthorized)
            #expect(try await t.auditEvents(entityId: tara).contains { $0["action"] == "passwordSet" })

            // Their own change keeps the session it was made in and ends the others.
            let kept = try await t.login("tara", "reset-pass-2026")
            let other = try await t.login("tara", "reset-pass-2026")
            expectProblem(
                try await t.send(.PUT, "/api/v1/me/password", as: kept, json: ["currentPassword": "not-my-password", "newPassword": "own-pass-2026-x"]),
                .unprocessableEntity, field: "currentPassword")
            expectStatus(
                try await t.send(.PUT, "/api/v1/me/password", as: kept, json: ["currentPassword": "reset-pass-2026", "newPassword": "own-pass-2026-x"]),
                .noContent)
            expectStatus(try await t.get("/api/v1/me", as: kept), .ok)
            expectProblem(try await t.get("/api/v1/me", as: other), .unauthorized)
            expectProblem(try await t.post("/api/v1/auth/token", ["username": "tara", "password": "reset-pass-2026"], as: ""), .unauthorized)
            _ = try await t.login("tara", "own-pass-2026-x")

            // A password is kept as given, spaces and all: what is set is what logs in.
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara)", ["password": "  spaced pass 2026  "])
            #expect(try await t.canLogin("tara", "  spaced pass 2026  "))
            #expect(try await !t.canLogin("tara", "spaced pass 2026"))
            expectProblem(
                try await t.patch("/api/v1/resources/\(tara)", ["password": .string(String(repeating: " ", count: 12))]), .unprocessableEntity,
                field: "password")
            let kept2 = try await t.login("tara", "  spaced pass 2026  ")

            // Deactivation deletes the tokens, so re-activation revives none.
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara)", ["active": false])
            #expect(try await t.tokenCount(tara) == 0)
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara)", ["active": true])
            expectProblem(try await t.get("/api/v1/me", as: kept), .unauthorized)
            expectProblem(try await t.get("/api/v1/me", as: kept2), .unauthorized)
        }
    }

    @Test func aCoManagingUsersPasswordResetAndDeactivationEndSessions() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let user = try await t.coManagingUser("nina", organizationId: try await t.northwind(), queueIds: [try await t.serviceDesk()])
            let first = try await t.loginCoManaging(user.id, "nina")
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user.id)", ["password": "reset-pass-2026"])
            expectProblem(try await t.get("/api/v1/me", as: first), .unauthorized)

            try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(user.id)/totp-pause", ["for": "nextLogin"])
            let second = try await t.login("nina", "reset-pass-2026")
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user.id)", ["active": false])
            #expect(try await t.tokenCount(user.id) == 0)
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user.id)", ["active": true, "confirmLicense": true])
            expectProblem(try await t.get("/api/v1/me", as: second), .unauthorized)
        }
    }

    @Test func everyPageLoginGetsANewSession() async throws {
        try await withApp { t in
            let planted = try await t.pageSession("admin", TestApp.adminPassword)
            let reply = try await t.submitLogin("admin", TestApp.adminPassword, session: planted)
            expectStatus(reply, .seeOther)
            let fresh = try #require(reply.headers.setCookie?[Tokens.sessionCookie]?.string)
            #expect(fresh != planted)
            // The session the browser held before the login ends.
            #expect(try await Tokens.resolve(planted, on: t.db) == nil)
            #expect(try await Tokens.resolve(fresh, on: t.db) != nil)
        }
    }

    // MARK: Parallel guesses

    /// 100 wrong guesses at once; how many were checked (not refused by the limit).
    static func parallel(_ count: Int = 100, _ attempt: @escaping @Sendable (Int) async throws -> Reply) async throws -> [Reply] {
        try await withThrowingTaskGroup(of: Reply.self) { group in
            for index in 0..<count { group.addTask { try await attempt(index) } }
            var replies: [Reply] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
    }

    static func expectLimit(
        _ replies: [Reply], checked status: HTTPStatus, limit: Int = Login.maxFailuresPerUsername, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let checked = replies.filter { $0.status == status }.count
        let refused = replies.filter { $0.status == .tooManyRequests }.count
        #expect(checked == limit, "\(checked) guesses were checked, the limit is \(limit)", sourceLocation: sourceLocation)
        #expect(
            checked + refused == replies.count, "other answers: \(replies.filter { $0.status != status && $0.status != .tooManyRequests }.prefix(3))",
            sourceLocation: sourceLocation)
    }

    @Test func parallelWrongPasswordsNeverPassTheLimit() async throws {
        try await withApp { t in
            _ = try await t.resource("tara")
            let api = try await Self.parallel { i in
                try await t.post("/api/v1/auth/token", ["username": "tara", "password": .string("wrong-\(i)-password")], as: "")
            }
            Self.expectLimit(api, checked: .unauthorized)
            expectProblem(try await t.post("/api/v1/auth/token", ["username": "tara", "password": .string(TestApp.password)], as: ""), .tooManyRequests)

            // The login page counts the same way.
            try await t.clearThrottles()
            let form = try await t.loginForm()
            let page = try await Self.parallel { i in try await t.submitLogin("tara", "wrong-\(i)-password", form: form) }
            Self.expectLimit(page, checked: .unauthorized)

            // And so does a principal's own password change.
            try await t.clearThrottles()
            let token = try await t.login("tara", TestApp.password)
            let own = try await Self.parallel { i in
                try await t.send(
                    .PUT, "/api/v1/me/password", as: token, json: ["currentPassword": .string("wrong-\(i)-password"), "newPassword": "whatever-2026-x"])
            }
            Self.expectLimit(own, checked: .unprocessableEntity)
        }
    }

    @Test func parallelWrongCodesNeverPassTheLimit() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let organization = try await t.northwind()
            let queue = try await t.serviceDesk()

            // Enrolment: wrong codes for the new secret.
            _ = try await t.coManagingUser("omar", organizationId: organization, queueIds: [queue])
            let enrolment = try #require(
                try await t.post("/api/v1/auth/token", ["username": "omar", "password": .string(TestApp.password)], as: "").json["enrolmentToken"].string)
            let secret = try #require(try await t.must(.ok, .POST, "/api/v1/me/totp", as: enrolment)["secret"].string)
            let totp = TandemCore.TOTP(secret: try #require(Base32.decode(secret)))
            let wrong = Self.wrongCode(totp)
            let confirms = try await Self.parallel { _ in try await t.post("/api/v1/me/totp/confirm", ["code": .string(wrong)], as: enrolment) }
            Self.expectLimit(confirms, checked: .unprocessableEntity)

            // Login: the right password with wrong codes.
            try await t.clearThrottles()
            try await CoManagingUser.query(on: t.db).filter(\.$username == "omar").set(\.$totpConfirmed, to: true).update()
            let logins = try await Self.parallel { _ in
                try await t.post("/api/v1/auth/token", ["username": "omar", "password": .string(TestApp.password), "totp": .string(wrong)], as: "")
            }
            Self.expectLimit(logins, checked: .unauthorized)
            #expect(logins.filter { $0.status == .unauthorized }.allSatisfy { $0.json["type"].string?.hasSuffix("totp-required") == true })
        }
    }

    /// A code that is not valid in the verification window around now.
    static func wrongCode(_ totp: TandemCore.TOTP) -> String {
        let now = Date()
        let valid = Set([-60.0, -30, 0, 30, 60].map { totp.code(at: now.addingTimeInterval($0)) })
        return (0..<10).map { String(repeating: String($0), count: 6) }.first { !valid.contains($0) }!
    }

    // MARK: Redirects

    static let offSiteTargets = [
        "//evil.example", "/\\evil.example", "\\\\evil.example", "/%09/evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
        "https://evil.example/", "http:evil.example", "javascript:alert(1)", " /evil", "/ /evil.example", "/\u{2028}/evil.example",
        "/%2F/evil.example", "/%5Cevil.example", "%2F%2Fevil.example", "evil.example", "/\u{0}/evil.example",
    ]

    /// What a browser makes of a `Location`: WHATWG URL parsing drops ASCII tabs and newlines first.
    static func expectSameOrigin(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        let location = reply.headers.first(name: .location) ?? ""
        let base = URL(string: "https://tandem.example/login")!
        let cleaned = location.filter { !["\t", "\n", "\r"].contains($0) }
        let resolved = URL(string: cleaned, relativeTo: base)?.absoluteURL
        #expect(
            resolved?.host == "tandem.example" && resolved?.scheme == "https", "Location \(location.debugDescription) leaves the site",
            sourceLocation: sourceLocation)
        #expect(
            location.hasPrefix("/") && !location.hasPrefix("//") && !location.contains("\\"), "Location \(location.debugDescription)",
            sourceLocation: sourceLocation)
    }

    @Test func pageRedirectsStayOnTheSite() async throws {
        try await withApp { t in
            let session = try await t.pageSession("admin", TestApp.adminPassword)
            for target in Self.offSiteTargets {
                // After a login.
                let login = try await t.submitLogin("admin", TestApp.adminPassword, next: target)
                expectStatus(login, .seeOther)
                Self.expectSameOrigin(login)
                #expect(login.headers.first(name: .location) == "/tickets", "\(target.debugDescription) → \(login.headers.first(name: .location) ?? "")")
                // The login page when already logged in, and the form it renders.
                let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let again = try await t.get("/login?next=\(encoded)", as: "", headers: ["Cookie": "\(Tokens.sessionCookie)=\(session)"])
                Self.expectSameOrigin(again)
                let form = try await t.get("/login?next=\(encoded)", as: "")
                #expect(!form.text.contains("evil.example"), "the login form carries \(target.debugDescription)")
            }
            // Paths on the site are kept, queries and all.
            let kept = try await t.submitLogin("admin", TestApp.adminPassword, next: "/tickets?q=printer%20jam&status=new")
            #expect(kept.headers.first(name: .location) == "/tickets?q=printer%20jam&status=new")
            // Logout and the two-factor setup send people to the login page, nowhere else.
            let logout = try await t.send(
                .POST, "/logout", as: "", raw: TestApp.formEncoded([("_csrf", CSRF.token(forSession: session))]),
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": "\(Tokens.sessionCookie)=\(session)"])
            Self.expectSameOrigin(logout)
            let setup = try await t.get("/login/two-factor?next=%2F%2Fevil.example", as: "")
            Self.expectSameOrigin(setup)
        }
    }

    // MARK: The session cookie on the API

    @Test func cookieAuthenticatedAPIWritesNeedProofOfOrigin() async throws {
        try await withApp { t in
            let session = try await t.pageSession("admin", TestApp.adminPassword)
            let cookie = "\(Tokens.sessionCookie)=\(session)"
            let host = "tandem.example:8080"
            func write(_ body: String, _ headers: HTTPHeaders) async throws -> Reply {
                var headers = headers
                headers.replaceOrAdd(name: .cookie, value: cookie)
                headers.replaceOrAdd(name: .host, value: host)
                return try await t.send(.POST, "/api/v1/organizations", as: "", raw: body, headers: headers)
            }
            let before = try await t.count("organizations")
            // A form another site's page posts: the cookie rides along, the write is refused.
            expectProblem(try await write("name=Evil", ["Content-Type": "application/x-www-form-urlencoded"]), .forbidden, contains: "X-CSRF-Token")
            expectProblem(try await write("name=Evil", ["Content-Type": "text/plain"]), .forbidden)
            expectProblem(try await write(#"{"name":"Evil"}"#, ["Content-Type": "application/json", "Origin": "https://evil.example"]), .forbidden)
            expectProblem(try await write(#"{"name":"Evil"}"#, ["Content-Type": "application/json"]), .forbidden)
            #expect(try await t.count("organizations") == before)
            // Reads with the cookie still work.
            expectStatus(try await t.get("/api/v1/me", as: "", headers: ["Cookie": cookie]), .ok)
            // Tandem's own pages: the session's CSRF token, or JSON from this very origin.
            expectStatus(try await write(#"{"name":"Mine"}"#, ["Content-Type": "application/json", "X-CSRF-Token": CSRF.token(forSession: session)]), .created)
            expectStatus(try await write(#"{"name":"Also mine"}"#, ["Content-Type": "application/json", "Origin": "https://\(host)"]), .created)
            // Bearer tokens need neither (a form body is no JSON, whoever sends it: 415).
            expectStatus(try await t.send(.POST, "/api/v1/organizations", raw: #"{"name":"Bearer"}"#), .created)
            expectProblem(
                try await t.send(.POST, "/api/v1/organizations", raw: "name=Bearer", headers: ["Content-Type": "application/x-www-form-urlencoded"]),
                .unsupportedMediaType)
        }
    }

    // MARK: Headers and metrics

    @Test func responsesCarryNoSniffAndMetricsCanBeLimited() async throws {
        try await withApp { t in
            for reply in [try await t.get("/api/v1/me"), try await t.get("/api/v1/tickets/not-an-id"), try await t.get("/api/v1/me", as: "")] {
                #expect(reply.headers.first(name: "X-Content-Type-Options") == "nosniff", "\(reply)")
                #expect(reply.headers.first(name: .cacheControl) == "no-store", "\(reply)")
            }
            expectStatus(try await t.get("/metrics", as: ""), .ok)

            var options = t.app.settings.options
            options.metricsToken = "metrics-secret-2026"
            t.app.settings = AppSettings(options: options, blobs: t.app.settings.blobs)
            expectProblem(try await t.get("/metrics", as: ""), .unauthorized)
            expectProblem(try await t.get("/metrics", as: "wrong-secret"), .unauthorized)
            expectStatus(try await t.get("/metrics", as: "metrics-secret-2026"), .ok)

            options.metricsToken = nil
            options.metricsAllowedAddresses = ["192.0.2.1"]
            t.app.settings = AppSettings(options: options, blobs: t.app.settings.blobs)
            expectProblem(try await t.send(.GET, "/metrics", as: "", live: true), .forbidden)
            options.metricsAllowedAddresses = ["127.0.0.1"]
            t.app.settings = AppSettings(options: options, blobs: t.app.settings.blobs)
            expectStatus(try await t.send(.GET, "/metrics", as: "", live: true), .ok)
        }
    }
}

extension TestApp {
    func canLogin(_ username: String, _ password: String) async throws -> Bool {
        try await post("/api/v1/auth/token", ["username": .string(username), "password": .string(password)], as: "").status == .ok
    }

    func tokenCount(_ principalId: String) async throws -> Int {
        try await APIToken.query(on: db).filter(\.$principalId == UUID(uuidString: principalId)!).count()
    }

    func clearThrottles() async throws {
        try await db.sql.raw("DELETE FROM login_throttles").run()
    }

    /// The co-managed organization "Northwind" of the credential tests, made once per test.
    func northwind() async throws -> String {
        if let existing = try await Organization.query(on: db).filter(\.$name == "Northwind").first() { return existing.id!.uuidString }
        return try await coManagedOrganization("Northwind")
    }

    func serviceDesk() async throws -> String {
        if let existing = try await Queue.query(on: db).filter(\.$name == "Service Desk").first() { return existing.id!.uuidString }
        return try await queue("Service Desk")
    }
}

import Fluent
import Foundation
import Testing
import VaporTesting

@testable import App

/// Logins, their rate limit, tokens and logout (Appendix A, SPEC §12).
@Suite struct AuthenticationTests {
    /// Login tokens last 12 hours by the app's clock: moved past that, the token no longer opens anything.
    @Test func loginTokensExpireByTheAppsClock() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let (_, token) = try await t.resource("tess")
            expectStatus(try await t.get("/api/v1/me", as: token), .ok)
            clock.advance(by: 11 * 3600)
            expectStatus(try await t.get("/api/v1/me", as: token), .ok)
            clock.advance(by: 2 * 3600)
            expectProblem(try await t.get("/api/v1/me", as: token), .unauthorized)
            // What is written carries the clock's time too.
            let admin = try await t.login("admin", TestApp.adminPassword)
            let organizationId = try await t.create("/api/v1/organizations", ["name": "Contoso"], as: admin).id
            let created = try await t.ticket(organizationId, as: admin)
            #expect(created["createdAt"].string == ISO8601.string(from: clock.now()))
        }
    }

    @Test func loginIsRateLimited() async throws {
        try await withApp { t in
            let (_, _) = try await t.resource("tara")
            for attempt in 1...5 {
                let wrong = try await t.post("/api/v1/auth/token", ["username": "tara", "password": .string("wrong-password-\(attempt)")], as: "")
                expectProblem(wrong, .unauthorized, contains: "username or password is wrong")
            }
            // The sixth attempt is refused before the password is looked at, even when it is right.
            let sixth = try await t.post("/api/v1/auth/token", ["username": "tara", "password": .string(TestApp.password)], as: "")
            expectProblem(sixth, .tooManyRequests)
            let retryAfter = try #require(sixth.headers.first(name: .retryAfter).flatMap(Int.init))
            #expect(retryAfter > 0)
            // The limit is per username: others still log in, and the tenant-domain form counts as the same user.
            _ = try await t.login("admin", TestApp.adminPassword)
            expectProblem(
                try await t.post("/api/v1/auth/token", ["username": "TARA@tandem.local", "password": .string(TestApp.password)], as: ""), .tooManyRequests)
        }
    }

    @Test func loginWithTheTenantDomain() async throws {
        try await withApp { t in
            let (id, _) = try await t.resource("tara")
            let reply = try await t.post("/api/v1/auth/token", ["username": "tara@tandem.local", "password": .string(TestApp.password)], as: "")
            expectStatus(reply, .ok)
            #expect(reply.json["principal"]["id"] == .string(id))
            #expect(reply.json["principal"]["kind"] == "resource")
            #expect(reply.json["expiresAt"].string != nil)
            let token = try #require(reply.json["token"].string)
            #expect(try await t.get("/api/v1/me", as: token).json["id"] == .string(id))
            // The tenant domain is a system setting.
            try await Setting.query(on: t.db).filter(\.$id == Setting.tenantDomain).set(\.$value, to: "msp.example").update()
            expectStatus(try await t.post("/api/v1/auth/token", ["username": "tara@msp.example", "password": .string(TestApp.password)], as: ""), .ok)
            expectProblem(
                try await t.post("/api/v1/auth/token", ["username": "tara@tandem.local", "password": .string(TestApp.password)], as: ""), .unauthorized)
        }
    }

    @Test func unknownUsersAndWrongPasswordsLookTheSame() async throws {
        try await withApp { t in
            let unknown = try await t.post("/api/v1/auth/token", ["username": "nobody", "password": "whatever-pass"], as: "")
            let wrong = try await t.post("/api/v1/auth/token", ["username": "admin", "password": "whatever-pass"], as: "")
            expectProblem(unknown, .unauthorized)
            #expect(unknown.json == wrong.json)
        }
    }

    @Test func tokensAndLogout() async throws {
        try await withApp { t in
            expectProblem(try await t.get("/api/v1/me", as: ""), .unauthorized)
            expectProblem(try await t.get("/api/v1/tickets", as: ""), .unauthorized)
            expectProblem(try await t.get("/api/v1/tickets", as: "tdm_not-a-real-token"), .unauthorized)

            // Personal API tokens work like login tokens until revoked.
            let personal = try await t.create("/api/v1/me/api-tokens", ["name": "CI", "expiresInDays": 30])
            let secret = try #require(personal["token"].string)
            expectStatus(try await t.get("/api/v1/me", as: secret), .ok)
            let listed = try await t.get("/api/v1/me/api-tokens").json["items"].array
            #expect(listed.map(\.id) == [personal.id])
            #expect(listed.first?["token"].isNull == true, "the secret is shown once")
            expectStatus(try await t.delete("/api/v1/me/api-tokens/\(personal.id)"), .noContent)
            expectProblem(try await t.get("/api/v1/me", as: secret), .unauthorized)

            // Logout ends the token it was sent with.
            let token = try await t.login("admin", TestApp.adminPassword)
            expectStatus(try await t.send(.POST, "/api/v1/auth/logout", as: token), .noContent)
            expectProblem(try await t.get("/api/v1/me", as: token), .unauthorized)
            expectStatus(try await t.get("/api/v1/me"), .ok)
        }
    }

    @Test func documentsAndHealth() async throws {
        try await withApp { t in
            let openapi = try await t.get("/api/v1/openapi.yaml", as: "")
            expectStatus(openapi, .ok)
            #expect(openapi.text.hasPrefix("openapi: 3.1"))
            expectStatus(try await t.get("/healthz", as: ""), .ok)
            expectStatus(try await t.get("/metrics", as: ""), .ok)
            expectProblem(try await t.get("/api/v1/no-such-thing"), .notFound)
            // The pages' stylesheet, served without a session or token.
            let css = try await t.get("/tandem.css", as: "")
            expectStatus(css, .ok)
            #expect(css.contentType.hasPrefix("text/css") && css.text.contains("{"), "\(css)")
            expectProblem(try await t.get("/other.css", as: ""), .notFound)
        }
    }
}

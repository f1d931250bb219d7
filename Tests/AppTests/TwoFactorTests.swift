import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Mandatory TOTP for co-managing users (SPEC §2, Appendix A): enrolment on first login, login with a
/// code, no replay, the administrator's pauses, and no way to switch it off.
@Suite struct TwoFactorTests {
    static let username = "nina"

    /// A co-managing user who has not enrolled yet; its id.
    static func user(_ t: TestApp) async throws -> String {
        try await t.setCoManagement(enabled: true)
        let organization = try await t.coManagedOrganization("Northwind")
        let queue = try await t.queue("Service Desk")
        return try await t.coManagingUser(username, organizationId: organization, queueIds: [queue]).id
    }

    static func login(_ t: TestApp, totp: String? = nil) async throws -> Reply {
        var body: JSON = ["username": .string(username), "password": .string(TestApp.password)]
        if let totp { body = body.merging(["totp": .string(totp)]) }
        return try await t.post("/api/v1/auth/token", body, as: "")
    }

    /// Enrols the user through the API; the TOTP of its secret. Codes come from the app's clock, which the
    /// server checks them against: a stall on a busy machine must not push a code out of its window.
    static func enrol(_ t: TestApp, _ clock: SetClock) async throws -> TandemCore.TOTP {
        let enrolment = try #require(try await login(t).json["enrolmentToken"].string)
        let secret = try #require(try await t.must(.ok, .POST, "/api/v1/me/totp", as: enrolment)["secret"].string)
        let totp = TandemCore.TOTP(secret: try #require(Base32.decode(secret)))
        try await t.must(.noContent, .POST, "/api/v1/me/totp/confirm", ["code": .string(totp.code(at: clock.now()))], as: enrolment)
        return totp
    }

    static func expectTOTPRequired(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        expectProblem(reply, .unauthorized, sourceLocation: sourceLocation)
        #expect(reply.json["type"].string?.hasSuffix("totp-required") == true, "\(reply)", sourceLocation: sourceLocation)
    }

    @Test func enrolmentOnFirstLoginThenEveryLoginNeedsAFreshCode() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let id = try await Self.user(t)

            // First login: the right password, no enrolment yet.
            let first = try await Self.login(t)
            expectProblem(first, .unauthorized)
            #expect(first.json["type"].string?.hasSuffix("totp-enrolment-required") == true)
            let enrolment = try #require(first.json["enrolmentToken"].string)

            // The enrolment token is good for enrolment only.
            for path in ["/api/v1/me", "/api/v1/tickets", "/api/v1/co-managing-users/\(id)"] {
                expectProblem(try await t.get(path, as: enrolment), .unauthorized)
            }
            expectProblem(try await t.post("/api/v1/me/api-tokens", ["name": "sneaky"], as: enrolment), .unauthorized)
            expectProblem(try await t.post("/api/v1/me/totp/confirm", ["code": "123456"], as: enrolment), .conflict, contains: "start enrolment first")

            let started = try await t.must(.ok, .POST, "/api/v1/me/totp", as: enrolment)
            let secret = try #require(started["secret"].string)
            let bytes = try #require(Base32.decode(secret))
            #expect(bytes.count == 20)
            #expect(started["otpauthUri"].string?.hasPrefix("otpauth://totp/Tandem:nina@tandem.local?secret=\(secret)&issuer=Tandem") == true)
            let totp = TandemCore.TOTP(secret: bytes)
            let now = clock.now()
            let wrong = String(format: "%06d", (Int(totp.code(at: now))! + 1) % 1_000_000)
            expectProblem(try await t.post("/api/v1/me/totp/confirm", ["code": .string(wrong)], as: enrolment), .unprocessableEntity, field: "code")
            #expect(try await t.get("/api/v1/co-managing-users/\(id)").json["totpEnrolled"] == false)

            try await t.must(.noContent, .POST, "/api/v1/me/totp/confirm", ["code": .string(totp.code(at: now))], as: enrolment)

            #expect(try await t.get("/api/v1/co-managing-users/\(id)").json["totpEnrolled"] == true)
            // The enrolment token is spent.
            expectProblem(try await t.post("/api/v1/me/totp", [:], as: enrolment), .unauthorized)
            // From now on a login needs a code: missing or wrong is refused.
            Self.expectTOTPRequired(try await Self.login(t))
            Self.expectTOTPRequired(try await Self.login(t, totp: wrong))
            Self.expectTOTPRequired(try await Self.login(t, totp: "abcdef"))
            // The next step's code (the confirmation used this one) logs in.
            let code = totp.code(at: clock.now().addingTimeInterval(30))
            let ok = try await Self.login(t, totp: code)
            expectStatus(ok, .ok)
            #expect(ok.json["principal"]["kind"] == "coManagingUser")
            let token = try #require(ok.json["token"].string)
            #expect(try await t.get("/api/v1/me", as: token).json["id"] == .string(id))
            // A code is good once, and an older one is no good after a newer one.
            Self.expectTOTPRequired(try await Self.login(t, totp: code))
            Self.expectTOTPRequired(try await Self.login(t, totp: totp.code(at: clock.now())))
        }
    }

    @Test func twoFactorCannotBeSwitchedOff() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let id = try await Self.user(t)
            let totp = try await Self.enrol(t, clock)
            let token = try #require(try await Self.login(t, totp: totp.code(at: clock.now().addingTimeInterval(30))).json["token"].string)

            // Enrolling again is refused (that would reset the secret); there is nothing to delete.
            expectProblem(try await t.post("/api/v1/me/totp", [:], as: token), .conflict, contains: "already set up")
            let delete = try await t.delete("/api/v1/me/totp", as: token)
            #expect([HTTPStatus.notFound, .methodNotAllowed].contains(delete.status), "\(delete)")
            // An administrator cannot turn it off either: the flag is not writable.
            let edited = try await t.patch("/api/v1/co-managing-users/\(id)", ["totpEnrolled": false, "timesheetStart": "2026-01-05"])
            expectStatus(edited, .ok)
            #expect(edited.json["totpEnrolled"] == true)
            Self.expectTOTPRequired(try await Self.login(t))
            // MSP resources log in without a code.
            _ = try await t.login("admin", TestApp.adminPassword)
        }
    }

    @Test func pauseForTheNextLogin() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let id = try await Self.user(t)
            _ = try await Self.enrol(t, clock)

            let paused = try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(id)/totp-pause", ["for": "nextLogin"])

            #expect(paused.id == id)
            expectStatus(try await Self.login(t), .ok)
            Self.expectTOTPRequired(try await Self.login(t))
            let events = try await t.auditEvents(entityId: id).map { $0["action"] }
            #expect(events.contains("totpPaused"))
            #expect(events.contains("totpPauseUsed"))
        }
    }

    @Test func pauseFor24HoursExpires() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let id = try await Self.user(t)
            let totp = try await Self.enrol(t, clock)
            let userId = try #require(UUID(uuidString: id))

            let pausedAt = clock.now()
            try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(id)/totp-pause", ["for": "24h"])

            // Any number of logins without a code for 24 hours…
            expectStatus(try await Self.login(t), .ok)
            expectStatus(try await Self.login(t), .ok)
            try await TwoFactor.checkLogin(userId: userId, code: nil, now: pausedAt.addingTimeInterval(23 * 3600), on: t.db)
            // …then a code again.
            let later = pausedAt.addingTimeInterval(25 * 3600)
            do {
                try await TwoFactor.checkLogin(userId: userId, code: nil, now: later, on: t.db)
                Issue.record("25 hours later a login without a code passed")
            } catch TandemError.totpRequired {
            }
            try await TwoFactor.checkLogin(userId: userId, code: totp.code(at: later), now: later, on: t.db)
        }
    }

    @Test func onlyAdministratorsPause() async throws {
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let id = try await Self.user(t)
            let (_, technician) = try await t.resource("tech")
            let own = try await t.loginCoManaging(id, Self.username)

            expectProblem(try await t.post("/api/v1/co-managing-users/\(id)/totp-pause", ["for": "nextLogin"], as: technician), .forbidden)
            expectProblem(try await t.post("/api/v1/co-managing-users/\(id)/totp-pause", ["for": "24h"], as: own), .forbidden)
            expectProblem(try await t.post("/api/v1/co-managing-users/\(id)/totp-pause", ["for": "forever"]), .unprocessableEntity, field: "for")
            expectProblem(try await t.post("/api/v1/co-managing-users/\(UUID().uuidString)/totp-pause", ["for": "nextLogin"]), .notFound)
            // The pause for the next login was used by `loginCoManaging`; the next login asks for enrolment again.
            #expect(try await Self.login(t).json["type"].string?.hasSuffix("totp-enrolment-required") == true)
        }
    }
}

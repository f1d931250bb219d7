import Fluent
import Foundation
import TandemCore
import Vapor

/// Mandatory TOTP for co-managing users (SPEC §2): enrolment, login check, admin pause.
enum TwoFactor {
    static let enrolmentLifetime: TimeInterval = 15 * 60
    static let issuer = "Tandem"

    enum Pause: String, Codable, CaseIterable {
        case nextLogin
        case hours24 = "24h"
    }

    /// Called after a correct password. Throws when a code is needed (or enrolment is).
    static func checkLogin(userId: UUID, code: String?, now: Date? = nil, on db: any Database) async throws {
        let now = now ?? db.now
        guard let user = try await CoManagingUser.find(userId, on: db) else { throw TandemError.unauthorized("The username or password is wrong.") }
        if user.totpPauseNextLogin {
            user.totpPauseNextLogin = false
            try await db.write { db in
                try await user.save(on: db)
                try await Audit.record("totpPauseUsed", CoManagingUser.schema, id: userId, by: nil, organizationId: user.organizationId, on: db)
            }
            return
        }
        if let until = user.totpPausedUntil, until > now { return }
        guard user.totpConfirmed, let secret = try TOTPSecrets.read(user, on: db).flatMap(Base32.decode) else {
            let (token, _) = try await Tokens.issue(for: (userId, .coManagingUser), kind: .enrolment, lifetime: enrolmentLifetime, on: db)
            throw TandemError.totpEnrolmentRequired(enrolmentToken: token)
        }
        guard let code, !code.isEmpty else {
            throw TandemError.totpRequired("Enter the 6-digit code from your authenticator app (field totp).")
        }
        guard let counter = TOTP(secret: secret).verify(code, at: now), Int(counter) > (user.totpLastCounter ?? -1) else {
            throw TandemError.totpRequired("The two-factor code is wrong, expired or already used.")
        }
        user.totpLastCounter = Int(counter)
        try await db.write { db in try await user.save(on: db) }
    }

    /// Starts enrolment: a new secret, shown once. Refused once enrolment is confirmed.
    static func enrol(_ principal: Principal, on db: any Database) async throws -> (secret: String, uri: String) {
        let user = try await enrollingUser(principal, on: db)
        guard !user.totpConfirmed else {
            throw TandemError.conflict("two-factor authentication is already set up; an administrator can pause it if the device was lost")
        }
        let secret = Base32.encode(TOTP.generateSecret())
        try TOTPSecrets.store(secret, in: user, on: db)
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value ?? "tandem.local"
        try await db.write { db in
            try await user.save(on: db)
            try await Audit.record("totpEnrolmentStarted", CoManagingUser.schema, id: user.id, by: principal, organizationId: user.organizationId, on: db)
        }
        let totp = TOTP(secret: Base32.decode(secret)!)
        return (secret, totp.provisioningURI(account: "\(user.username)@\(domain)", issuer: issuer))
    }

    static func confirm(_ principal: Principal, code: String, now: Date? = nil, on db: any Database) async throws {
        let now = now ?? db.now
        let user = try await enrollingUser(principal, on: db)
        guard !user.totpConfirmed else { throw TandemError.conflict("two-factor authentication is already set up") }
        guard let secret = try TOTPSecrets.read(user, on: db).flatMap(Base32.decode) else {
            throw TandemError.conflict("start enrolment first: POST /api/v1/me/totp")
        }
        // Wrong codes are limited like logins, so the secret cannot be guessed while the enrolment token lasts.
        let attempt = LoginThrottle.Attempt(key: "totp-confirm:\(user.id!.uuidString)", limit: Login.maxFailuresPerUsername)
        guard try await LoginThrottle.attempt([attempt], now: now, on: db) else { throw TandemError.rateLimited(retryAfterSeconds: Int(Login.window)) }
        guard let counter = TOTP(secret: secret).verify(code, at: now) else {
            throw TandemError.invalid("code", "the code does not match; check the authenticator app's clock and try the current code")
        }
        try await LoginThrottle.release([attempt.key], on: db)
        user.totpConfirmed = true
        user.totpLastCounter = Int(counter)
        try await db.write { db in
            try await user.save(on: db)
            // The enrolment tokens have done their job.
            try await APIToken.query(on: db).filter(\.$principalId == user.id!).filter(\.$kind == APIToken.Kind.enrolment.rawValue).delete()
            try await Audit.record("totpEnrolled", CoManagingUser.schema, id: user.id, by: principal, organizationId: user.organizationId, on: db)
        }
    }

    /// An admin pauses 2FA for a user who lost their device: for the next login, or for 24 hours.
    static func pause(userId: UUID, _ pause: Pause, now: Date? = nil, by principal: Principal, on db: any Database) async throws -> CoManagingUser {
        let now = now ?? db.now
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let user = try await CoManagingUsers.visible(userId, by: principal, on: db)
        guard !user.erased else { throw TandemError.notFound("co-managing user") }
        try AccessPolicy.authorizeCredentialChange(principal, .twoFactor)
        switch pause {
        case .nextLogin: user.totpPauseNextLogin = true
        case .hours24: user.totpPausedUntil = now.addingTimeInterval(24 * 3600)
        }
        try await db.write { db in
            try await user.save(on: db)
            try await Audit.record(
                "totpPaused", CoManagingUser.schema, id: userId, by: principal, organizationId: user.organizationId,
                after: ["for": pause.rawValue], on: db)
        }
        return user
    }

    private static func enrollingUser(_ principal: Principal, on db: any Database) async throws -> CoManagingUser {
        guard AccessPolicy.requiresTwoFactor(principal.kind), let user = try await CoManagingUser.find(principal.id, on: db) else {
            throw TandemError.conflict("two-factor enrolment here is for co-managing users")
        }
        return user
    }
}

/// The co-managing users' TOTP secrets under the vault's envelope encryption (SPEC §9), each bound to
/// its user: a sealed secret copied to another user does not open.
enum TOTPSecrets {
    static func binding(_ userId: UUID) -> VaultBinding { VaultBinding("coManagingUser.totp", rowId: userId) }

    static func read(_ user: CoManagingUser, on db: any Database) throws -> String? {
        guard let sealed = user.totpSecretSealed else { return nil }
        return try db.vault().open(stored: sealed, for: binding(try user.requireID()))
    }

    static func store(_ secret: String?, in user: CoManagingUser, on db: any Database) throws {
        user.totpSecretSealed = try secret.map { try db.vault().seal(stored: $0, for: binding(try user.requireID())) }
    }
}

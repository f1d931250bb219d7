import Fluent
import Foundation
import Vapor

/// The co-managing user wizard's draft, in the database (any instance may serve the next step): the
/// password typed at the details step, hashed at once, for the page session that typed it. The later
/// steps never carry the password in their HTML; the draft goes when the user is created, when the
/// wizard starts anew, when the session ends (cascade) or after an hour.
final class CoManagingUserDraft: Model, @unchecked Sendable {
    static let schema = "co_managing_user_drafts"
    static let lifetime: TimeInterval = 3600

    @ID(key: .id) var id: UUID?
    @Field(key: "session_id") var sessionId: UUID
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "expires_at") var expiresAt: Date

    init() {}

    /// The hash of the password the session typed, if its draft has not expired.
    static func passwordHash(session: UUID, on db: any Database) async throws -> String? {
        try await query(on: db).filter(\.$sessionId == session).filter(\.$expiresAt > Date()).first()?.passwordHash
    }

    /// Keeps `passwordHash` for the session, replacing its earlier draft; expired drafts of every session go too.
    static func keep(_ passwordHash: String, session: UUID, on db: any Database) async throws {
        try await db.write { db in
            try await query(on: db).group(.or) { $0.filter(\.$sessionId == session).filter(\.$expiresAt <= Date()) }.delete()
            let draft = CoManagingUserDraft()
            draft.id = .v7()
            draft.sessionId = session
            draft.passwordHash = passwordHash
            draft.expiresAt = Date().addingTimeInterval(lifetime)
            try await draft.create(on: db)
        }
    }

    static func discard(session: UUID, on db: any Database) async throws {
        try await query(on: db).filter(\.$sessionId == session).delete()
    }
}

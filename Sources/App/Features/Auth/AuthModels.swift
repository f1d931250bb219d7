import Fluent
import Foundation
import TandemCore

/// Bearer tokens and page sessions; only the SHA-256 of the secret is stored.
final class APIToken: Model, @unchecked Sendable {
    static let schema = "api_tokens"

    enum Kind: String, Codable, Sendable {
        /// From `POST /auth/token`.
        case login
        /// Long-lived personal tokens.
        case personal
        /// Page sessions (cookie).
        case session
        /// Good only for TOTP enrolment.
        case enrolment
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "principal_id") var principalId: UUID
    @Field(key: "principal_kind") var principalKind: String
    @Field(key: "kind") var kind: String
    @OptionalField(key: "name") var name: String?
    @Field(key: "expires_at") var expiresAt: Date
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

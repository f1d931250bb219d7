import Fluent
import Foundation
import TandemCore

/// A security-related request on a ticket (SPEC §8): what was asked, the decision, and where it stands.
final class SecurityRequest: Model, @unchecked Sendable {
    static let schema = "security_requests"

    @ID(key: .id) var id: UUID?
    @Field(key: "ticket_id") var ticketId: UUID
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "site_id") var siteId: UUID
    @Field(key: "category") var category: SecurityCategory
    /// The person the request is about (the new user, whose password…).
    @OptionalField(key: "subject_contact_id") var subjectContactId: UUID?
    /// Who called in: the caller's code goes to their mobile.
    @OptionalField(key: "caller_contact_id") var callerContactId: UUID?
    @Field(key: "details") var details: String
    /// `SecurityRequestFacts` beyond the category (password target, software, Tier 4 change), as JSON.
    @Field(key: "facts") var factsJSON: String
    /// `SecurityRequestProgress` as JSON; `status` repeats its status for lists.
    @Field(key: "progress") var progressJSON: String
    @Field(key: "status") var status: SecurityRequestProgress.Status
    @OptionalField(key: "requested_by") var requestedBy: UUID?
    @Field(key: "requested_by_name") var requestedByName: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var facts: StoredFacts { JSONColumn.decode(factsJSON, default: StoredFacts()) }

    var progress: SecurityRequestProgress? {
        get { JSONColumn.decodeIfValid(progressJSON, as: SecurityRequestProgress.self) }
        set {
            guard let newValue else { return }
            progressJSON = JSONColumn.encode(newValue)
            status = newValue.status
        }
    }

    /// The progress, or a 500-free refusal when the stored JSON cannot be read (never guessed).
    func requireProgress() throws -> SecurityRequestProgress {
        guard let progress else { throw TandemError.conflict("this security request's stored state cannot be read; open a new request") }
        return progress
    }

    struct StoredFacts: Codable, Sendable {
        var passwordTarget: PasswordResetTarget?
        var software: String?
        var tier4Change: Tier4Change?
    }
}

/// A one-time code of a security request, stored hashed (`OneTimeCode`); `purpose` says whom it authenticates.
final class OneTimeCodeRow: Model, @unchecked Sendable {
    static let schema = "one_time_codes"

    enum Purpose: String, Codable, Sendable {
        case caller, approver
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "request_id") var requestId: UUID
    @Field(key: "purpose") var purpose: Purpose
    @Field(key: "recipient_kind") var recipientKind: SecurityApprover.Kind
    @Field(key: "recipient_id") var recipientId: UUID
    /// Where it went, masked (`••••4567@txt.example`), for the ticket's evidence; nil: nowhere to send it.
    @OptionalField(key: "sent_to") var sentTo: String?
    @Field(key: "hash") var hash: String
    @Field(key: "salt") var salt: String
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "attempts_left") var attemptsLeft: Int
    @OptionalField(key: "used_at") var usedAt: Date?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    /// What the code binds to: a code of one request (or recipient) never opens another.
    static func binding(request: UUID, purpose: Purpose, recipient: UUID) -> String {
        "\(purpose.rawValue):\(request.uuidString.lowercased()):\(recipient.uuidString.lowercased())"
    }

    var binding: String { Self.binding(request: requestId, purpose: purpose, recipient: recipientId) }

    var code: OneTimeCode {
        get { OneTimeCode(hash: hash, salt: salt, expiresAt: expiresAt, attemptsLeft: attemptsLeft, usedAt: usedAt) }
        set {
            attemptsLeft = newValue.attemptsLeft
            usedAt = newValue.usedAt
        }
    }

    var approver: SecurityApprover { SecurityApprover(recipientKind, recipientId) }
}

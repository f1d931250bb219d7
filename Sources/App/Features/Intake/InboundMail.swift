import Fluent
import Foundation
import TandemCore
import Vapor

/// Every message the help desk received: its dedupe key (the Message-ID, or the hash of a message
/// without one), what it became and why. A message held for triage keeps its bytes until someone
/// accepts, merges or discards it.
final class InboundMail: Model, @unchecked Sendable {
    static let schema = "inbound_mail"

    enum Outcome: String, Codable, Sendable {
        case ticket, note, triage, ignored
    }

    enum TriageState: String, Codable, Sendable {
        case waiting, accepted, merged, discarded
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "dedupe_key") var dedupeKey: String
    @OptionalField(key: "message_id") var messageId: String?
    @OptionalField(key: "from_address") var fromAddress: String?
    @OptionalField(key: "subject") var subject: String?
    @Field(key: "received_at") var receivedAt: Date
    @Enum(key: "outcome") var outcome: Outcome
    @Field(key: "reason") var reason: String
    @OptionalField(key: "ticket_id") var ticketId: UUID?
    @OptionalField(key: "note_id") var noteId: UUID?
    @OptionalEnum(key: "triage_state") var triageState: TriageState?
    /// The message itself, while it waits in triage.
    @OptionalField(key: "raw") var raw: Data?

    init() {}
}

/// The answer of `POST /api/v1/inbound/email` (and of the SMTP listener, in its log).
struct IntakeResultDTO: Content, Equatable {
    var outcome: String
    var ticketId: String?
    var noteId: String?
    var triageId: String?
    var reason: String?
}

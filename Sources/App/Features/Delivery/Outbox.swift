import Fluent
import Foundation
import SQLKit
import TandemCore

/// One message to deliver: a mail, an SMS (a mail to the carrier's gateway) or a webhook call.
final class OutboxMessage: Model, @unchecked Sendable {
    static let schema = "outbox"

    enum Channel: String, Codable, Sendable, CaseIterable {
        case email, sms, webhook
    }

    enum State: String, Codable, Sendable {
        /// Waiting for its first or next attempt (`next_attempt_at`).
        case pending
        case sent
        /// Refused for good (a 5xx) or out of attempts; `last_error` has the server's answer.
        case failed
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "channel") var channel: Channel
    /// A mail address, or the webhook's URL.
    @Field(key: "recipient") var recipient: String
    @OptionalField(key: "subject") var subject: String?
    /// The whole RFC 5322 message (mail, SMS), or the JSON body (webhook).
    @Field(key: "body") var body: String
    /// The mail's Message-ID, so a receiver can recognise a second delivery of it.
    @OptionalField(key: "message_id") var messageId: String?
    @OptionalField(key: "event_position") var eventPosition: Int?
    @OptionalField(key: "ticket_id") var ticketId: UUID?
    @OptionalField(key: "webhook_id") var webhookId: UUID?
    @Field(key: "state") var state: State
    @Field(key: "attempts") var attempts: Int
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    /// Set while a delivery run holds the message; a run that dies gives it back when this passes.
    @OptionalField(key: "claimed_until") var claimedUntil: Date?
    /// The process that holds the claim (`ProcessIdentity.name`).
    @OptionalField(key: "claimed_by") var claimedBy: String?
    @OptionalField(key: "last_error") var lastError: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "sent_at") var sentAt: Date?
    /// A one-time code's message: its body is blanked once delivered, so the code lives in plaintext only until it is sent.
    @Field(key: "erase_body_when_sent") var eraseBodyWhenSent: Bool

    init() {}

    init(channel: Channel, recipient: String, subject: String?, body: String, messageId: String?, at: Date) {
        self.id = .v7()
        self.channel = channel
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.messageId = messageId
        self.state = .pending
        self.attempts = 0
        self.nextAttemptAt = at
        self.createdAt = at
        self.eraseBodyWhenSent = false
    }
}

/// What happens to outbox messages: written by the consumers of the events, claimed and delivered
/// by `OutboxDelivery`, retried with exponential backoff.
enum Outbox {
    /// Attempts before a message that keeps failing for a passing reason (4xx, no connection) fails for good.
    static let maxAttempts = 12
    /// How long a claim holds by default (`TANDEM_OUTBOX_LEASE_SECONDS`): a run that has not recorded its results
    /// by then is taken to have died, and another instance delivers its messages.
    static let defaultLease: TimeInterval = 300

    /// The wait after `attempts` failed attempts: 30 s, 1 min, 2 min, … up to 6 hours.
    static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(30 * pow(2, Double(max(0, attempts - 1))), 6 * 3600)
    }

    /// Claims up to `limit` due messages of `channels` for a delivery run (in a write transaction of
    /// its own): each gets a lease, and on PostgreSQL rows another instance has claimed are skipped.
    static func claim(
        _ channels: Set<OutboxMessage.Channel>, limit: Int, lease: TimeInterval = defaultLease, on db: any Database
    ) async throws -> [OutboxMessage] {
        guard !channels.isEmpty else { return [] }
        // Nothing due: no write (the loop asks every round, and SQLite has one writer).
        guard try await due(channels, limit: 1, on: db).first() != nil else { return [] }
        return try await db.write { db in
            let now = db.now
            let rows = try await due(channels, limit: limit, on: db).lockingClause(SQLRaw(db.stores.claimLocking)).all()
            let ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
            guard !ids.isEmpty else { return [] }
            try await OutboxMessage.query(on: db).filter(\.$id ~~ ids).set(\.$claimedUntil, to: now.addingTimeInterval(lease))
                .set(\.$claimedBy, to: ProcessIdentity.name).update()
            return try await OutboxMessage.query(on: db).filter(\.$id ~~ ids).sort(\.$nextAttemptAt).all()
        }
    }

    /// The ids of due messages of `channels` that no run holds, oldest first.
    private static func due(_ channels: Set<OutboxMessage.Channel>, limit: Int, on db: any Database) -> SQLSelectBuilder {
        let now = db.now
        return db.sql.select().column("id").from(OutboxMessage.schema)
            .where("state", .equal, OutboxMessage.State.pending.rawValue)
            .where("channel", .in, channels.map(\.rawValue).sorted())
            .where("next_attempt_at", .lessThanOrEqual, now)
            .where { $0.where("claimed_until", .is, SQLLiteral.null).orWhere("claimed_until", .lessThan, now) }
            .orderBy("next_attempt_at").limit(limit)
    }

    /// What a delivery attempt came to.
    enum Result: Sendable {
        case sent
        /// The answer (never a credential); `permanent` when retrying cannot help.
        case failed(String, permanent: Bool)
    }

    /// Records the results of a delivery run in one write transaction.
    static func record(_ results: [(UUID, Result)], on db: any Database) async throws {
        guard !results.isEmpty else { return }
        try await db.write { db in
            let now = db.now
            let messages = Dictionary(
                uniqueKeysWithValues: try await OutboxMessage.query(on: db).filter(\.$id ~~ results.map(\.0)).all().map { ($0.id!, $0) })
            for (id, result) in results {
                // A run that outlived its lease, whose messages another instance has claimed since, leaves them to
                // that run's record (its attempt counts, and its claim stands).
                guard let message = messages[id], message.claimedBy == nil || message.claimedBy == ProcessIdentity.name else { continue }
                message.attempts += 1
                message.claimedUntil = nil
                message.claimedBy = nil
                switch result {
                case .sent:
                    message.state = .sent
                    message.sentAt = now
                    message.lastError = nil
                    if message.eraseBodyWhenSent { message.body = "" }
                case .failed(let answer, let permanent):
                    message.lastError = String(answer.prefix(1000))
                    if permanent || message.attempts >= maxAttempts {
                        message.state = .failed
                        if message.eraseBodyWhenSent { message.body = "" }
                    } else {
                        message.nextAttemptAt = now.addingTimeInterval(backoff(afterAttempts: message.attempts))
                    }
                }
                try await message.save(on: db)
            }
        }
    }
}

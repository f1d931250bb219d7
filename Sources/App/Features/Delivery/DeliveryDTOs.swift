import Foundation
import Vapor

struct OutboxMessageDTO: Content, Equatable {
    var id: UUID
    var channel: OutboxMessage.Channel
    var recipient: String
    var subject: String?
    var state: OutboxMessage.State
    var attempts: Int
    var nextAttemptAt: Date
    var lastError: String?
    var messageId: String?
    var ticketId: UUID?
    var webhookId: UUID?
    var createdAt: Date
    var sentAt: Date?
    /// While a delivery run holds the message: until when, and which process (`host:pid:random`).
    var claimedUntil: Date?
    var claimedBy: String?

    init(_ message: OutboxMessage) {
        id = message.id!
        channel = message.channel
        recipient = message.recipient
        subject = message.subject
        state = message.state
        attempts = message.attempts
        nextAttemptAt = message.nextAttemptAt
        lastError = message.lastError
        messageId = message.messageId
        ticketId = message.ticketId
        webhookId = message.webhookId
        createdAt = message.createdAt
        sentAt = message.sentAt
        claimedUntil = message.claimedUntil
        claimedBy = message.claimedBy
    }
}

struct OutboxPage: Content {
    var items: [OutboxMessageDTO]
    var nextCursor: String?
    /// Why mail and SMS are not being sent (no `TANDEM_SMTP_URL`), when they are not.
    var mailBlocked: String?
}

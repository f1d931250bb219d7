import Fluent
import Foundation
import TandemCore
import Vapor

/// `GET /api/v1/outbox` and `POST /api/v1/outbox/{id}/retry`: what is waiting, sent or failed, and
/// why, for those who manage the help desk's settings.
enum OutboxAPI {
    static func register(_ api: any RoutesBuilder) {
        let outbox = api.grouped("outbox")
        outbox.get { req async throws -> OutboxPage in
            try AccessPolicy.authorizeTenantWide(try req.principal, .manageSettings)
            return try await list(state: req.queryText("state"), page: PageRequest(req), by: req.principal, settings: req.settings, on: req.db)
        }
        outbox.post(":id", "retry") { req async throws -> OutboxMessageDTO in
            let principal = try req.principal
            try AccessPolicy.authorizeTenantWide(principal, .manageSettings)
            return try await retry(req.id("id", "outbox message"), by: principal, on: req.db)
        }
    }

    /// The messages, newest page first as the API pages them, in one state or all; with why mail cannot go.
    static func list(state text: String?, page: PageRequest, by principal: Principal, settings: AppSettings, on db: any Database) async throws
        -> OutboxPage
    {
        try AccessPolicy.authorizeTenantWide(principal, .manageSettings)
        var query = OutboxMessage.query(on: db)
        if let text {
            guard let state = OutboxMessage.State(rawValue: text) else {
                throw TandemError.invalid("state", "must be pending, sent or failed")
            }
            query = query.filter(\.$state == state)
        }
        let (items, next) = try await query.page(page)
        return OutboxPage(items: items.map(OutboxMessageDTO.init), nextCursor: next, mailBlocked: OutboxDelivery.mailBlocked(settings))
    }

    /// Sends a failed or pending message again now, from its first attempt; a sent one is a conflict.
    static func retry(_ id: UUID, by principal: Principal, on db: any Database) async throws -> OutboxMessageDTO {
        try AccessPolicy.authorizeTenantWide(principal, .manageSettings)
        return try await db.write { db in
            guard let message = try await OutboxMessage.find(id, on: db) else { throw TandemError.notFound("outbox message") }
            guard message.state != .sent else { throw TandemError.conflict("the message was sent; there is nothing to retry") }
            guard !(message.eraseBodyWhenSent && message.body.isEmpty) else {
                throw TandemError.conflict("the message carried a one-time code, erased when it failed; ask for a new code on its security request")
            }
            let before = OutboxMessageDTO(message)
            message.state = .pending
            message.attempts = 0
            message.nextAttemptAt = db.now
            message.claimedUntil = nil
            message.claimedBy = nil
            try await message.save(on: db)
            let after = OutboxMessageDTO(message)
            try await Audit.record("retried", OutboxMessage.schema, id: id, by: principal, before: before, after: after, on: db)
            return after
        }
    }
}

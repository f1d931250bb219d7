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
            try AccessPolicy.authorizeAdmin(try req.principal, .manageSettings)
            var query = OutboxMessage.query(on: req.db)
            if let text = req.queryText("state") {
                guard let state = OutboxMessage.State(rawValue: text) else {
                    throw TandemError.invalid("state", "must be pending, sent or failed")
                }
                query = query.filter(\.$state == state)
            }
            let (items, next) = try await query.page(PageRequest(req))
            return OutboxPage(items: items.map(OutboxMessageDTO.init), nextCursor: next, mailBlocked: OutboxDelivery.mailBlocked(req.settings))
        }
        outbox.post(":id", "retry") { req async throws -> OutboxMessageDTO in
            let principal = try req.principal
            try AccessPolicy.authorizeAdmin(principal, .manageSettings)
            let id = try req.id("id", "outbox message")
            return try await req.db.write { db in
                guard let message = try await OutboxMessage.find(id, on: db) else { throw TandemError.notFound("outbox message") }
                guard message.state != .sent else { throw TandemError.conflict("the message was sent; there is nothing to retry") }
                let before = OutboxMessageDTO(message)
                message.state = .pending
                message.attempts = 0
                message.nextAttemptAt = db.now
                message.claimedUntil = nil
                try await message.save(on: db)
                let after = OutboxMessageDTO(message)
                try await Audit.record("retried", OutboxMessage.schema, id: id, by: principal, before: before, after: after, on: db)
                return after
            }
        }
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/outbox`: the mails, SMS and webhook calls waiting, sent or failed, with a retry button, for
/// those who manage settings. The list and the retry are the API's own functions (`OutboxAPI`).
enum OutboxPages {
    static let view = "admin/outbox"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var filters: [AdminPages.Tab]
        var state: String
        var messages: [Row]
        var mailBlocked: String?
        var notice: String?
        var feedback: FormFeedback?
        var nextURL: String?
    }

    struct Row: Encodable, Sendable {
        var id: String
        var channel: String
        var recipient: String
        var subject: String
        var state: String
        var attempts: Int
        var nextAttempt: String
        var lastError: String?
        var created: String
        /// Nil for a sent message: there is nothing to retry.
        var retryURL: String?
    }

    struct RetryForm: Decodable, Sendable {
        var state: String?
    }

    static let states = [("", "All"), ("pending", "Pending"), ("failed", "Failed"), ("sent", "Sent")]

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        let notice = req.queryText("notice") == "retried" ? "The message will be sent again at the next delivery run." : nil
        return try await render(req, state: req.queryText("state") ?? "", notice: notice, feedback: nil)
    }

    @Sendable static func retry(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeTenantWide(principal, .manageSettings)
        let id = try req.id("id", "outbox message")
        let state = try req.content.decode(RetryForm.self).state ?? ""
        do {
            _ = try await OutboxAPI.retry(id, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.outbox(state: state).path, query: [("notice", "retried")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, state: state, notice: nil, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(_ req: Request, state: String, notice: String?, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Outbox", tab: "outbox", needs: .manageSettings, tenantWide: true)
        let filter = states.contains { $0.0 == state } ? state : ""
        let page = try await OutboxAPI.list(
            state: filter.nonEmpty, page: PageRequest(req), by: principal, settings: req.settings, on: req.db)
        let model = Model(
            layout: layout, tabs: tabs,
            filters: states.map { AdminPages.Tab(name: $0.1, url: PageURL.outbox(state: $0.0).path, current: $0.0 == filter) },
            state: filter, messages: page.items.map { row($0, zone: req.pageZone) }, mailBlocked: page.mailBlocked, notice: notice, feedback: feedback,
            nextURL: page.nextCursor.map { PageURL.with(PageURL.outbox(state: filter).path, query: [("cursor", $0)]) })
        return try await req.renderPage(view, model, status: status)
    }

    // MARK: Query

    static func row(_ message: OutboxMessageDTO, zone: PageZone) -> Row {
        Row(
            id: message.id.uuidString, channel: message.channel == .sms ? "SMS" : message.channel.rawValue.capitalized, recipient: message.recipient,
            subject: message.subject ?? "", state: message.state.rawValue, attempts: message.attempts,
            nextAttempt: message.state == .pending ? PageFormat.date(message.nextAttemptAt, in: zone) : "", lastError: message.lastError,
            created: PageFormat.date(message.createdAt, in: zone),
            retryURL: message.state == .sent ? nil : PageRoutes.outboxRetry.url(message.id))
    }
}

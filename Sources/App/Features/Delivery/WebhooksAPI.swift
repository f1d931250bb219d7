import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/webhooks`: subscriptions to event types. MSP staff with `manageRules` keep the help
/// desk's; a co-managing user keeps their own, which hear only what their policy lets them see.
/// The secret is answered once, at creation.
enum WebhooksAPI {
    static let what = "webhook"

    static func register(_ api: any RoutesBuilder) {
        let hooks = api.grouped("webhooks")
        hooks.get { req async throws -> ListPage<WebhookDTO> in
            let principal = try req.principal
            try AccessPolicy.authorizeWebhooks(principal)
            let (items, next) = try await Webhook.query(on: req.db).filter(AccessPolicy.webhookScope(for: principal), on: Webhook.scopeTable)
                .page(PageRequest(req))
            return ListPage(items: items.map { WebhookDTO($0) }, nextCursor: next)
        }
        hooks.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeWebhooks(principal)
            let input = try req.content.decode(WebhookInput.self)
            let hook = Webhook()
            hook.id = .v7()
            hook.ownerId = principal.id
            hook.ownerKind = principal.kind
            let secret = WebhookSignature.makeSecret()
            try WebhookSecrets.store(secret, in: hook, on: req.db)
            hook.active = true
            hook.createdAt = req.db.now
            try apply(input, to: hook, creating: true, guard: req.settings.webhookGuard)
            try await req.db.write { db in
                try await hook.create(on: db)
                try await Audit.record("created", Webhook.schema, id: hook.id, by: principal, after: WebhookDTO(hook), on: db)
            }
            return try await WebhookDTO(hook, secret: secret).encodeResponse(status: .created, for: req)
        }
        hooks.get(":id") { req async throws -> WebhookDTO in
            WebhookDTO(try await visible(req))
        }
        hooks.patch(":id") { req async throws -> WebhookDTO in
            let principal = try req.principal
            let hook = try await visible(req)
            let before = WebhookDTO(hook)
            try apply(try req.content.decode(WebhookInput.self), to: hook, creating: false, guard: req.settings.webhookGuard)
            hook.updatedAt = req.db.now
            try await req.db.write { db in
                try await hook.save(on: db)
                try await Audit.record("updated", Webhook.schema, id: hook.id, by: principal, before: before, after: WebhookDTO(hook), on: db)
            }
            return WebhookDTO(hook)
        }
        hooks.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let hook = try await visible(req)
            try await req.db.write { db in
                try await hook.delete(on: db)
                try await Audit.record("deleted", Webhook.schema, id: hook.id, by: principal, before: WebhookDTO(hook), on: db)
            }
            return .noContent
        }
        // The delivery log: the subscription's outbox messages, oldest first.
        hooks.get(":id", "deliveries") { req async throws -> ListPage<OutboxMessageDTO> in
            let hook = try await visible(req)
            let (items, next) = try await OutboxMessage.query(on: req.db).filter(\.$webhookId == hook.id!).page(PageRequest(req))
            return ListPage(items: items.map(OutboxMessageDTO.init), nextCursor: next)
        }
    }

    private static func visible(_ req: Request) async throws -> Webhook {
        let principal = try req.principal
        try AccessPolicy.authorizeWebhooks(principal)
        return try await Lookup.visible(
            Webhook.self, req.id("id", what), scope: AccessPolicy.webhookScope(for: principal), table: Webhook.scopeTable, what: what, on: req.db)
    }

    /// Validates the body and sets what it names (all of `url` and `eventTypes` when creating).
    static func apply(_ input: WebhookInput, to hook: Webhook, creating: Bool, guard ssrf: SSRFGuard) throws {
        var validator = FieldValidator()
        if let url = input.url ?? (creating ? "" : nil) {
            if let problem = urlProblem(url, ssrf) { validator.fail("url", problem) } else { hook.url = url }
        }
        if let types = input.eventTypes ?? (creating ? [] : nil) {
            let unknown = types.filter { DomainEventType(rawValue: $0) == nil }
            if types.isEmpty {
                validator.fail("eventTypes", "name at least one event type, such as ticket.created")
            } else if !unknown.isEmpty {
                validator.fail("eventTypes", "unknown event types: \(unknown.joined(separator: ", "))")
            } else {
                hook.eventTypes = Array(Set(types)).sorted()
            }
        }
        if let active = input.active { hook.active = active }
        try validator.check()
    }

    /// Why `url` cannot be a webhook's address, or nil. Names are checked again, after DNS, at each delivery.
    static func urlProblem(_ url: String, _ ssrf: SSRFGuard) -> String? {
        guard url.utf8.count <= 2000, let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else { return "must be an http or https URL with a host" }
        guard components.user == nil, components.password == nil else { return "must not carry credentials; use the signature to authenticate" }
        do {
            _ = try ssrf.check(host: components.percentEncodedHost ?? host)
        } catch {
            if case .validation(let errors) = error, let first = errors.first { return first.message }
            return "\(error)"
        }
        return nil
    }
}

struct WebhookInput: Content {
    var url: String?
    var eventTypes: [String]?
    var active: Bool?
}

struct WebhookDTO: Content, Equatable {
    var id: UUID
    var url: String
    var eventTypes: [String]
    var active: Bool
    var ownerId: UUID
    var ownerKind: PrincipalKind
    var createdAt: Date
    /// Only in the answer to the creation: keep it, it is not shown again.
    var secret: String?

    init(_ hook: Webhook, secret: String? = nil) {
        id = hook.id!
        url = hook.url
        eventTypes = hook.eventTypes
        active = hook.active
        ownerId = hook.ownerId
        ownerKind = hook.ownerKind
        createdAt = hook.createdAt
        self.secret = secret
    }
}

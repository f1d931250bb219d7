import Fluent
import Foundation
import TandemCore

/// A webhook subscription.
final class Webhook: Model, @unchecked Sendable {
    static let schema = "webhooks"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .owner: "owner_id"])

    @ID(key: .id) var id: UUID?
    /// Who the webhook hears as: its deliveries carry only the events this principal may read.
    @Field(key: "owner_id") var ownerId: UUID
    @Field(key: "owner_kind") var ownerKind: PrincipalKind
    @Field(key: "url") var url: String
    /// JSON array of event types (`DomainEventType` raw values).
    @Field(key: "event_types") var eventTypesJSON: String
    /// Empty: the signing secret in plain text, as versions before migration 076 kept it (an older instance
    /// of a rolling upgrade may still write one; `WebhookSecrets.read` takes it then).
    @Field(key: "secret") var plainSecret: String
    /// The HMAC-SHA256 key of `Tandem-Signature` under the vault (`WebhookSecrets`); answered once, at creation.
    @OptionalField(key: "secret_sealed") var secretSealed: String?
    @Field(key: "active") var active: Bool
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "updated_at") var updatedAt: Date?

    init() {}

    var eventTypes: [String] {
        get { JSONColumn.decode(eventTypesJSON, default: []) }
        set { eventTypesJSON = JSONColumn.encode(newValue) }
    }
}

/// The webhooks' signing secrets under the vault's envelope encryption (SPEC §9), each bound to its
/// webhook: the database alone (a backup, a read-only role) does not let anyone sign as Tandem.
enum WebhookSecrets {
    static func binding(_ id: UUID) -> VaultBinding { VaultBinding("webhook.secret", rowId: id) }

    /// The secret `hook`'s deliveries are signed with.
    static func read(_ hook: Webhook, on db: any Database) throws -> String {
        if let sealed = hook.secretSealed { return try db.vault().open(stored: sealed, for: binding(try hook.requireID())) }
        guard !hook.plainSecret.isEmpty else { throw TandemError.conflict("the webhook has no signing secret") }
        return hook.plainSecret
    }

    static func store(_ secret: String, in hook: Webhook, on db: any Database) throws {
        hook.secretSealed = try db.vault().seal(stored: secret, for: binding(try hook.requireID()))
        hook.plainSecret = ""
    }
}

/// The webhook consumer of the events: for each event a subscription hears and its owner may read,
/// one outbox message with the event as the owner's feed shows it.
enum WebhookFanOut {
    static let consumer = "webhooks"

    /// One run of the consumer; answers how many events it read (nil: another instance has it).
    /// Without an active webhook it reads nothing; a webhook hears the events from its creation on.
    @discardableResult
    static func run(on db: any Database, limit: Int = 500) async throws -> Int? {
        guard try await Webhook.query(on: db).filter(\.$active == true).count() > 0 else { return 0 }
        return try await EventConsumers.run(
            consumer, limit: limit, on: db, prepare: { events, db in try await messages(for: events, on: db) },
            apply: { messages, db in for message in messages { try await message.create(on: db) } })
    }

    /// The outbox messages of these events: per subscription, the events of its types that its owner may read.
    static func messages(for events: [EventDTO], on db: any Database) async throws -> Deliveries {
        guard let first = events.first, let last = events.last else { return Deliveries() }
        let types = Set(events.map(\.type))
        let hooks = try await Webhook.query(on: db).filter(\.$active == true).all().filter { !types.isDisjoint(with: $0.eventTypes) }
        var owners: [UUID: Principal?] = [:]
        var deliveries = Deliveries()
        for hook in hooks {
            if owners[hook.ownerId] == nil { owners[hook.ownerId] = try await PrincipalLoader.load(id: hook.ownerId, kind: hook.ownerKind, on: db) }
            // An owner who can no longer sign in (deactivated, erased) hears nothing.
            guard let owner = owners[hook.ownerId] ?? nil else { continue }
            let seen = try await Events.feed(after: first.position - 1, through: last.position, limit: events.count, by: owner, on: db)
            let wanted = Set(hook.eventTypes)
            for event in seen.items where wanted.contains(event.type) && event.at >= hook.createdAt {
                let body = WebhookPayload(webhookId: hook.id!, event: event)
                let message = OutboxMessage(
                    channel: .webhook, recipient: hook.url, subject: event.type, body: String(decoding: try body.encoded(), as: UTF8.self),
                    messageId: "\(hook.id!.uuidString.lowercased())/\(event.position)", at: db.now)
                message.webhookId = hook.id
                message.eventPosition = event.position
                message.ticketId = event.ticketId
                deliveries.append(message)
            }
        }
        return deliveries
    }

    /// Messages handed from the reading step to the write.
    typealias Deliveries = [OutboxMessage]
}

/// What a webhook receives: the event as its owner's feed answers it.
struct WebhookPayload: Codable {
    var webhookId: UUID
    var event: EventDTO

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = ISO8601.encodingStrategy
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

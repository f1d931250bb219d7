import Fluent
import Foundation
import SQLKit
import TandemCore

/// The webhooks' signing secrets under the vault (`webhooks.secret_sealed`, `WebhookSecrets`): each one
/// stored in plain text is sealed here with the key `configure` resolved, and the plain column emptied.
/// The column stays (additive first): an instance of the version before, still serving during a rolling
/// upgrade, reads it and signs with an empty secret until it is stopped; receivers refuse those calls and
/// the outbox tries them again on an upgraded instance.
struct SealWebhookSecrets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Webhook.schema).field("secret_sealed", .string).update()
        try await Self.sealPlainSecrets(on: database)
    }

    /// Seals the secrets stored in plain text and empties the plain column; the number sealed. Also what the
    /// release that drops the plain column runs first, for webhooks an older instance made meanwhile.
    @discardableResult
    static func sealPlainSecrets(on database: any Database) async throws -> Int {
        try await PlainSecrets.seal(Webhook.schema, plain: "secret", sealed: "secret_sealed", emptied: "", binding: WebhookSecrets.binding, on: database)
    }

    /// Back to plain text, which the version before reads.
    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let vault = try database.vault()
        for row in try await sql.raw("SELECT id, secret_sealed FROM webhooks WHERE secret_sealed IS NOT NULL").all() {
            let id = try row.decode(column: "id", as: UUID.self)
            let plain = try vault.open(stored: try row.decode(column: "secret_sealed", as: String.self), for: WebhookSecrets.binding(id))
            try await sql.raw("UPDATE webhooks SET secret = \(bind: plain) WHERE id = \(bind: id)").run()
        }
        try await database.schema(Webhook.schema).deleteField("secret_sealed").update()
    }
}

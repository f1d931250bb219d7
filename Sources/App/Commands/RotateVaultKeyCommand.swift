import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `tandem rotate-vault-key --new-key-file PATH`: re-wraps every data key of the credential vault (site
/// credentials, co-managing users' TOTP secrets and webhooks' signing secrets) from the configured key to the key in PATH, in one
/// transaction: afterwards every secret opens with the new key only. PATH is created with a fresh random
/// key (mode 0600) when it does not exist. The secrets themselves are not decrypted into the database or
/// the output; each one is checked to open before its key is re-wrapped, and one that does not stops it all.
struct RotateVaultKeyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "new-key-file", help: "The new key: a file with 32 bytes as base64 or hex (created when missing)") var newKeyFile: String?
    }

    var help: String { "Re-wrap every vault data key with a new master key, in one transaction." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        guard let path = signature.newKeyFile, !path.isEmpty else { throw TandemError.invalid("new-key-file", "is required: the file of the new key") }
        try await app.migrateSchema()
        let newKey: VaultMasterKey
        if FileManager.default.fileExists(atPath: path) {
            do {
                newKey = try VaultMasterKey(text: try String(contentsOfFile: path, encoding: .utf8))
            } catch let error as VaultError {
                throw TandemError.invalid("new-key-file", "\(error)")
            }
        } else {
            newKey = .generate()
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(newKey.fileText.utf8), attributes: [.posixPermissions: NSNumber(value: Int16(0o600))])
            else { throw TandemError.invalid("new-key-file", "cannot create \(path)") }
            context.console.print("Created the new key file \(path) (key \(newKey.id)).")
        }
        let result = try await Self.rotate(to: Vault(masterKey: newKey), on: app.db)
        context.console.print(
            "Re-wrapped \(result.credentials) credential, \(result.totpSecrets) two-factor and \(result.webhookSecrets) webhook data keys from key \(result.from) to key \(newKey.id). "
                + "Now point TANDEM_VAULT_KEY_FILE at \(path) on every server and restart them; keep the old key until backups made with it have expired.")
    }

    struct Result: Sendable {
        var from: String
        var credentials: Int
        var totpSecrets: Int
        var webhookSecrets: Int
    }

    /// Re-wraps every sealed secret from the database's vault key to `newVault`'s, in one transaction.
    static func rotate(to newVault: Vault, on db: any Database) async throws -> Result {
        let current = try db.vault()
        guard current.masterKey.id != newVault.masterKey.id else {
            throw TandemError.invalid("new-key-file", "the new key is the key already configured (\(newVault.masterKey.id))")
        }
        return try await db.write { db in
            let sql = db as! any SQLDatabase
            /// Re-wraps each sealed value of `column` in `table`; how many.
            func rewrap(_ table: String, _ column: String, _ binding: (UUID) -> VaultBinding) async throws -> Int {
                let rows = try await sql.raw("SELECT id, \(ident: column) FROM \(ident: table) WHERE \(ident: column) IS NOT NULL").all()
                for row in rows {
                    let id = try row.decode(column: "id", as: UUID.self)
                    let next = try current.rewrap(SealedSecret(stored: row.decode(column: column, as: String.self)), for: binding(id), to: newVault)
                    try await sql.raw("UPDATE \(ident: table) SET \(ident: column) = \(bind: next.stored) WHERE id = \(bind: id)").run()
                }
                return rows.count
            }
            let result = Result(
                from: current.masterKey.id,
                credentials: try await rewrap(SiteCredential.schema, "secret_sealed", SiteCredential.binding),
                totpSecrets: try await rewrap(CoManagingUser.schema, "totp_secret_sealed", TOTPSecrets.binding),
                webhookSecrets: try await rewrap(Webhook.schema, "secret_sealed", WebhookSecrets.binding))
            try await Audit.record(
                "vaultKeyRotated", "vault", id: nil, by: nil,
                after: [
                    "from": current.masterKey.id, "to": newVault.masterKey.id, "credentials": "\(result.credentials)", "totpSecrets": "\(result.totpSecrets)",
                    "webhookSecrets": "\(result.webhookSecrets)",
                ],
                on: db)
            return result
        }
    }
}

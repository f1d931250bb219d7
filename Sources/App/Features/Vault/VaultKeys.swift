import Fluent
import Foundation
import TandemCore
import Vapor

/// The vault's master key rides along with each database (like the clock), so services that only
/// have a `Database` seal and open secrets with the key `configure` resolved.
struct VaultCompanion: DatabaseCompanion {
    let vault: Vault

    static func install(_ vault: Vault, on app: Application, databases: [DatabaseID]) {
        for id in databases { app.databases.middleware.use(VaultCompanion(vault: vault), on: id) }
    }
}

/// A database configured without a vault key (never after `configure`).
struct VaultMissing: Error, CustomStringConvertible {
    var description: String { "the credential vault has no key on this database" }
}

extension Database {
    /// The credential vault of the app this database belongs to.
    func vault() throws -> Vault {
        guard let companion = VaultCompanion.installed(on: self) else { throw VaultMissing() }
        return companion.vault
    }
}

/// Where the vault's master key comes from (README "Credential vault"):
/// 1. `TANDEM_VAULT_KEY_FILE`: a file holding 32 bytes as base64 or hex;
/// 2. `TANDEM_VAULT_KEY`: the same in an environment variable;
/// 3. neither, on SQLite: the file `<database>.vault-key` beside the database, created (mode 0600) the
///    first time, so `tandem demo` works with nothing set up; its path is logged;
/// 4. neither, on PostgreSQL: `configure` refuses to start (several servers share the database, and
///    each must have the same key, so none may invent one).
/// The key is never stored in the database.
enum VaultKeys {
    static func resolve(_ options: AppOptions, logger: Logger) throws -> VaultMasterKey {
        if let key = options.vaultKey { return key }
        if let path = options.vaultKeyFile {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw TandemError.invalid("TANDEM_VAULT_KEY_FILE", "cannot read the vault key file \(path)")
            }
            return try parse(text, from: "TANDEM_VAULT_KEY_FILE")
        }
        if let text = options.vaultKeyText { return try parse(text, from: "TANDEM_VAULT_KEY") }
        switch options.storage {
        case .postgres:
            throw TandemError.invalid(
                "TANDEM_VAULT_KEY_FILE",
                "PostgreSQL needs the credential vault's key: set TANDEM_VAULT_KEY_FILE to a file holding 32 random bytes in base64 "
                    + "(for example `openssl rand -base64 32 > vault.key; chmod 600 vault.key`), the same on every server")
        case .sqlite(let path):
            let keyPath = defaultKeyFile(forDatabase: path)
            if FileManager.default.fileExists(atPath: keyPath) {
                return try parse(try String(contentsOfFile: keyPath, encoding: .utf8), from: keyPath)
            }
            let key = VaultMasterKey.generate()
            let created = FileManager.default.createFile(
                atPath: keyPath, contents: Data(key.fileText.utf8), attributes: [.posixPermissions: NSNumber(value: Int16(0o600))])
            guard created else { throw TandemError.invalid("TANDEM_VAULT_KEY_FILE", "cannot create the vault key file \(keyPath)") }
            logger.notice(
                "created the credential vault key file (keep it with backups of the database, never in them)",
                metadata: ["path": .string(keyPath), "keyId": .string(key.id)])
            return key
        }
    }

    /// `tandem.sqlite` → `tandem.sqlite.vault-key`.
    static func defaultKeyFile(forDatabase path: String) -> String { path + ".vault-key" }

    private static func parse(_ text: String, from source: String) throws -> VaultMasterKey {
        do {
            return try VaultMasterKey(text: text)
        } catch {
            throw TandemError.invalid(source, "\(error)")
        }
    }
}

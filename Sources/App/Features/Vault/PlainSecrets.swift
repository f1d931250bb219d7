import Fluent
import Foundation
import SQLKit
import TandemCore

/// Secrets that versions before the vault kept in plain text, sealed where they lie (migrations 052 and 076).
enum PlainSecrets {
    /// Seals each non-empty `plain` value of `table` into `sealed`, bound to its row, and sets `plain` to
    /// `emptied`; the number sealed.
    static func seal(
        _ table: String, plain: String, sealed: String, emptied: String?, binding: (UUID) -> VaultBinding, on database: any Database
    ) async throws -> Int {
        let sql = database as! any SQLDatabase
        let vault = try database.vault()
        let rows = try await sql.raw("SELECT id, \(ident: plain) FROM \(ident: table) WHERE \(ident: plain) <> ''").all()
        for row in rows {
            let id = try row.decode(column: "id", as: UUID.self)
            let secret = try vault.seal(stored: try row.decode(column: plain, as: String.self), for: binding(id))
            try await sql.raw("UPDATE \(ident: table) SET \(ident: sealed) = \(bind: secret), \(ident: plain) = \(bind: emptied) WHERE id = \(bind: id)").run()
        }
        return rows.count
    }
}

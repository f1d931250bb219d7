import Fluent
import Foundation
import SQLKit
import TandemCore

/// The credential vault (SPEC §9): `site_credentials`, each secret sealed (`secret_sealed`, envelope
/// encryption, `Vault`), and the co-managing users' TOTP secrets moved under the same encryption:
/// `co_managing_users.totp_secret_sealed`. Plain secrets already stored are sealed here with the key
/// `configure` resolved (it always has one: on SQLite it creates it), and the plain column is emptied.
struct CreateSiteCredentials: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SiteCredential.schema)
            .id()
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id"))
            .field("site_id", .uuid, .required, .references(Site.schema, "id", onDelete: .cascade))
            .field("kind", .string, .required)
            .field("name", .string, .required)
            .field("username", .string)
            .field("url", .string)
            .field("notes", .string)
            .field("device_id", .uuid, .references(SiteDevice.schema, "id", onDelete: .setNull))
            .field("secret_sealed", .string, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX site_credentials_site ON site_credentials (site_id, name)").run()
        try await sql.raw("CREATE INDEX site_credentials_organization ON site_credentials (organization_id)").run()
        try await database.schema(CoManagingUser.schema).field("totp_secret_sealed", .string).update()
        try await Self.sealPlainTOTPSecrets(on: database)
    }

    /// Seals the TOTP secrets stored in plain text (by versions before this one) and empties the plain column;
    /// the number sealed.
    @discardableResult
    static func sealPlainTOTPSecrets(on database: any Database) async throws -> Int {
        try await PlainSecrets.seal(
            CoManagingUser.schema, plain: "totp_secret", sealed: "totp_secret_sealed", emptied: nil, binding: TOTPSecrets.binding, on: database)
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SiteCredential.schema).delete()
        try await database.schema(CoManagingUser.schema).deleteField("totp_secret_sealed").update()
    }
}

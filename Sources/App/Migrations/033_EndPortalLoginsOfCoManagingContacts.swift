import Fluent
import SQLKit

/// A contact bound to a co-managing user logs in only as that user (SPEC §1): any portal login such
/// a contact held is removed, with its sessions and tokens. Not revertible in data: the passwords are gone.
struct EndPortalLoginsOfCoManagingContacts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DELETE FROM api_tokens WHERE principal_id IN (SELECT contact_id FROM co_managing_users)").run()
        try await sql.raw("UPDATE contacts SET portal_password_hash = NULL WHERE id IN (SELECT contact_id FROM co_managing_users)").run()
    }

    func revert(on database: any Database) async throws {}
}

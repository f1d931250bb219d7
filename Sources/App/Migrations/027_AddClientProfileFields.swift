import Fluent
import SQLKit

/// A contact's help-desk details (SPEC §7), and the indexes the profile import matches by.
struct AddClientProfileFields: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // SQLite adds one column per ALTER TABLE.
        try await database.schema("contacts").field("mobile_provider", .string).update()
        try await database.schema("contacts").field("sms_gateway", .string).update()
        try await database.schema("contacts").field("thin_client", .bool, .required, .sql(.default(false))).update()
        try await database.schema("contacts").field("notes", .string).update()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX contacts_site_email ON contacts (site_id, email)").run()
        try await sql.raw("CREATE INDEX contacts_site_last_name ON contacts (site_id, last_name, first_name)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX contacts_site_last_name").run()
        try await sql.raw("DROP INDEX contacts_site_email").run()
        for field in ["notes", "thin_client", "sms_gateway", "mobile_provider"] {
            try await database.schema("contacts").deleteField(.string(field)).update()
        }
    }
}

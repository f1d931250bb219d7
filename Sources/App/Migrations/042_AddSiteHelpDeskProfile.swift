import Fluent
import SQLKit

/// The site help desk profile (ConnectWise's "Help Desk tab"): the client's main number (as given
/// and in E.164, indexed for caller identification), its email domain (indexed for mail intake;
/// '' is "no client email domain" chosen, NULL not yet answered), the caller greeting's company
/// name, the site message, the agent installation opt-in with its fee, and the help desk contact.
struct AddSiteHelpDeskProfile: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        let columns: [(String, DatabaseSchema.DataType, [DatabaseSchema.FieldConstraint])] = [
            ("main_phone", .string, []), ("main_phone_e164", .string, []), ("client_email_domain", .string, []),
            ("greeting_company_name", .string, []), ("site_message", .string, []),
            ("agent_install_opt_in", .bool, [.required, .sql(.default(false))]), ("agent_install_fee_cents", .int64, []),
            ("help_desk_contact_id", .uuid, []),
        ]
        for (name, type, constraints) in columns {
            try await database.schema(Site.schema).field(.definition(name: .key(FieldKey(stringLiteral: name)), dataType: type, constraints: constraints))
                .update()
        }
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX sites_main_phone_e164 ON sites (main_phone_e164) WHERE main_phone_e164 IS NOT NULL").run()
        try await sql.raw("CREATE INDEX sites_client_email_domain ON sites (client_email_domain) WHERE client_email_domain IS NOT NULL").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX sites_client_email_domain").run()
        try await sql.raw("DROP INDEX sites_main_phone_e164").run()
        for field in [
            "main_phone", "main_phone_e164", "client_email_domain", "greeting_company_name", "site_message", "agent_install_opt_in",
            "agent_install_fee_cents", "help_desk_contact_id",
        ] {
            try await database.schema(Site.schema).deleteField(FieldKey(stringLiteral: field)).update()
        }
    }
}

import Fluent
import SQLKit

/// The site help desk profile (ConnectWise's "Help Desk tab"): the client's main number (as given
/// and in E.164, indexed for caller identification), its email domain (indexed for mail intake;
/// '' is "no client email domain" chosen, NULL not yet answered), the caller greeting's company
/// name, the site message, the agent installation opt-in with its fee, and the help desk contact.
struct AddSiteHelpDeskProfile: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Site.schema)
            .field("main_phone", .string)
            .field("main_phone_e164", .string)
            .field("client_email_domain", .string)
            .field("greeting_company_name", .string)
            .field("site_message", .string)
            .field("agent_install_opt_in", .bool, .required, .sql(.default(false)))
            .field("agent_install_fee_cents", .int64)
            .field("help_desk_contact_id", .uuid)
            .update()
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
            try await database.schema(Site.schema).deleteField(.string(field)).update()
        }
    }
}

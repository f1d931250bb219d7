import Fluent
import SQLKit

struct CreateContact: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("contacts")
            .id()
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .restrict))
            .field("site_id", .uuid, .references("sites", "id", onDelete: .restrict))
            .field("first_name", .string, .required)
            .field("last_name", .string, .required)
            .field("email", .string)
            .field("phones", .string, .required)
            .field("portal_organization_wide", .bool, .required)
            .field("portal_password_hash", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX contacts_organization ON contacts (organization_id)").run()
        try await sql.raw("CREATE INDEX contacts_email ON contacts (email)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("contacts").delete()
    }
}

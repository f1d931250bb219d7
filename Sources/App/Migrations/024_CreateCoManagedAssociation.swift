import Fluent
import SQLKit

/// Organization ↔ co-managing user / co-managing team associations of the co-managed setup.
struct CreateCoManagedAssociation: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("co_managed_associations")
            .id()
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .cascade))
            .field("co_managing_user_id", .uuid, .references("co_managing_users", "id", onDelete: .cascade))
            .field("team_id", .uuid, .references("co_managing_teams", "id", onDelete: .cascade))
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX co_managed_associations_user ON co_managed_associations (co_managing_user_id)").run()
        try await sql.raw("CREATE INDEX co_managed_associations_team ON co_managed_associations (team_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("co_managed_associations").delete()
    }
}

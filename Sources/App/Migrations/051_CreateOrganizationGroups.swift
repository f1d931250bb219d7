import Fluent
import SQLKit

/// Organization groups and the customer group override (SPEC §2): `organization_groups`, the organizations in
/// each (`organization_group_members`: an organization is in at most one group, so the groups divide the
/// co-managing users into sets who see each other), and each co-managing user's `customer_group_override`
/// (on: they see the co-managing users of their organization's group; off: of their own organization only).
struct CreateOrganizationGroups: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("organization_groups")
            .id()
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
        try await database.schema("organization_group_members")
            .id()
            .field("group_id", .uuid, .required, .references("organization_groups", "id", onDelete: .cascade))
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .cascade))
            .unique(on: "organization_id")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX organization_group_members_group ON organization_group_members (group_id)").run()
        try await database.schema("co_managing_users")
            .field("customer_group_override", .bool, .required, .sql(.default(true)))
            .update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("co_managing_users").deleteField("customer_group_override").update()
        try await database.schema("organization_group_members").delete()
        try await database.schema("organization_groups").delete()
    }
}

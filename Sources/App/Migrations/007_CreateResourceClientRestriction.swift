import Fluent

struct CreateResourceClientRestriction: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("resource_client_restrictions")
            .id()
            .field("resource_id", .uuid, .required, .references("resources", "id", onDelete: .cascade))
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .cascade))
            .unique(on: "resource_id", "organization_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("resource_client_restrictions").delete()
    }
}

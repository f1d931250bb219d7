import Fluent

struct CreateQueue: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("queues")
            .id()
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
        // Principals are resources, co-managing users or contacts, so no foreign key on principal_id.
        try await database.schema("queue_members")
            .id()
            .field("queue_id", .uuid, .required, .references("queues", "id", onDelete: .cascade))
            .field("principal_id", .uuid, .required)
            .unique(on: "queue_id", "principal_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("queue_members").delete()
        try await database.schema("queues").delete()
    }
}

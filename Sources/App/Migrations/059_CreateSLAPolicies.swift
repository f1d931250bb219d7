import Fluent

/// SLA policies (SPEC §4): one per organization and priority, its first response and resolution targets
/// in business minutes and the share of a target after which the ticket is approaching it.
struct CreateSLAPolicies: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SLAPolicy.schema)
            .id()
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .cascade))
            .field("priority", .string, .required)
            .field("first_response_minutes", .int, .required)
            .field("resolution_minutes", .int, .required)
            .field("approaching_percent", .int, .required)
            .field("created_at", .datetime)
            .unique(on: "organization_id", "priority")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SLAPolicy.schema).delete()
    }
}

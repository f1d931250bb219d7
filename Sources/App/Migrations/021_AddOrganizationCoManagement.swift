import Fluent
import SQLKit

/// Per-organization co-management switch and the organization's account manager (SPEC §2).
struct AddOrganizationCoManagement: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("organizations")
            .field("co_management_enabled", .bool, .required, .sql(.default(false)))
            .update()
        try await database.schema("organizations")
            .field("account_manager_id", .uuid)
            .update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("organizations").deleteField("account_manager_id").update()
        try await database.schema("organizations").deleteField("co_management_enabled").update()
    }
}

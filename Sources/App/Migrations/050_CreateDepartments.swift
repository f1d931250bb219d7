import Fluent
import SQLKit

/// `departments` (SPEC §4): the MSP's own (no organization) and co-managed ones (one co-managed organization
/// each), named uniquely within that owner (`owner_key`: "msp" or the organization's id, since a unique index
/// does not compare NULLs); `department_members`: MSP resources and co-managing users.
struct CreateDepartments: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("departments")
            .id()
            .field("name", .string, .required)
            .field("description", .string)
            .field("co_managed", .bool, .required)
            .field("organization_id", .uuid, .references("organizations", "id", onDelete: .cascade))
            .field("owner_key", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "owner_key", "name")
            .create()
        try await database.schema("department_members")
            .id()
            .field("department_id", .uuid, .required, .references("departments", "id", onDelete: .cascade))
            .field("principal_id", .uuid, .required)
            .field("principal_kind", .string, .required)
            .unique(on: "department_id", "principal_id")
            .create()
        // A person's departments (their edit page, erasure, deactivation of co-management).
        try await (database as! any SQLDatabase).raw("CREATE INDEX department_members_principal ON department_members (principal_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("department_members").delete()
        try await database.schema("departments").delete()
    }
}

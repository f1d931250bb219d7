import Fluent
import SQLKit

struct CreateCoManagingUser: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("co_managing_users")
            .id()
            .field("contact_id", .uuid, .required, .references("contacts", "id", onDelete: .restrict))
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .restrict))
            .field("username", .string, .required)
            .field("password_hash", .string, .required)
            .field("security_level_id", .uuid, .required, .references("security_levels", "id", onDelete: .restrict))
            .field("active", .bool, .required)
            .field("internal_location_id", .uuid, .references("internal_locations", "id", onDelete: .setNull))
            .field("timesheet_start", .string)
            .field("totp_secret", .string)
            .field("totp_confirmed", .bool, .required)
            .field("totp_last_counter", .int64)
            .field("totp_pause_next_login", .bool, .required)
            .field("totp_paused_until", .datetime)
            .field("erased", .bool, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "username")
            .unique(on: "contact_id")
            .create()
        try await database.schema("co_managing_user_roles")
            .id()
            .field("co_managing_user_id", .uuid, .required, .references("co_managing_users", "id", onDelete: .cascade))
            .field("role_id", .uuid, .required, .references("roles", "id", onDelete: .restrict))
            .unique(on: "co_managing_user_id", "role_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("co_managing_user_roles").delete()
        try await database.schema("co_managing_users").delete()
    }
}

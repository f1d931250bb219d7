import Fluent
import SQLKit

/// Timesheets (Autotask): a person's week (`2026-W49`) and its state; a week without a row is open.
/// `timesheet_viewers`: the MSP resources who view a co-managing user's timesheets (they have no approvers).
struct CreateTimesheets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("timesheets")
            .id()
            .field("person_id", .uuid, .required)
            .field("week", .string, .required)
            .field("status", .string, .required)
            .field("submitted_at", .datetime)
            .field("decided_at", .datetime)
            .field("decided_by_id", .uuid)
            .field("decided_by_name", .string)
            .field("reason", .string)
            .field("updated_at", .datetime)
            .unique(on: "person_id", "week")
            .create()
        try await database.schema("timesheet_viewers")
            .id()
            .field("co_managing_user_id", .uuid, .required, .references("co_managing_users", "id", onDelete: .cascade))
            .field("resource_id", .uuid, .required, .references("resources", "id", onDelete: .cascade))
            .unique(on: "co_managing_user_id", "resource_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("timesheet_viewers").delete()
        try await database.schema("timesheets").delete()
    }
}

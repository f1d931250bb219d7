import Fluent
import SQLKit

/// Expenses (Autotask): a person's expense items of a day, on an organization (and optionally one of its tickets),
/// in exact cents; mileage keeps its distance and rate in ten-thousandths.
struct CreateExpenses: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("expenses")
            .id()
            .field("person_id", .uuid, .required)
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .cascade))
            .field("ticket_id", .uuid, .references("tickets", "id", onDelete: .setNull))
            .field("date", .string, .required)
            .field("category", .string, .required)
            .field("description", .string, .required)
            .field("amount_cents", .int64, .required)
            .field("distance_units", .int64)
            .field("mileage_rate_units", .int64)
            .field("billable", .bool, .required)
            .field("version", .int, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX expenses_person_date ON expenses (person_id, date)").run()
        try await sql.raw("CREATE INDEX expenses_organization_date ON expenses (organization_id, date)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("expenses").delete()
    }
}

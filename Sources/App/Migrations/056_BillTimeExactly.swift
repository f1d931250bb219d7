import Fluent
import SQLKit

/// Exact billing (issue 21): roles' hourly rate and block-hour multiplier move from binary floating point to
/// integers of ten-thousandths (`BillingDecimal`), and each time entry keeps what it bills: billable or not,
/// its start and end (or only minutes), the moment it counts on for timesheets and contracts (`worked_at`:
/// its start, else when it was logged), and the role's rate and multiplier and the amount in cents as they were
/// when it was saved. Old rows keep their amounts: none (they were never billed) and not billable.
struct BillTimeExactly: AsyncMigration {
    static let roleColumns = [("hourly_rate", "hourly_rate_units"), ("block_hour_multiplier", "block_hour_multiplier_units")]
    static let entryColumns: [(String, DatabaseSchema.DataType, [DatabaseSchema.FieldConstraint])] = [
        ("billable", .bool, [.required, .sql(.default(false))]), ("started_at", .datetime, []), ("ended_at", .datetime, []),
        ("worked_at", .datetime, []), ("hourly_rate_units", .int64, [.required, .sql(.default(0))]),
        ("block_hour_multiplier_units", .int64, [.required, .sql(.default(0))]), ("amount_cents", .int64, [.required, .sql(.default(0))]),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for (old, new) in Self.roleColumns {
            try await database.schema("roles").field(
                .definition(name: .key(FieldKey(stringLiteral: new)), dataType: .int64, constraints: [.required, .sql(.default(0))])
            )
            .update()
            // The doubles held at most four places as the API took them; × 10 000 and rounded is the exact value.
            try await sql.raw("UPDATE roles SET \(unsafeRaw: new) = CAST(ROUND(\(unsafeRaw: old) * 10000) AS BIGINT)").run()
            try await database.schema("roles").deleteField(FieldKey(stringLiteral: old)).update()
        }
        for (name, type, constraints) in Self.entryColumns {
            try await database.schema("time_entries").field(.definition(name: .key(FieldKey(stringLiteral: name)), dataType: type, constraints: constraints))
                .update()
        }
        try await sql.raw("UPDATE time_entries SET worked_at = created_at").run()
        // Timesheets read a person's entries of a week.
        try await sql.raw("CREATE INDEX time_entries_author_worked ON time_entries (author_id, worked_at)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX time_entries_author_worked").run()
        for (name, _, _) in Self.entryColumns {
            try await database.schema("time_entries").deleteField(FieldKey(stringLiteral: name)).update()
        }
        for (old, new) in Self.roleColumns {
            try await database.schema("roles").field(
                .definition(name: .key(FieldKey(stringLiteral: old)), dataType: .double, constraints: [.required, .sql(.default(0))])
            )
            .update()
            try await sql.raw("UPDATE roles SET \(unsafeRaw: old) = \(unsafeRaw: new) / 10000.0").run()
            try await database.schema("roles").deleteField(FieldKey(stringLiteral: new)).update()
        }
    }
}

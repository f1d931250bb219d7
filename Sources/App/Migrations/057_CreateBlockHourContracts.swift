import Fluent
import SQLKit

/// Block-hour contracts (Autotask): per organization, hours bought for a period, and the warning threshold.
/// `block_hour_notices` is the memory of `blockHours.thresholdReached`: one row per contract (its primary key),
/// claimed with `INSERT … ON CONFLICT DO NOTHING … RETURNING`, so the event is recorded once whatever restarts
/// or how many instances write time at the same moment.
struct CreateBlockHourContracts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("block_hour_contracts")
            .id()
            .field("organization_id", .uuid, .required, .references("organizations", "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("hours_bought_units", .int64, .required)
            .field("starts_on", .string, .required)
            .field("ends_on", .string)
            .field("threshold_percent", .int, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await database.schema("block_hour_notices")
            .field("contract_id", .uuid, .identifier(auto: false), .references("block_hour_contracts", "id", onDelete: .cascade))
            .field("reached_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX block_hour_contracts_organization ON block_hour_contracts (organization_id, starts_on)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("block_hour_notices").delete()
        try await database.schema("block_hour_contracts").delete()
    }
}

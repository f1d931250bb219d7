import Fluent

/// An MSP resource's time zone (an IANA name; null: UTC): the days of their timesheet weeks. Co-managing users take
/// theirs from their internal location.
struct AddResourceTimeZone: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("resources").field("time_zone", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("resources").deleteField("time_zone").update()
    }
}

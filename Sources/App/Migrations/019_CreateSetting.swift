import Fluent

struct CreateSetting: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("settings")
            .field("key", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        try await Setting(key: Setting.tenantDomain, value: "tandem.local").create(on: database)
    }

    func revert(on database: any Database) async throws {
        try await database.schema("settings").delete()
    }
}

import Fluent
import TandemCore

struct SeedSystemSecurityLevels: AsyncMigration {
    func prepare(on database: any Database) async throws {
        for system in SystemSecurityLevel.allCases {
            let level = SecurityLevel()
            level.id = .v7()
            level.name = system.name
            level.systemKey = system.rawValue
            level.coManaged = system.coManaged
            level.permissions = system.permissions
            try await level.create(on: database)
        }
    }

    func revert(on database: any Database) async throws {
        try await SecurityLevel.query(on: database).filter(\.$systemKey != nil).delete()
    }
}

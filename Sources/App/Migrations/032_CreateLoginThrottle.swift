import Fluent
import SQLKit

/// Login attempts counted per key in one upserted row (`LoginThrottle`), replacing the log of
/// failures, whose count-then-insert let parallel requests pass the limit.
struct CreateLoginThrottle: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw(
            """
            CREATE TABLE login_throttles (
                key TEXT PRIMARY KEY,
                window_started BIGINT NOT NULL,
                attempts INTEGER NOT NULL
            )
            """
        ).run()
        try await CreateLoginFailure().revert(on: database)
    }

    func revert(on database: any Database) async throws {
        try await CreateLoginFailure().prepare(on: database)
        try await (database as! any SQLDatabase).raw("DROP TABLE login_throttles").run()
    }
}

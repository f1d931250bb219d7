import Fluent
import SQLKit

/// On PostgreSQL, every statement that changes a table the token query reads notifies `tandem_access` at its commit,
/// so that every instance's `TokenCache` forgets the rows it kept. SQLite keeps no token rows. Additive.
struct NotifyAccessChanges: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard !database.isSQLite else { return }
        let sql = database as! any SQLDatabase
        try await sql.raw(
            """
            CREATE FUNCTION tandem_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('\(unsafeRaw: TokenCache.channel)', '');
                RETURN NULL;
            END $$
            """
        ).run()
        for table in TokenCache.watchedTables {
            // A new token changes no kept row; every other change to these tables may.
            let events = table == "api_tokens" ? "UPDATE OR DELETE OR TRUNCATE" : "INSERT OR UPDATE OR DELETE OR TRUNCATE"
            try await sql.raw(
                """
                CREATE TRIGGER \(unsafeRaw: table)_access_changed AFTER \(unsafeRaw: events) ON \(unsafeRaw: table)
                FOR EACH STATEMENT EXECUTE FUNCTION tandem_access_changed()
                """
            ).run()
        }
    }

    func revert(on database: any Database) async throws {
        guard !database.isSQLite else { return }
        let sql = database as! any SQLDatabase
        for table in TokenCache.watchedTables {
            try await sql.raw("DROP TRIGGER \(unsafeRaw: table)_access_changed ON \(unsafeRaw: table)").run()
        }
        try await sql.raw("DROP FUNCTION tandem_access_changed()").run()
    }
}

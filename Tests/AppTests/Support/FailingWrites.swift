import Fluent
import Foundation
import SQLKit
import Testing

/// A database that fails a write, made by the test and not by a hook in the code under test: a trigger on each
/// of `tables` (SQLite and PostgreSQL alike) spends one unit of a budget per row written (inserted, updated or
/// deleted) and raises once the budget is spent. The budget is rolled back with the transaction that spent
/// it, so the same armed database fails again at the same write until `disarm`.
enum FailingWrites {
    static let message = "injected write failure"

    /// From now on the write after the first `writes` row writes to `tables` fails.
    static func arm(failingAfter writes: Int, on tables: [String], _ db: any Database) async throws {
        let sql = try #require(db as? any SQLDatabase)
        try await disarm(tables, db)
        try await sql.raw("CREATE TABLE test_write_budget (remaining INTEGER NOT NULL)").run()
        try await sql.raw("INSERT INTO test_write_budget (remaining) VALUES (\(unsafeRaw: String(writes)))").run()
        if TestDatabase.postgresURL != nil {
            try await sql.raw(
                """
                CREATE FUNCTION test_write_budget_spend() RETURNS trigger AS $$
                BEGIN
                    UPDATE test_write_budget SET remaining = remaining - 1;
                    IF (SELECT remaining FROM test_write_budget) < 0 THEN RAISE EXCEPTION '\(unsafeRaw: message)'; END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql
                """
            ).run()
            for table in tables {
                try await sql.raw(
                    """
                    CREATE TRIGGER test_write_budget_\(unsafeRaw: table) BEFORE INSERT OR UPDATE OR DELETE ON \(ident: table)
                    FOR EACH ROW EXECUTE FUNCTION test_write_budget_spend()
                    """
                ).run()
            }
        } else {
            for table in tables {
                for operation in ["INSERT", "UPDATE", "DELETE"] {
                    try await sql.raw(
                        """
                        CREATE TRIGGER test_write_budget_\(unsafeRaw: table)_\(unsafeRaw: operation.lowercased()) BEFORE \(unsafeRaw: operation) ON \(ident: table)
                        BEGIN
                            UPDATE test_write_budget SET remaining = remaining - 1;
                            SELECT RAISE(ABORT, '\(unsafeRaw: message)') WHERE (SELECT remaining FROM test_write_budget) < 0;
                        END
                        """
                    ).run()
                }
            }
        }
    }

    /// Removes the triggers and the budget: writes go through again.
    static func disarm(_ tables: [String], _ db: any Database) async throws {
        let sql = try #require(db as? any SQLDatabase)
        if TestDatabase.postgresURL != nil {
            for table in tables { try await sql.raw("DROP TRIGGER IF EXISTS test_write_budget_\(unsafeRaw: table) ON \(ident: table)").run() }
            try await sql.raw("DROP FUNCTION IF EXISTS test_write_budget_spend()").run()
        } else {
            for table in tables {
                for operation in ["insert", "update", "delete"] {
                    try await sql.raw("DROP TRIGGER IF EXISTS test_write_budget_\(unsafeRaw: table)_\(unsafeRaw: operation)").run()
                }
            }
        }
        try await sql.raw("DROP TABLE IF EXISTS test_write_budget").run()
    }
}

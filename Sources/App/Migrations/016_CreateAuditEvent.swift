import Fluent
import SQLKit

struct CreateAuditEvent: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("audit_events")
            .id()
            .field("at", .datetime, .required)
            .field("actor_id", .uuid)
            .field("actor_kind", .string)
            .field("actor_name", .string, .required)
            .field("action", .string, .required)
            .field("entity_type", .string, .required)
            .field("entity_id", .uuid)
            .field("organization_id", .uuid)
            .field("ticket_id", .uuid)
            .field("before", .string)
            .field("after", .string)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX audit_events_entity ON audit_events (entity_id, id)").run()
        try await sql.raw("CREATE INDEX audit_events_ticket ON audit_events (ticket_id, id)").run()
        try await sql.raw("CREATE INDEX audit_events_organization ON audit_events (organization_id, id)").run()
        // Append-only, enforced by the database itself.
        if sql.dialect.name == "postgresql" {
            try await sql.raw(
                """
                CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$
                """
            ).run()
            try await sql.raw(
                """
                CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
                """
            ).run()
        } else {
            for operation in ["UPDATE", "DELETE"] {
                try await sql.raw(
                    """
                    CREATE TRIGGER audit_events_no_\(unsafeRaw: operation.lowercased()) BEFORE \(unsafeRaw: operation) ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
                    """
                ).run()
            }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP TRIGGER audit_events_append_only ON audit_events").run()
            try await sql.raw("DROP FUNCTION audit_events_append_only()").run()
        }
        try await database.schema("audit_events").delete()
    }
}

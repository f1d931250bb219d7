import Fluent
import SQLKit

/// What the blob sweep (`BlobSweep`) reads: when each row of the `blobs` table was stored (rows from before have
/// none, and count as old), indexes to ask whether an attachment or an import job points at a key, and
/// `periodic_tasks`, the claim of work that runs once an interval across all instances. Additive.
struct AddBlobSweep: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let time = database.isSQLite ? "REAL" : "TIMESTAMPTZ"
        try await sql.raw("ALTER TABLE blobs ADD COLUMN stored_at \(unsafeRaw: time)").run()
        try await sql.raw("CREATE INDEX attachments_blob_key ON attachments (blob_key)").run()
        try await sql.raw("CREATE INDEX import_jobs_upload_key ON import_jobs (upload_key)").run()
        try await database.schema(PeriodicTask.schema)
            .field("name", .string, .identifier(auto: false))
            .field("last_run_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema(PeriodicTask.schema).delete()
        try await sql.raw("DROP INDEX import_jobs_upload_key").run()
        try await sql.raw("DROP INDEX attachments_blob_key").run()
        try await sql.raw("ALTER TABLE blobs DROP COLUMN stored_at").run()
    }
}

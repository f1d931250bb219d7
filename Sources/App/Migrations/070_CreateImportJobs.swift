import Fluent
import SQLKit

/// Import jobs (issue 22): an import submitted with `Prefer: respond-async` waits here, its upload in the blob
/// store, until a background worker claims it (`claimed_by`, `lease_until`) and records its report or error.
/// No foreign keys on the site and organization: a job outlives a deleted site as a record of what happened, and
/// the worker fails it when it finds the site gone. Additive: a new table.
struct CreateImportJobs: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ImportJob.schema)
            .id()
            .field("kind", .string, .required)
            .field("site_id", .uuid, .required)
            .field("organization_id", .uuid, .required)
            .field("requested_by", .uuid, .required)
            .field("requested_by_kind", .string, .required)
            .field("format", .string, .required)
            .field("dry_run", .bool, .required)
            .field("upload_key", .string, .required)
            .field("upload_pieces", .int, .required)
            .field("byte_size", .int64, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("claimed_by", .string)
            .field("lease_until", .datetime)
            .field("created_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("report", .string)
            .field("error", .string)
            .create()
        let sql = database as! any SQLDatabase
        // The worker's question: a queued job, or a running one whose lease has ended, oldest first.
        try await sql.raw("CREATE INDEX import_jobs_claim ON import_jobs (state, lease_until, created_at)").run()
        try await sql.raw("CREATE INDEX import_jobs_requested_by ON import_jobs (requested_by, id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ImportJob.schema).delete()
    }
}

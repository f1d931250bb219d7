import Fluent
import SQLKit

/// The SLA watch's schedule (`SLASchedule`): each open ticket under a policy whose clocks can still alert, with the
/// moment they next can; and the watch's position in the event log, from which it marks the tickets that changed.
/// Every open ticket under a policy starts due, so the watch works each one's clocks out once (what every round of
/// the old watch did in turn). Additive: `after_ticket_id`, the old watch's place in its rounds, stays for instances
/// still running it.
struct CreateSLASchedule: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SLASchedule.schema)
            .field("ticket_id", .uuid, .identifier(auto: false), .references(Ticket.schema, "id", onDelete: .cascade))
            .field("due_at", .datetime, .required)
            // Moved by every mark, so the watch never overwrites a mark made while it worked the ticket out.
            .field("stamp", .int64, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX sla_schedule_due_at ON sla_schedule (due_at)").run()
        try await sql.raw("ALTER TABLE sla_watch ADD COLUMN after_position BIGINT").run()
        try await SLASchedule.recheck("1 = 1", now: database.now, on: database)
        try await SLAWatch.startAfterLatestEvent(on: database)
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE sla_watch DROP COLUMN after_position").run()
        try await database.schema(SLASchedule.schema).delete()
    }
}

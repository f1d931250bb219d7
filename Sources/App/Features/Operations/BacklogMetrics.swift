import Fluent
import Foundation
import SQLKit

/// How far the background work is behind, read from the database when `/metrics` is scraped: the same on every
/// instance (it is the database's), so a dashboard takes any one, or the maximum. Prometheus text lines appended to
/// the registry's.
enum BacklogMetrics {
    /// The gauges in Prometheus's text format.
    static func text(on db: any Database) async throws -> String {
        let now = db.now
        func count(_ query: SQLQueryString) async throws -> Int {
            try await db.sql.raw("SELECT count(*) AS n FROM (\(query)) counted").first()?.decode(column: "n", as: Int.self) ?? 0
        }
        let latest = try await Events.latestPosition(on: db)
        var positions: [String: Int] = [:]
        for row in try await db.sql.raw("SELECT name, position FROM event_consumers").all() {
            positions[try row.decode(column: "name", as: String.self)] = try row.decode(column: "position", as: Int.self)
        }
        // A consumer that never ran (no worker started) is behind by every event; the webhook consumer reads only while a
        // webhook is active, so without one its figure would only grow and mean nothing.
        positions[Automation.consumer] = positions[Automation.consumer] ?? 0
        if try await count("SELECT 1 FROM webhooks WHERE active = \(bind: true)") > 0 {
            positions[WebhookFanOut.consumer] = positions[WebhookFanOut.consumer] ?? 0
        } else {
            positions[WebhookFanOut.consumer] = nil
        }
        var lines = [
            "# HELP tandem_events_unconsumed Events an event consumer has not yet handled.",
            "# TYPE tandem_events_unconsumed gauge",
        ]
        for (name, position) in positions.sorted(by: { $0.key < $1.key }) {
            lines.append("tandem_events_unconsumed{consumer=\"\(name)\"} \(max(0, latest - position))")
        }
        let gauges: [(name: String, help: String, value: Int)] = [
            (
                "tandem_outbox_due", "Outbox messages (mail, webhooks) due for delivery now.",
                try await count("SELECT 1 FROM outbox WHERE state = \(bind: OutboxMessage.State.pending.rawValue) AND next_attempt_at <= \(bind: now)")
            ),
            (
                "tandem_sla_tickets_due", "Tickets whose SLA clocks the SLA watch has yet to work out.",
                try await count("SELECT 1 FROM sla_schedule WHERE due_at <= \(bind: now)")
            ),
            (
                "tandem_import_jobs_queued", "Import jobs waiting for a worker.",
                try await count("SELECT 1 FROM import_jobs WHERE state = \(bind: ImportJob.State.queued.rawValue)")
            ),
        ]
        for gauge in gauges {
            lines += ["# HELP \(gauge.name) \(gauge.help)", "# TYPE \(gauge.name) gauge", "\(gauge.name) \(gauge.value)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

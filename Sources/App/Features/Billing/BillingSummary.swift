import Fluent
import Foundation
import SQLKit
import TandemCore

/// Time and billing of one organization over a period, for reports: minutes by role, the billable amount and the
/// block hours used, over the tickets of a ticket scope.
///
/// `BillingSummary.of(…)` is the raw sum; `BillingSummary.shown(to:…)` is what a reader may see: the reader's
/// ticket scope and the time entries' publish-to narrow the time, and the amount and block hours are there only
/// for those who see the organization's billing (`AccessPolicy.seesAmount`).
struct BillingSummary: Sendable, Equatable {
    /// Minutes of all time (billable or not) by role id; nil: time logged without a role.
    var minutesByRole: [UUID?: Int]
    var billableMinutes: Int
    /// The sum of the entries' rounded amounts (README "Time and billing"); nil when not shown.
    var billableAmount: Money?
    /// Hours × multiplier of billable time, exact in ten-thousandths of a minute; nil when not shown.
    var blockMinuteUnits: Int64?

    /// Block hours used, rounded to 0.01 h half up, as a contract shows them.
    var blockHoursUsed: BillingDecimal? {
        blockMinuteUnits.map { BlockHourState(hoursBought: .zero, usedMinuteUnits: $0, thresholdPercent: 100).hoursUsed }
    }

    /// The time of `organizationId` worked in `period` (its `worked_at`, UTC) on tickets in `tickets` (a ticket scope,
    /// rendered into the SQL) whose publish-to is in `items` (nil: any).
    static func of(organizationId: UUID, period: Range<Date>, tickets: Scope, items: Scope? = nil, on db: any Database) async throws -> BillingSummary {
        guard tickets != .none, items != Scope.none else {
            return BillingSummary(minutesByRole: [:], billableMinutes: 0, billableAmount: .zero, blockMinuteUnits: 0)
        }
        let entries = TimeEntry.schema
        var query = db.sql.select()
            .column(SQLColumn("role_id", table: entries))
            .column(SQLRaw("CAST(COALESCE(SUM(time_entries.minutes), 0) AS BIGINT)"), as: "minutes")
            .column(SQLRaw("CAST(COALESCE(SUM(CASE WHEN time_entries.billable THEN time_entries.minutes ELSE 0 END), 0) AS BIGINT)"), as: "billable_minutes")
            .column(SQLRaw("CAST(COALESCE(SUM(CASE WHEN time_entries.billable THEN time_entries.amount_cents ELSE 0 END), 0) AS BIGINT)"), as: "cents")
            .column(
                SQLRaw(
                    "CAST(COALESCE(SUM(CASE WHEN time_entries.billable THEN time_entries.minutes * time_entries.block_hour_multiplier_units ELSE 0 END), 0) AS BIGINT)"
                ), as: "block"
            )
            // From the organization's tickets to their entries by `ticket_id` (`CROSS JOIN` keeps that order on SQLite,
            // whose planner otherwise walks every entry of the period by `time_entries_author_worked`; see
            // `Reports.timeByRole`); PostgreSQL plans it as any inner join.
            .from(SQLRaw("tickets CROSS JOIN time_entries"))
            .where(SQLColumn("ticket_id", table: entries), .equal, SQLColumn("id", table: Ticket.schema))
            .where(SQLColumn("organization_id", table: Ticket.schema), .equal, SQLBind(organizationId))
            .where(SQLColumn("worked_at", table: entries), .greaterThanOrEqual, SQLBind(period.lowerBound))
            .where(SQLColumn("worked_at", table: entries), .lessThan, SQLBind(period.upperBound))
        if tickets != .all { query = query.where(tickets.sql(for: Ticket.scopeTable)) }
        if let items, items != .all { query = query.where(items.sql(for: TimeEntry.scopeTable)) }
        let rows = try await query.groupBy(SQLColumn("role_id", table: entries)).all()
        var summary = BillingSummary(minutesByRole: [:], billableMinutes: 0, billableAmount: .zero, blockMinuteUnits: 0)
        for row in rows {
            let role = try row.decodeNil(column: "role_id") ? nil : try row.decode(column: "role_id", as: UUID.self)
            summary.minutesByRole[role, default: 0] += Int(try row.decode(column: "minutes", as: Int64.self))
            summary.billableMinutes += Int(try row.decode(column: "billable_minutes", as: Int64.self))
            summary.billableAmount = summary.billableAmount! + Money(cents: try row.decode(column: "cents", as: Int64.self))
            summary.blockMinuteUnits! += try row.decode(column: "block", as: Int64.self)
        }
        return summary
    }

    /// `of(…)` as `principal` may see it: its ticket scope and the publish-to it reads; amounts and block hours only
    /// with billing on the organization.
    static func shown(to principal: Principal, organizationId: UUID, period: Range<Date>, on db: any Database) async throws -> BillingSummary {
        var summary = try await of(
            organizationId: organizationId, period: period, tickets: AccessPolicy.ticketScope(for: principal),
            items: AccessPolicy.ticketItemScope(for: principal, area: .timeEntries), on: db)
        if !AccessPolicy.seesAmount(principal, organizationId: organizationId) {
            summary.billableAmount = nil
            summary.blockMinuteUnits = nil
        }
        return summary
    }
}

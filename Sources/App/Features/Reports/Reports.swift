import Fluent
import Foundation
import SQLKit
import TandemCore

/// An organization's report for a period (issue 21): the database's part. Each query is narrowed in SQL by the
/// reader's `AccessPolicy.reportRights`: the ticket scope the ticket list applies, the time entries' publish-to,
/// so a co-managing user's report counts exactly the tickets and time they may see. The arithmetic (buckets,
/// medians, averages) is `OrganizationReport`'s, in the core.
enum Reports {
    /// The event types reports read, written as the partial index's `WHERE` (migration `AddReportEventIndexes`).
    static let milestoneTypes = SQLRaw(AddReportEventIndexes.predicate)

    /// Narrows a report further, for tests that compare one reader's report with another's: only these tickets
    /// and these time entries (nil: no narrowing).
    struct Filter: Sendable {
        var ticketIds: Set<UUID>?
        var timeEntryIds: Set<UUID>?
    }

    /// The report of `organizationId`, or 404 when the organization is unknown or outside the reader's reports.
    static func organization(_ organizationId: UUID, period: ReportPeriod, by principal: Principal, filter: Filter = Filter(), on db: any Database)
        async throws -> OrganizationReport
    {
        let rights = AccessPolicy.reportRights(for: principal)
        guard rights.allows(organizationId: organizationId), let organization = try await Organization.find(organizationId, on: db) else {
            throw TandemError.notFound("organization")
        }
        let tickets = SQLList([rights.tickets.sql(for: Ticket.scopeTable), ticketFilter(filter)], separator: SQLRaw(" AND "))
        // The SLA clocks and billing sums take the same narrowing as a scope.
        let ticketScope = Scope.allOf([rights.tickets, filter.ticketIds.map { .isIn(.id, $0) } ?? .all])
        let entries = Scope.allOf([rights.timeEntries, filter.timeEntryIds.map { .isIn(.id, $0) } ?? .all])
        // The sections are independent reads and run side by side: on PostgreSQL each takes its own pooled connection,
        // so the database sums the time while the server works out the SLA clocks.
        async let time: [RoleTime]? = {
            rights.timeEntries == .none ? nil : try await timeByRole(organizationId, period, tickets, rights.timeEntries, filter, on: db)
        }()
        async let licenses: LicenseFigures? = { rights.licenses ? try await Self.licenses(organizationId, period, on: db) : nil }()
        async let sla = SLAReports.compliance(
            organizationId: organizationId, period: DateInterval(start: period.start, end: period.end), scope: ticketScope, on: db)
        async let billing: ReportBilling? = {
            guard rights.billing else { return nil }
            let summary = try await BillingSummary.of(
                organizationId: organizationId, period: period.start..<period.end, tickets: ticketScope, items: entries, on: db)
            // Expenses are the MSP's billing, not a ticket's: every billable expense of the organization dated in the period.
            let expenses = try await ExpensesCollection.billableTotal(
                organizationId: organizationId, from: ReportPeriod.day(period.start), through: ReportPeriod.day(period.lastDay), on: db)
            return ReportBilling(
                billableMinutes: summary.billableMinutes, amount: summary.billableAmount ?? .zero, blockHoursUsed: summary.blockHoursUsed ?? .zero,
                billableExpenses: expenses)
        }()
        async let opened = opened(organizationId, period, tickets, on: db)
        async let responses = firstResponses(organizationId, period, tickets, on: db)
        async let resolved = resolved(organizationId, period, tickets, on: db)
        let facts = ReportFacts(
            opened: try await opened, responses: try await responses, resolved: try await resolved, time: try await time, licenses: try await licenses,
            slaCompliance: try await sla, billing: try await billing)
        return OrganizationReport(organizationId: organizationId, organizationName: organization.name, period: period, facts: facts)
    }

    /// The organizations whose report the reader may open, by name.
    static func organizations(for principal: Principal, on db: any Database) async throws -> [Organization] {
        let rights = AccessPolicy.reportRights(for: principal)
        guard rights.any else { return [] }
        return try await Organization.query(on: db).filter(rights.organizations, on: Organization.scopeTable).sort(\.$name).all()
    }

    // MARK: Queries

    static func ticketFilter(_ filter: Filter) -> any SQLExpression {
        guard let ids = filter.ticketIds else { return SQLRaw("1 = 1") }
        guard !ids.isEmpty else { return SQLRaw("1 = 0") }
        return SQLBinaryExpression(
            SQLColumn("id", table: Ticket.schema), .in, SQLGroupExpression(ids.sorted { $0.uuidString < $1.uuidString }.map { SQLBind($0) }))
    }

    /// When each ticket opened in the period was created.
    static func opened(_ organizationId: UUID, _ period: ReportPeriod, _ scope: any SQLExpression, on db: any Database) async throws -> [Date] {
        try await db.sql.raw(
            """
            SELECT tickets.created_at AS created_at FROM tickets
            WHERE tickets.organization_id = \(bind: organizationId) AND tickets.created_at >= \(bind: period.start)
                AND tickets.created_at < \(bind: period.end) AND \(scope)
            """
        ).all().map { try $0.decode(column: "created_at", as: Date.self) }
    }

    /// The first responses to the tickets opened in the period: the first note published to all that MSP staff or a
    /// co-managing user added (an event, so a note edited or deleted later still counts when it was sent). They are
    /// read from the events by organization and time (a response comes after its ticket's creation, so after the
    /// period's start), each joined to its ticket by id: the plan both databases take with the events' partial index.
    static func firstResponses(_ organizationId: UUID, _ period: ReportPeriod, _ scope: any SQLExpression, on db: any Database) async throws
        -> [ReportFacts.Response]
    {
        try await db.sql.raw(
            """
            SELECT MIN(tickets.created_at) AS created_at, MIN(events.at) AS first_at
            FROM events JOIN tickets ON tickets.id = events.ticket_id
            WHERE events.organization_id = \(bind: organizationId) AND \(milestoneTypes) AND events.type = 'note.added'
                AND events.at >= \(bind: period.start) AND events.publish_to = 'all' AND events.actor_kind IN ('resource', 'coManagingUser')
                AND tickets.organization_id = \(bind: organizationId) AND tickets.created_at >= \(bind: period.start)
                AND tickets.created_at < \(bind: period.end) AND \(scope)
            GROUP BY tickets.id
            """
        ).all().map {
            ReportFacts.Response(createdAt: try $0.decode(column: "created_at", as: Date.self), respondedAt: try $0.decode(column: "first_at", as: Date.self))
        }
    }

    /// Tickets whose status changed to resolved or closed in the period, once each, at the first such change in it.
    static func resolved(_ organizationId: UUID, _ period: ReportPeriod, _ scope: any SQLExpression, on db: any Database) async throws
        -> [ReportFacts.Resolved]
    {
        let rows = try await db.sql.raw(
            """
            SELECT MIN(tickets.created_at) AS created_at, MIN(events.at) AS resolved_at
            FROM events JOIN tickets ON tickets.id = events.ticket_id
            WHERE events.organization_id = \(bind: organizationId) AND \(milestoneTypes) AND events.type = 'ticket.statusChanged'
                AND events.at >= \(bind: period.start) AND events.at < \(bind: period.end)
                AND (events.data LIKE '%"to":"resolved"%' OR events.data LIKE '%"to":"closed"%')
                AND tickets.organization_id = \(bind: organizationId) AND \(scope)
            GROUP BY tickets.id
            """
        ).all()
        return try rows.map {
            ReportFacts.Resolved(createdAt: try $0.decode(column: "created_at", as: Date.self), resolvedAt: try $0.decode(column: "resolved_at", as: Date.self))
        }
    }

    /// Minutes of the time entries worked in the period (`worked_at`, as timesheets and block hours count them) on the
    /// organization's tickets, by role. Read from the organization's tickets into the covering index 063
    /// (`time_entries_report`): `CROSS JOIN` keeps that order on SQLite, whose planner otherwise walks every entry of the
    /// period by `time_entries_author_worked` (a skip-scan, 40 ms of CPU against 5 at 100k tickets); PostgreSQL plans
    /// it as any inner join.
    static func timeByRole(
        _ organizationId: UUID, _ period: ReportPeriod, _ scope: any SQLExpression, _ entries: Scope, _ filter: Filter, on db: any Database
    ) async throws -> [RoleTime] {
        var only: any SQLExpression = SQLRaw("1 = 1")
        if let ids = filter.timeEntryIds {
            only =
                ids.isEmpty
                ? SQLRaw("1 = 0")
                : SQLBinaryExpression(
                    SQLColumn("id", table: TimeEntry.schema), .in, SQLGroupExpression(ids.sorted { $0.uuidString < $1.uuidString }.map { SQLBind($0) }))
        }
        let rows = try await db.sql.raw(
            """
            SELECT time_entries.role_id AS role_id, MIN(roles.name) AS role_name, CAST(SUM(time_entries.minutes) AS BIGINT) AS minutes, COUNT(*) AS entries
            FROM tickets CROSS JOIN time_entries LEFT JOIN roles ON roles.id = time_entries.role_id
            WHERE time_entries.ticket_id = tickets.id AND tickets.organization_id = \(bind: organizationId) AND time_entries.worked_at >= \(bind: period.start)
                AND time_entries.worked_at < \(bind: period.end) AND \(scope) AND \(entries.sql(for: TimeEntry.scopeTable)) AND \(only)
            GROUP BY time_entries.role_id
            """
        ).all()
        return try rows.map {
            RoleTime(
                roleId: try $0.decode(column: "role_id", as: UUID?.self), roleName: try $0.decode(column: "role_name", as: String?.self),
                minutes: try $0.decode(column: "minutes", as: Int.self), entries: try $0.decode(column: "entries", as: Int.self))
        }
    }

    /// The organization's own co-managing users (erased ones are gone): each active one is a license.
    static func licenses(_ organizationId: UUID, _ period: ReportPeriod, on db: any Database) async throws -> LicenseFigures {
        let users = try await CoManagingUser.query(on: db).filter(\.$organizationId == organizationId).filter(\.$erased == false).all()
        let active = users.filter(\.active)
        return LicenseFigures(
            active: active.count, inactive: users.count - active.count,
            addedInPeriod: active.filter { ($0.createdAt).map { $0 >= period.start && $0 < period.end } ?? false }.count)
    }
}

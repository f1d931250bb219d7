import Fluent
import Foundation
import SQLKit
import TandemCore

/// SLA compliance for reports (the reports feature calls this): the tickets of one organization opened
/// within `period`, narrowed by `scope` (the reader's `AccessPolicy.ticketScope`, so a report never
/// counts a ticket its reader may not see), with their clocks as they stand at the database's `now`.
/// Tickets whose organization has no policy for their priority are not counted.
enum SLAReports {
    static func compliance(organizationId: UUID, period: DateInterval, scope: Scope, on db: any Database) async throws -> SLACompliance {
        var compliance = SLACompliance()
        guard scope != .none else { return compliance }
        let tickets = try await db.sql.select().columns(TicketSLA.Subject.columns).from(Ticket.schema)
            .where("organization_id", .equal, SQLBind(organizationId))
            .where("created_at", .greaterThanOrEqual, SQLBind(period.start)).where("created_at", .lessThan, SQLBind(period.end))
            // Only tickets a policy covers have clocks: the others are not read at all.
            .where(
                SQLRaw("EXISTS (SELECT 1 FROM sla_policies p WHERE p.organization_id = tickets.organization_id AND p.priority = tickets.priority)")
            )
            .where(scope.sql(for: Ticket.scopeTable)).all().map(TicketSLA.Subject.init(row:))
        let now = db.now
        // The tickets share their days: each calendar's stretches from the period's start to now are worked out once.
        let inputs = try await TicketSLA.inputs(for: tickets, on: db).prepared(from: period.start, to: max(now, period.start))
        for ticket in tickets {
            guard let clock = inputs.clock(ticket, now: now) else { continue }
            compliance.add(clock, handedOff: inputs.timelines[ticket.id]?.handedOff ?? false)
        }
        return compliance
    }
}

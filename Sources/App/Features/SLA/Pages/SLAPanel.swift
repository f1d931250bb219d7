import Fluent
import Foundation
import TandemCore
import Vapor

/// The ticket page's SLA panel: who holds the ticket, each target's state, due time, elapsed business time
/// and each side's share, and on a co-managed ticket the handoff button for those who may change the
/// ticket. Read through the API's `TicketSLA.get` (whoever sees the ticket); the handoff posts through
/// `TicketPipeline.handOff`.
enum SLAPanel {
    struct Model: Encodable, Sendable {
        var ticketId: String
        var csrf: String?
        var side: String
        var sideKey: String
        var policy: Bool
        var timeZone: String
        var targets: [Target]
        var handoff: Handoff?
        var feedback: FormFeedback?
    }

    struct Target: Encodable, Sendable {
        var label: String
        var state: String
        var stateKey: String
        var target: String
        var elapsed: String
        var when: String?
        var sides: String?
    }

    struct Handoff: Encodable, Sendable {
        var to: String
        var label: String
        var version: Int
    }

    struct Form: Decodable, Sendable {
        var to: String?
        var reason: String?
        var version: String?
    }

    static func model(_ ticket: TicketDTO, principal: Principal, csrf: String?, feedback: FormFeedback?, zone: PageZone, on db: any Database) async throws
        -> Model
    {
        let id = UUID(uuidString: ticket.id)!
        let sla = try await TicketSLA.get(id, by: principal, on: db)
        let other: ResponsibleSide = sla.responsibleSide == .msp ? .clientIT : .msp
        // Offered to whoever may change the ticket, when the policy would let them hand it over now.
        var handoff: Handoff?
        if AccessPolicy.ticketScope(for: principal, .edit).evaluate(
            TicketService.facts(try await TicketService.visible(id, by: principal, on: db), assignees: ticket.assigneeIds.compactMap(UUID.init(uuidString:)))),
            AccessPolicy.handoffRefusal(
                principal, coManagement: sla.coManaged, organizationCoManaged: sla.coManaged, coManagedVisible: sla.coManaged, from: sla.responsibleSide,
                to: other) == nil
        {
            handoff = Handoff(to: other.rawValue, label: "Hand to \(other.label)", version: ticket.version)
        }
        let handedOff = sla.targets.contains { $0.sides.contains { $0.side == .clientIT && $0.elapsedMinutes > 0 } } || sla.responsibleSide == .clientIT
        return Model(
            ticketId: ticket.id, csrf: csrf, side: sla.responsibleSide.label, sideKey: sla.responsibleSide.rawValue, policy: sla.policyId != nil,
            timeZone: sla.timeZone,
            targets: sla.targets.map { target in
                Target(
                    label: target.target.label, state: label(target.state), stateKey: target.state.rawValue,
                    target: PageFormat.minutes(target.targetMinutes), elapsed: PageFormat.minutes(target.elapsedMinutes),
                    when: when(target, zone: zone),
                    sides: handedOff ? target.sides.map { "\($0.side.label) \(PageFormat.minutes($0.elapsedMinutes))" }.joined(separator: " · ") : nil)
            },
            handoff: handoff, feedback: feedback)
    }

    static func label(_ state: SLATargetClock.State) -> String {
        switch state {
        case .running: "Running"
        case .paused: "Paused (waiting customer)"
        case .met: "Met"
        case .approaching: "Approaching"
        case .breached: "Breached"
        }
    }

    static func when(_ target: SLATargetDTO, zone: PageZone) -> String? {
        if let breached = target.breachedAt { return "breached \(PageFormat.date(breached, in: zone))" }
        if let due = target.dueAt { return "due \(PageFormat.date(due, in: zone))" }
        if let stopped = target.stoppedAt { return "stopped \(PageFormat.date(stopped, in: zone))" }
        return nil
    }

    /// `POST /tickets/:id/handoff`: the handoff with the version the page showed; a refusal shows in the panel.
    @Sendable static func handOff(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let form = try req.content.decode(Form.self)
        do {
            // The version the page was rendered with: a stale page hands nothing over.
            _ = try await TicketSLA.handOff(
                id, ifMatch: form.version?.nonEmpty.map { "\"\($0)\"" }, by: req.principal, on: req.db, { HandoffInput(to: form.to, reason: form.reason) })
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "handedOff")]) + "#sla")
        } catch TandemError.preconditionFailed {
            let feedback = FormFeedback(
                message: "This ticket changed since you loaded it. The page now shows the latest version; hand it over again if you still mean to.")
            return try await TicketDetailPage.render(req, id: id, draft: TicketDetailPage.Draft(handoffFeedback: feedback), status: .conflict)
        } catch let error as TandemError where error.isFormProblem {
            return try await TicketDetailPage.render(req, id: id, draft: TicketDetailPage.Draft(handoffFeedback: FormFeedback(error)), status: error.pageStatus)
        }
    }
}

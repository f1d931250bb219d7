import Foundation
import TandemCore
import Testing

/// Ticket actions: who may run them, and what they do.
@Suite struct AutomationTicketActionTests {
    let northwind = UUID()
    let escalations = UUID(), mspTeam = UUID(), dispatchTeam = UUID()
    let technicianLevel = UUID(), coManagedLevel = UUID()

    var escalate: TicketAction {
        TicketAction(
            name: "Escalate to MSP", changes: TicketFieldChanges(status: .escalated, queueId: escalations, teamId: mspTeam),
            note: NoteToAdd(text: "Escalated to the MSP by the client's IT.", publishTo: .internalAndCoManaged))
    }

    func person(_ kind: PrincipalKind, level: UUID?, teams: [UUID: TeamAccess] = [:]) -> Principal {
        Principal(
            id: UUID(), kind: kind, displayName: "P", securityLevelId: level,
            permissions: kind == .contact ? .nothing : SystemSecurityLevel.technician.permissions, teams: teams)
    }

    var ticket: TicketFacts {
        TicketFacts(id: UUID(), title: "Server down", organizationId: northwind, status: .inProgress, priority: .high)
    }

    @Test func applySetsEveryFieldAndHandsBackTheNote() throws {
        let (after, changed, note) = try escalate.apply(to: ticket)
        #expect(after.status == .escalated && after.queueId == escalations && after.teamId == mspTeam)
        #expect(changed == [.status, .queueId, .teamId])
        #expect(note == NoteToAdd(text: "Escalated to the MSP by the client's IT.", publishTo: .internalAndCoManaged))
        let priority = TicketAction(name: "Make critical", changes: TicketFieldChanges(priority: .critical))
        #expect(try priority.apply(to: ticket).facts.priority == .critical)
        #expect(try priority.apply(to: ticket).note == nil)
    }

    @Test func aStatusTheStateMachineRefusesRefusesTheWholeAction() {
        var closed = ticket
        closed.status = .closed
        #expect(throws: TandemError.invalid("status", TicketStatus.closed.refusal(to: .escalated))) { try escalate.apply(to: closed) }
    }

    @Test func unrestrictedActionsAreForEveryoneWhoWorksTickets() {
        #expect(escalate.mayRun(person(.resource, level: technicianLevel)))
        #expect(escalate.mayRun(person(.coManagingUser, level: coManagedLevel)))
        #expect(!escalate.mayRun(person(.contact, level: nil)))
        #expect(escalate.refusal(for: person(.contact, level: nil)) == "contacts cannot run ticket actions")
    }

    @Test func securityLevelAndTeamLimits() {
        var byLevel = escalate
        byLevel.securityLevelIds = [coManagedLevel]
        #expect(byLevel.mayRun(person(.coManagingUser, level: coManagedLevel)))
        #expect(!byLevel.mayRun(person(.resource, level: technicianLevel)))
        #expect(!byLevel.mayRun(person(.resource, level: nil)))
        #expect(throws: TandemError.forbidden("the action 'Escalate to MSP' is limited to other security levels")) {
            try byLevel.authorize(person(.resource, level: technicianLevel))
        }

        var byTeam = escalate
        byTeam.teamIds = [dispatchTeam]
        #expect(byTeam.mayRun(person(.resource, level: technicianLevel, teams: [dispatchTeam: .readOnly])))
        #expect(!byTeam.mayRun(person(.resource, level: technicianLevel, teams: [mspTeam: .full])))
        #expect(byTeam.refusal(for: person(.resource, level: technicianLevel)) == "the action 'Escalate to MSP' is limited to members of other teams")

        var both = byTeam
        both.securityLevelIds = [technicianLevel]
        #expect(both.mayRun(person(.resource, level: technicianLevel, teams: [dispatchTeam: .full])))
        #expect(!both.mayRun(person(.resource, level: technicianLevel)), "both limits must hold")
        #expect(!both.mayRun(person(.resource, level: coManagedLevel, teams: [dispatchTeam: .full])))
    }

    @Test func thePageOffersOnlyTheActionsOneMayRun() {
        var restricted = escalate
        restricted.name = "Technicians only"
        restricted.securityLevelIds = [technicianLevel]
        let offered = TicketAction.offered([escalate, restricted], to: person(.coManagingUser, level: coManagedLevel))
        #expect(offered.map(\.name) == ["Escalate to MSP"])
    }

    @Test func validationAndReferences() {
        #expect(
            throws: TandemError.validation([
                FieldError("name", "must not be empty"), FieldError("changes", "an action must change a field or add a note"),
                FieldError("securityLevelIds", "list at least one security level, or leave it out for all"),
            ])
        ) { try TicketAction(name: "", securityLevelIds: []).validate() }
        #expect(throws: TandemError.validation([FieldError("note.text", "must not be empty")])) {
            try TicketAction(name: "n", note: NoteToAdd(text: " ", publishTo: .all)).validate()
        }
        #expect(throws: Never.self) { try escalate.validate() }
        var limited = escalate
        limited.securityLevelIds = [technicianLevel]
        #expect(limited.references.ids == [.queue: [escalations], .team: [mspTeam], .securityLevel: [technicianLevel]])
        #expect(limited.references.brokenReason(resolving: [.queue: [escalations], .team: [mspTeam]])?.contains("security level") == true)
    }
}

import Foundation

/// A named action a user runs on a ticket in one click ("Escalate to MSP"): field changes and an optional note.
/// Stored as JSON.
public struct TicketAction: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var name: String
    public var changes: TicketFieldChanges
    public var note: NoteToAdd?
    /// Only principals of these security levels may run it; nil: any level.
    public var securityLevelIds: Set<UUID>?
    /// Only members of these teams may run it; nil: anyone. With both limits, both must hold.
    public var teamIds: Set<UUID>?

    public init(
        id: UUID = UUID(), name: String, changes: TicketFieldChanges = TicketFieldChanges(), note: NoteToAdd? = nil, securityLevelIds: Set<UUID>? = nil,
        teamIds: Set<UUID>? = nil
    ) {
        self.id = id
        self.name = name
        self.changes = changes
        self.note = note
        self.securityLevelIds = securityLevelIds
        self.teamIds = teamIds
    }

    public var references: AutomationReferences {
        var references = changes.references
        references.add(.securityLevel, securityLevelIds)
        references.add(.team, teamIds)
        return references
    }

    public func validate() throws(TandemError) {
        var validator = FieldValidator()
        _ = validator.text(name, "name", max: 100)
        if changes.isEmpty && note == nil { validator.fail("changes", "an action must change a field or add a note") }
        note?.validate("note", &validator)
        if securityLevelIds?.isEmpty == true { validator.fail("securityLevelIds", "list at least one security level, or leave it out for all") }
        if teamIds?.isEmpty == true { validator.fail("teamIds", "list at least one team, or leave it out for all") }
        try validator.check()
    }

    /// Why `principal` may not run this action, in words; nil when it may. The policy's edit check of the
    /// ticket itself stays with the write pipeline (a ticket out of reach answers 404 before this).
    public func refusal(for principal: Principal) -> String? {
        guard AccessPolicy.worksTickets(principal) else { return "contacts cannot run ticket actions" }
        if let securityLevelIds, !(principal.securityLevelId.map(securityLevelIds.contains) ?? false) {
            return "the action '\(name)' is limited to other security levels"
        }
        if let teamIds, teamIds.isDisjoint(with: principal.teams.keys) {
            return "the action '\(name)' is limited to members of other teams"
        }
        return nil
    }

    public func mayRun(_ principal: Principal) -> Bool { refusal(for: principal) == nil }

    /// The refusal as the API answers it.
    public func authorize(_ principal: Principal) throws(TandemError) {
        if let refusal = refusal(for: principal) { throw .forbidden(refusal) }
    }

    /// The ticket after the action, the fields it changed, the note to add, and the refusal of a status the
    /// state machine does not allow (the API refuses the whole action then, so nothing half-applies).
    public func apply(to facts: TicketFacts) throws(TandemError) -> (facts: TicketFacts, changed: [TicketField], note: NoteToAdd?) {
        let (after, changed, refusal) = changes.applied(to: facts)
        if let refusal { throw .invalid("status", refusal) }
        return (after, changed, note)
    }

    /// The actions a principal is offered on a ticket page.
    public static func offered(_ actions: [TicketAction], to principal: Principal) -> [TicketAction] {
        actions.filter { $0.mayRun(principal) }
    }
}

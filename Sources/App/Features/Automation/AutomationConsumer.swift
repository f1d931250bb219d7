import Fluent
import Foundation
import SQLKit
import TandemCore

/// The automation consumer of the events: each ticket event goes through the rules engine (ticket
/// rules on new tickets, then workflow rules, the defaults among them), and its answer is applied
/// through the write pipeline as the automation: field changes, notes, and notifications to the
/// outbox. The events those changes record are not fed back (the engine followed the chain itself,
/// up to its depth bound); they are recognised by their actor, `Automation.actor`.
enum Automation {
    static let consumer = "automation"
    static let engine = RulesEngine()

    /// Who rules act as: the audit and the ticket's history name "Automation". Full permissions: the
    /// administrators who wrote the rules chose what they do.
    static let actor = Principal(
        id: UUID(uuidString: "0193A000-0000-7000-8000-00000000A000")!, kind: .resource, displayName: "Automation", securityLevelId: nil,
        permissions: SystemSecurityLevel.administrator.permissions)

    /// One run of the consumer; answers how many events it read (nil: another instance has it).
    /// The rules, the recipients and the messages are worked out first, reading only; the write that
    /// follows applies what there is to apply. Small batches: the write holds SQLite's one writer and,
    /// once a rule's change records an event, PostgreSQL's event position lock until it commits;
    /// ticket creation waits meanwhile (measured with scripts/bench-automation: batches of 100 cost
    /// creation 31 %, of 25 22 %, of 10 16 %).
    @discardableResult
    static func run(on db: any Database, settings: AppSettings, logger: Logger? = nil, limit: Int = 10) async throws -> Int? {
        try await EventConsumers.run(
            consumer, limit: limit, on: db,
            prepare: { events, db in try await plan(events, settings: settings, logger: logger, on: db) },
            apply: { work, db in
                for step in work {
                    // One event's failure (a rule asking for what the ticket no longer allows) is logged
                    // and undone alone; the others go on, and the cursor moves past it.
                    do {
                        try await db.savepoint { try await apply(step, logger: logger, on: $0) }
                    } catch {
                        logger?.error(
                            "automation could not apply an event's rules",
                            metadata: [
                                "position": .stringConvertible(step.position), "ticket": .string(step.ticketId.uuidString), "error": .string("\(error)"),
                            ])
                    }
                }
            })
    }

    /// What the rules answered for one event, with its messages rendered.
    struct Step: @unchecked Sendable {
        let position: Int
        let ticketId: UUID
        let organizationId: UUID
        let answer: AutomationAnswer
        let messages: [OutboxMessage]
    }

    /// The rules' answers for the events, read outside any transaction; events with nothing to do are left out.
    static func plan(_ events: [EventDTO], settings: AppSettings, logger: Logger?, on db: any Database) async throws -> [Step] {
        let rules = try await Automations.rules(on: db)
        let templates = try await StoredTemplate.all(on: db)
        let lookups = NotificationFanOut.Lookups()
        try await lookups.prime(events.filter { $0.actorId != actor.id }, on: db)
        var steps: [Step] = []
        for event in events where event.actorId != actor.id {
            guard let ticketId = event.ticketId, let type = DomainEventType(rawValue: event.type),
                let context = try await NotificationFanOut.Context.load(ticketId, event: event, lookups: lookups, on: db),
                let happened = automationEvent(type, event, context)
            else { continue }
            let answer = engine.run(happened, facts: context.facts, rules: rules)
            var messages: [OutboxMessage] = []
            for planned in answer.notifications {
                messages += try await NotificationFanOut.messages(
                    planned, event: event, context: context, templates: templates, settings: settings, lookups: lookups, on: db)
            }
            guard !answer.changes.isEmpty || !answer.notes.isEmpty || answer.loopStopped != nil || !messages.isEmpty else { continue }
            steps.append(Step(position: event.position, ticketId: ticketId, organizationId: context.facts.organizationId, answer: answer, messages: messages))
        }
        return steps
    }

    private static func apply(_ step: Step, logger: Logger?, on db: any Database) async throws {
        let ticketId = step.ticketId
        if !step.answer.changes.isEmpty {
            _ = try await TicketService.update(ticketId, input(step.answer.changes), ifMatch: nil, by: actor, on: db)
        }
        for planned in step.answer.notes {
            var note = NoteInput()
            note.body = .value(planned.note.text)
            note.publishTo = .value(planned.note.publishTo.rawValue)
            _ = try await TicketItemWrites.createNote(ticketId: ticketId, note, by: actor, on: db)
        }
        if let stopped = step.answer.loopStopped {
            logger?.warning(
                "automation stopped a chain of rules",
                metadata: ["ticket": .string(ticketId.uuidString), "rules": .string(stopped.stoppedRules.joined(separator: ", "))])
            try await Audit.record(
                "automationStopped", Ticket.schema, id: ticketId, by: actor, organizationId: step.organizationId, ticketId: ticketId, after: stopped,
                events: [], on: db)
        }
        for message in step.messages { try await message.create(on: db) }
    }

    /// The engine's reading of a recorded event, nil for those rules do not react to.
    static func automationEvent(_ type: DomainEventType, _ event: EventDTO, _ context: NotificationFanOut.Context) -> AutomationEvent? {
        switch type {
        case .ticketCreated:
            // A new ticket's assignees come in the `ticket.assigned` event recorded with it: told once, there.
            var created = AutomationEvent.created(context.facts)
            created.addedAssignees = []
            created.changedFields.remove(.assigneeIds)
            return created
        case .ticketUpdated: return .edited(Set((event.data?.fields ?? []).compactMap(TicketField.init(rawValue:))))
        case .ticketStatusChanged: return .edited([.status])
        case .ticketAssigned: return .edited([.assigneeIds], addedAssignees: event.data?.added ?? [])
        case .ticketDueDateApproaching: return AutomationEvent(triggers: [.dueDateApproaching])
        case .ticketSLAApproaching: return AutomationEvent(triggers: [.slaApproaching])
        case .ticketSLABreached: return AutomationEvent(triggers: [.slaBreached])
        case .ticketHandedOff: return .handedOff
        case .noteAdded, .timeEntryAdded:
            guard let item = context.item else { return nil }
            return AutomationEvent(triggers: [type == .noteAdded ? .noteAdded : .timeEntryAdded], item: item)
        default: return nil
        }
    }

    /// The engine's changes as the ticket API's body.
    static func input(_ changes: TicketFieldChanges) -> TicketInput {
        var input = TicketInput()
        if let status = changes.status { input.status = .value(status.rawValue) }
        if let priority = changes.priority { input.priority = .value(priority.rawValue) }
        if let queue = changes.queueId { input.queueId = .value(queue.uuidString) }
        if let team = changes.teamId { input.teamId = .value(team.uuidString) }
        if let assignees = changes.assigneeIds { input.assigneeIds = .value(assignees.map(\.uuidString)) }
        if let visible = changes.coManagedVisible { input.coManagedVisible = .value(visible) }
        return input
    }
}

extension Database {
    /// `body` in a savepoint of the current write transaction: undone alone when it throws.
    func savepoint<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        try await sql.raw("SAVEPOINT tandem_step").run()
        do {
            let result = try await body(self)
            try await sql.raw("RELEASE SAVEPOINT tandem_step").run()
            return result
        } catch {
            try await sql.raw("ROLLBACK TO SAVEPOINT tandem_step").run()
            try await sql.raw("RELEASE SAVEPOINT tandem_step").run()
            throw error
        }
    }
}

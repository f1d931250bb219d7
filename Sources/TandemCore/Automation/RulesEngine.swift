import Foundation

/// The rules a ticket is run through, in order, as the server loads them.
public struct AutomationRules: Sendable, Equatable {
    public var ticketRules: [TicketRule]
    public var workflowRules: [WorkflowRule]

    public init(ticketRules: [TicketRule] = [], workflowRules: [WorkflowRule] = []) {
        self.ticketRules = ticketRules
        self.workflowRules = workflowRules
    }
}

/// A rule that fired, for the ticket's history.
public struct FiredRule: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case ticketRule, workflowRule }
    public var kind: Kind
    public var id: UUID
    public var name: String
    /// 0 for the event the server fed in, n for a change n rules deep.
    public var depth: Int

    public init(kind: Kind, id: UUID, name: String, depth: Int) {
        self.kind = kind
        self.id = id
        self.name = name
        self.depth = depth
    }
}

/// A note a rule adds.
public struct PlannedNote: Codable, Sendable, Equatable {
    public var note: NoteToAdd
    public var ruleId: UUID

    public init(note: NoteToAdd, ruleId: UUID) {
        self.note = note
        self.ruleId = ruleId
    }
}

/// The depth bound stopped a chain of rules: written to the ticket's history and the log.
public struct LoopReport: Codable, Sendable, Equatable {
    public var depth: Int
    /// The rules that would have fired next, by name.
    public var stoppedRules: [String]
    public var message: String

    public init(depth: Int, stoppedRules: [String], message: String) {
        self.depth = depth
        self.stoppedRules = stoppedRules
        self.message = message
    }
}

/// The engine's answer for one event: what to apply, through the write pipeline, as the automation.
public struct AutomationAnswer: Codable, Sendable, Equatable {
    /// The net changes, from the facts given to the facts after every rule.
    public var changes: TicketFieldChanges
    public var facts: TicketFacts
    public var notes: [PlannedNote]
    public var notifications: [PlannedNotification]
    public var fired: [FiredRule]
    public var loopStopped: LoopReport?
    /// Changes a rule asked for that could not apply (a status the state machine refuses), in words.
    public var skipped: [String]

    public var isEmpty: Bool { changes.isEmpty && notes.isEmpty && notifications.isEmpty }
}

/// One rules engine for HaloPSA's ticket rules and Autotask's workflow rules (SPEC §5). Pure: the server
/// feeds it an event and the ticket's facts, and applies the answer.
///
/// How changes chain: ticket rules shape a new ticket before anything else sees it (each rule reads the
/// ticket as the earlier ones left it; they run on `created` only, so they never chain). Workflow rules
/// triggered by an event all read the facts as the event left them, then act in order. Each rule's field
/// changes and notes are new events (edited, statusChanged, noteAdded) that other workflow rules may fire on,
/// but never the rule that made them. A chain is followed up to `maxDepth` events deep; past it the engine
/// stops and reports the rules it did not run. The server must not feed back the events it records while
/// applying an answer: the engine already followed them.
///
/// The depth bound alone does not bound the work: ten rules that each add a note on every note added fire
/// 10 × 9⁵ times within five levels (an event took minutes, and its answer would have added half a million
/// notes). So an event also has a budget of `maxFirings` workflow rule firings; past it the engine stops
/// the same way and reports the rules it did not run.
public struct RulesEngine: Sendable {
    public var maxDepth: Int
    public var maxFirings: Int

    public init(maxDepth: Int = 5, maxFirings: Int = 100) {
        self.maxDepth = maxDepth
        self.maxFirings = maxFirings
    }

    public func run(_ event: AutomationEvent, facts given: TicketFacts, rules: AutomationRules) -> AutomationAnswer {
        var facts = given
        var answer = AutomationAnswer(changes: TicketFieldChanges(), facts: given, notes: [], notifications: [], fired: [], loopStopped: nil, skipped: [])
        var first = event
        if first.triggers.contains(.created) {
            for rule in rules.ticketRules where rule.matches(facts) {
                let (after, _, refusal) = rule.outcome.applied(to: facts)
                facts = after
                answer.fired.append(FiredRule(kind: .ticketRule, id: rule.id, name: rule.name, depth: 0))
                if let refusal { answer.skipped.append("ticket rule '\(rule.name)': \(refusal)") }
                if rule.stopMatching { break }
            }
            // The new ticket, as routed, is what `created` workflow rules and notifications see. An event
            // without fields (read from the feed) takes them from the facts; one with fields keeps them
            // and adds what the ticket rules set (the server leaves a new ticket's own assignees out: it
            // records them in a `ticket.assigned` event of their own, told once, there).
            if event.changedFields.isEmpty {
                first.changedFields = facts.filledFields
                first.addedAssignees = facts.assigneeIds
            } else {
                first.changedFields = event.changedFields.union(TicketFieldChanges.changedFields(given, facts))
                first.addedAssignees = (event.addedAssignees + facts.assigneeIds.filter { !given.assigneeIds.contains($0) }).uniqued()
            }
        }

        var pending: [(event: AutomationEvent, depth: Int)] = [(first, 0)]
        var firings = 0
        while !pending.isEmpty {
            let (current, depth) = pending.removeFirst()
            let firing = rules.workflowRules.filter { $0.fires(on: current, facts) }
            guard !firing.isEmpty else { continue }
            let names = firing.map(\.name).joined(separator: ", ")
            if depth > maxDepth {
                let message = "automation stopped after \(maxDepth) levels of rules triggering rules; not run: \(names) (check these rules for a loop)"
                answer.loopStopped = LoopReport(depth: depth, stoppedRules: firing.map(\.name), message: message)
                break
            }
            if firings + firing.count > maxFirings {
                let message = "automation stopped after \(firings) workflow rules fired for one event; not run: \(names) (check these rules for a loop)"
                answer.loopStopped = LoopReport(depth: depth, stoppedRules: firing.map(\.name), message: message)
                break
            }
            firings += firing.count
            for rule in firing {
                answer.fired.append(FiredRule(kind: .workflowRule, id: rule.id, name: rule.name, depth: depth))
                for request in rule.actions.notify {
                    answer.notifications.append(
                        PlannedNotification(request: request, item: current.item, newAssignees: current.addedAssignees, ruleId: rule.id))
                }
                if let update = rule.actions.update {
                    let (after, changed, refusal) = update.applied(to: facts)
                    if let refusal { answer.skipped.append("workflow rule '\(rule.name)': \(refusal)") }
                    if !changed.isEmpty {
                        let added = after.assigneeIds.filter { !facts.assigneeIds.contains($0) }
                        pending.append((.edited(Set(changed), addedAssignees: added, causedByRule: rule.id), depth + 1))
                    }
                    facts = after
                }
                if let note = rule.actions.addNote {
                    answer.notes.append(PlannedNote(note: note, ruleId: rule.id))
                    let item = NotifiedItem(area: .notes, publishTo: note.publishTo, text: note.text, authorName: "Automation")
                    pending.append((AutomationEvent(triggers: [.noteAdded], item: item, causedByRule: rule.id), depth + 1))
                }
            }
        }
        answer.facts = facts
        answer.changes = TicketFieldChanges.difference(given, facts)
        return answer
    }
}

extension WorkflowRule {
    /// The rules a fresh install has, so that once mail is configured a ticket's contact gets an
    /// acknowledgement and every note published to all, new assignees an assignment notice, and co-managing
    /// users the notes published to them (the policy drops those who cannot see the ticket or the note).
    public static let defaults: [WorkflowRule] = [
        WorkflowRule(
            id: UUID(uuidString: "0193A000-0000-7000-8000-000000000001")!, name: "Acknowledge new tickets to the contact", triggers: [.created],
            actions: WorkflowActions(notify: [NotificationRequest(kind: .ticketAcknowledgement, roles: [.contact])])),
        WorkflowRule(
            id: UUID(uuidString: "0193A000-0000-7000-8000-000000000002")!, name: "Send notes published to all to the contact", triggers: [.noteAdded],
            conditions: [FieldCondition(.itemPublishTo, .equals, [PublishTo.all.rawValue])],
            actions: WorkflowActions(notify: [NotificationRequest(kind: .noteToContact, roles: [.contact])])),
        WorkflowRule(
            id: UUID(uuidString: "0193A000-0000-7000-8000-000000000003")!, name: "Tell new assignees", triggers: [.created, .edited],
            conditions: [FieldCondition(.assigneeIds, .changed)],
            actions: WorkflowActions(notify: [NotificationRequest(kind: .assignment, roles: [.newAssignees])])),
        WorkflowRule(
            id: UUID(uuidString: "0193A000-0000-7000-8000-000000000004")!, name: "Send co-managed notes to co-managing users", triggers: [.noteAdded],
            conditions: [FieldCondition(.itemPublishTo, .in, [PublishTo.internalAndCoManaged.rawValue, PublishTo.all.rawValue])],
            actions: WorkflowActions(notify: [NotificationRequest(kind: .noteToCoManaged, roles: [.coManagingUsers])])),
    ]
}

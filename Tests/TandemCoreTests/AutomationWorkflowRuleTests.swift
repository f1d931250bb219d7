import Foundation
import TandemCore
import Testing

/// Autotask's workflow rules: triggers, every condition, every action, broken rules, and the depth bound.
@Suite struct AutomationWorkflowRuleTests {
    let northwind = UUID(), contoso = UUID()
    let serviceDesk = UUID(), escalations = UUID()
    let mspTeam = UUID()
    let tara = UUID(), carl = UUID()
    let engine = RulesEngine()

    func ticket(priority: TicketPriority = .medium, status: TicketStatus = .new, assignees: [UUID] = [], queue: UUID? = nil) -> TicketFacts {
        TicketFacts(
            id: UUID(), number: 7, title: "Outlook keeps crashing", description: "Since the update", organizationId: northwind, queueId: queue,
            status: status, priority: priority, source: .email, assigneeIds: assignees, coManagedVisible: true)
    }

    func rule(_ name: String, _ triggers: Set<WorkflowTrigger>, _ conditions: [FieldCondition] = [], _ actions: WorkflowActions) -> WorkflowRule {
        WorkflowRule(name: name, triggers: triggers, conditions: conditions, actions: actions)
    }

    // MARK: Triggers

    @Test func eachTriggerFiresOnItsEventOnly() {
        let facts = ticket()
        let note = NotifiedItem(area: .notes, publishTo: .all, text: "hi")
        let events: [WorkflowTrigger: AutomationEvent] = [
            .created: .created(facts),
            .edited: .edited([.title]),
            .noteAdded: AutomationEvent(triggers: [.noteAdded], item: note),
            .timeEntryAdded: AutomationEvent(triggers: [.timeEntryAdded], item: NotifiedItem(area: .timeEntries, publishTo: .internal)),
            .statusChanged: AutomationEvent(triggers: [.statusChanged], changedFields: [.status]),
            .dueDateApproaching: AutomationEvent(triggers: [.dueDateApproaching]),
            .slaApproaching: AutomationEvent(triggers: [.slaApproaching]),
            .slaBreached: AutomationEvent(triggers: [.slaBreached]),
        ]
        for trigger in WorkflowTrigger.allCases {
            let r = rule(trigger.rawValue, [trigger], [], WorkflowActions(update: TicketFieldChanges(priority: .high)))
            for (other, event) in events {
                #expect(r.fires(on: event, facts) == (other == trigger), "\(trigger) on \(other)")
            }
        }
    }

    /// A created event that names its fields (the server's, whose own assignees come in their own
    /// `ticket.assigned` event) tells only the assignees the ticket rules added.
    @Test func aCreatedEventWithFieldsAddsOnlyTheAssigneesTicketRulesSet() {
        let facts = ticket(assignees: [carl])
        var created = AutomationEvent.created(facts)
        created.changedFields.remove(.assigneeIds)
        created.addedAssignees = []
        let assign = TicketRule(name: "To Tara", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(assigneeIds: [carl, tara]))
        let tell = rule(
            "Tell", [.created], [FieldCondition(.assigneeIds, .changed)],
            WorkflowActions(notify: [NotificationRequest(kind: .assignment, roles: [.newAssignees])]))
        let answer = engine.run(created, facts: facts, rules: AutomationRules(ticketRules: [assign], workflowRules: [tell]))
        #expect(answer.notifications.map(\.newAssignees) == [[tara]])
        // Without a ticket rule that assigns, nobody is told here.
        #expect(engine.run(created, facts: facts, rules: AutomationRules(workflowRules: [tell])).notifications.isEmpty)
    }

    @Test func aStatusChangeIsAlsoAnEdit() {
        let event = AutomationEvent.edited([.status])
        #expect(event.triggers == [.edited, .statusChanged])
        #expect(AutomationEvent.edited([.priority]).triggers == [.edited])
    }

    @Test func domainEventsBecomeAutomationEvents() {
        let facts = ticket()
        let updated = DomainEvent(.ticketUpdated, entityId: facts.id, ticket: facts.eventFacts, data: DomainEventData(fields: ["priority", "title"]))
        #expect(AutomationEvent(updated) == .edited([.priority, .title]))
        let status = DomainEvent(.ticketStatusChanged, entityId: facts.id, ticket: facts.eventFacts, data: DomainEventData(from: "new", to: "inProgress"))
        #expect(AutomationEvent(status)?.triggers == [.edited, .statusChanged])
        let assigned = DomainEvent(.ticketAssigned, entityId: facts.id, ticket: facts.eventFacts, data: DomainEventData(added: [tara], removed: []))
        #expect(AutomationEvent(assigned)?.addedAssignees == [tara])
        let note = DomainEvent(.noteAdded, entityId: UUID(), ticket: facts.eventFacts, publishTo: .internalAndCoManaged)
        #expect(AutomationEvent(note)?.item?.publishTo == .internalAndCoManaged)
        #expect(AutomationEvent(DomainEvent(.timeEntryAdded, entityId: UUID(), ticket: facts.eventFacts, publishTo: .all))?.triggers == [.timeEntryAdded])
        #expect(AutomationEvent(DomainEvent(.contactCreated, entityId: UUID())) == nil)
        // A created event fed from the feed has no fields yet: the engine fills them from the facts.
        let created = AutomationEvent(DomainEvent(.ticketCreated, entityId: facts.id, ticket: facts.eventFacts))!
        let r = rule("new high", [.created], [FieldCondition(.priority, .changed)], WorkflowActions(update: TicketFieldChanges(queueId: serviceDesk)))
        #expect(engine.run(created, facts: facts, rules: AutomationRules(workflowRules: [r])).facts.queueId == serviceDesk)
    }

    // MARK: Conditions

    @Test func everyOperatorOnItsFields() {
        let facts = ticket(priority: .high, assignees: [tara, carl], queue: serviceDesk)
        let edit = AutomationEvent.edited([.priority])
        let t = tara.uuidString, c = carl.uuidString.lowercased()
        let cases: [(FieldCondition, Bool)] = [
            (FieldCondition(.priority, .equals, ["high"]), true),
            (FieldCondition(.priority, .equals, ["low"]), false),
            (FieldCondition(.priority, .notEquals, ["low"]), true),
            (FieldCondition(.priority, .in, ["low", "high"]), true),
            (FieldCondition(.priority, .notIn, ["low", "high"]), false),
            (FieldCondition(.queueId, .equals, [serviceDesk.uuidString]), true),
            (FieldCondition(.queueId, .equals, [serviceDesk.uuidString.lowercased()]), true),
            (FieldCondition(.teamId, .equals, []), true),
            (FieldCondition(.siteId, .notEquals, []), false),
            (FieldCondition(.organizationId, .in, [contoso.uuidString]), false),
            (FieldCondition(.contactId, .in, [UUID().uuidString]), false),
            (FieldCondition(.status, .equals, ["new"]), true),
            (FieldCondition(.source, .in, ["email", "phone"]), true),
            (FieldCondition(.coManagedVisible, .equals, ["true"]), true),
            (FieldCondition(.assigneeIds, .equals, [c, t]), true),
            (FieldCondition(.assigneeIds, .equals, [t]), false),
            (FieldCondition(.assigneeIds, .in, [t]), true),
            (FieldCondition(.assigneeIds, .contains, [t, c]), true),
            (FieldCondition(.assigneeIds, .notContains, [UUID().uuidString]), true),
            (FieldCondition(.title, .contains, ["OUTLOOK"]), true),
            (FieldCondition(.title, .notContains, ["outlook"]), false),
            (FieldCondition(.description, .contains, ["update"]), true),
            (FieldCondition(.title, .equals, ["outlook keeps crashing"]), true),
            (FieldCondition(.priority, .changed), true),
            (FieldCondition(.queueId, .changed), false),
            (FieldCondition(.priority, .changedTo, ["high", "critical"]), true),
            (FieldCondition(.priority, .changedTo, ["low"]), false),
            (FieldCondition(.itemPublishTo, .equals, ["all"]), false),
            (FieldCondition(.itemPublishTo, .equals, []), true),
            (FieldCondition(.siteHours, .equals, []), true),
            (FieldCondition(.siteHours, .equals, ["afterHours"]), false),
        ]
        for (condition, expected) in cases {
            #expect(condition.holds(facts, edit) == expected, "\(condition.field) \(condition.op) \(condition.values)")
        }
        var afterHours = facts
        afterHours.siteHours = .afterHours
        #expect(FieldCondition(.siteHours, .equals, ["afterHours"]).holds(afterHours, edit))
        #expect(!FieldCondition(.siteHours, .equals, ["businessHours"]).holds(afterHours, edit))
        let note = AutomationEvent(triggers: [.noteAdded], item: NotifiedItem(area: .notes, publishTo: .internalAndCoManaged))
        #expect(FieldCondition(.itemPublishTo, .in, ["internalAndCoManaged", "all"]).holds(facts, note))
        #expect(FieldCondition(.itemPublishTo, .changed).holds(facts, note), "an item event changes its item")
    }

    @Test func allConditionsMustHold() {
        let r = rule(
            "high Northwind", [.edited], [FieldCondition(.priority, .equals, ["high"]), FieldCondition(.organizationId, .equals, [northwind.uuidString])],
            WorkflowActions(update: TicketFieldChanges(queueId: escalations)))
        #expect(r.fires(on: .edited([.priority]), ticket(priority: .high)))
        #expect(!r.fires(on: .edited([.priority]), ticket(priority: .low)))
    }

    @Test func conditionValidation() {
        let r = rule(
            "bad", [],
            [
                FieldCondition(.priority, .equals, ["urgent"]), FieldCondition(.queueId, .in, ["not-an-id"]), FieldCondition(.priority, .in),
                FieldCondition(.status, .contains, ["new"]), FieldCondition(.priority, .changed, ["high"]),
            ], WorkflowActions())
        #expect(
            throws: TandemError.validation([
                FieldError(
                    "triggers",
                    "choose at least one of created, edited, noteAdded, timeEntryAdded, statusChanged, dueDateApproaching, slaApproaching, slaBreached, handedOff"
                ),
                FieldError("conditions[0].values[0]", "'urgent' is not one of low, medium, high, critical"),
                FieldError("conditions[1].values[0]", "'not-an-id' is not a valid id"),
                FieldError("conditions[2].values", "'in' needs at least one value"),
                FieldError("conditions[3].op", "'contains' applies to title, description and assigneeIds; use in or equals for status"),
                FieldError("conditions[4].values", "'changed' takes no values"),
                FieldError("actions", "a workflow rule needs at least one action: update fields, notify or add a note"),
            ])
        ) { try r.validate() }
        let notify = rule("n", [.created], [], WorkflowActions(notify: [NotificationRequest(kind: .assignment, addresses: [ExplicitAddress(email: "nope")])]))
        #expect(throws: TandemError.validation([FieldError("actions.notify[0].addresses[0].email", "'nope' is not an email address")])) {
            try notify.validate()
        }
    }

    // MARK: Actions

    @Test func updateNotifyAndAddNote() {
        let request = NotificationRequest(
            kind: .statusChanged, roles: [.contact, .team], addresses: [ExplicitAddress(email: "noc@msp.example", audience: .resource)])
        let r = rule(
            "escalate critical", [.edited], [FieldCondition(.priority, .changedTo, ["critical"])],
            WorkflowActions(
                update: TicketFieldChanges(status: .escalated, queueId: escalations, teamId: mspTeam, assigneeIds: [tara]), notify: [request],
                addNote: NoteToAdd(text: "Escalated by rule", publishTo: .internalAndCoManaged)))
        let facts = ticket(priority: .critical)

        let answer = engine.run(.edited([.priority]), facts: facts, rules: AutomationRules(workflowRules: [r]))

        #expect(answer.changes == TicketFieldChanges(status: .escalated, queueId: escalations, teamId: mspTeam, assigneeIds: [tara]))
        #expect(answer.notes == [PlannedNote(note: NoteToAdd(text: "Escalated by rule", publishTo: .internalAndCoManaged), ruleId: r.id)])
        #expect(answer.notifications == [PlannedNotification(request: request, item: nil, newAssignees: [], ruleId: r.id)])
        #expect(answer.fired.map(\.name) == ["escalate critical"])
        #expect(answer.loopStopped == nil)
    }

    @Test func rulesFiringOnOneEventReadItAsItCameThenActInOrder() {
        let a = rule("a", [.edited], [FieldCondition(.priority, .equals, ["high"])], WorkflowActions(update: TicketFieldChanges(priority: .low)))
        let b = rule("b", [.edited], [FieldCondition(.priority, .equals, ["high"])], WorkflowActions(update: TicketFieldChanges(queueId: serviceDesk)))
        let answer = engine.run(.edited([.title]), facts: ticket(priority: .high), rules: AutomationRules(workflowRules: [a, b]))
        #expect(Array(answer.fired.map(\.name).prefix(2)) == ["a", "b"])
        #expect(answer.facts.priority == .low && answer.facts.queueId == serviceDesk)
    }

    @Test func workflowRulesSeeTheTicketAsTicketRulesRoutedIt() {
        let route = TicketRule(name: "route", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(queueId: escalations, assigneeIds: [tara]))
        let watch = rule(
            "escalations queue", [.created], [FieldCondition(.queueId, .equals, [escalations.uuidString])],
            WorkflowActions(addNote: NoteToAdd(text: "x", publishTo: .internal)))
        let answer = engine.run(
            .created(ticket()), facts: ticket(), rules: AutomationRules(ticketRules: [route], workflowRules: [watch] + WorkflowRule.defaults))
        #expect(answer.fired.map(\.name).contains("escalations queue"))
        let assignment = answer.notifications.first { $0.request.kind == .assignment }
        #expect(assignment?.newAssignees == [tara], "the assignee a ticket rule set is told")
    }

    // MARK: Chains and the depth bound

    @Test func ruleChangesTriggerOtherRulesButNotThemselves() {
        let first = rule(
            "critical escalates", [.edited], [FieldCondition(.priority, .changedTo, ["critical"])],
            WorkflowActions(update: TicketFieldChanges(status: .escalated)))
        let second = rule(
            "escalated goes to escalations", [.statusChanged], [FieldCondition(.status, .equals, ["escalated"])],
            WorkflowActions(update: TicketFieldChanges(queueId: escalations)))
        let noter = rule("note on every edit", [.edited], [], WorkflowActions(addNote: NoteToAdd(text: "edited", publishTo: .internal)))

        let answer = engine.run(.edited([.priority]), facts: ticket(priority: .critical), rules: AutomationRules(workflowRules: [first, second]))
        let selfish = engine.run(
            .edited([.priority]), facts: ticket(),
            rules: AutomationRules(workflowRules: [
                noter, rule("bump", [.edited], [FieldCondition(.priority, .equals, ["medium"])], WorkflowActions(update: TicketFieldChanges(priority: .high))),
            ]))

        #expect(answer.fired.map(\.name) == ["critical escalates", "escalated goes to escalations"])
        #expect(answer.fired.map(\.depth) == [0, 1])
        #expect(answer.facts.status == .escalated && answer.facts.queueId == escalations)
        // "note on every edit" fires on the person's edit and on "bump"'s edit, never on its own note.
        #expect(selfish.fired.map(\.name) == ["note on every edit", "bump", "note on every edit"])
        #expect(selfish.notes.count == 2)
    }

    @Test func aLoopStopsAtTheDepthBoundAndIsReported() {
        let up = rule("low to high", [.edited], [FieldCondition(.priority, .changedTo, ["low"])], WorkflowActions(update: TicketFieldChanges(priority: .high)))
        let down = rule(
            "high to low", [.edited], [FieldCondition(.priority, .changedTo, ["high"])], WorkflowActions(update: TicketFieldChanges(priority: .low)))

        let answer = RulesEngine(maxDepth: 5).run(.edited([.priority]), facts: ticket(priority: .low), rules: AutomationRules(workflowRules: [up, down]))

        #expect(answer.fired.count == 6, "the person's change and five levels of rule changes")
        #expect(answer.fired.map(\.depth) == [0, 1, 2, 3, 4, 5])
        let report = answer.loopStopped
        #expect(report?.depth == 6)
        #expect(report?.stoppedRules == ["low to high"])
        #expect(report?.message.contains("stopped after 5 levels") == true)
        #expect(answer.facts.priority == .low)
        #expect(answer.changes.isEmpty, "back where it started: nothing to write but the report")
    }

    @Test func rulesThatFanOutStopAtTheFiringBudget() {
        // Found by schemathesis: ten rules without conditions that each add a note on every note added. Each
        // note fires the other nine, so five levels are 10 × 9⁵ firings; the engine took minutes on one event.
        let noters = (0..<10).map { index in
            rule("noter \(index)", [.noteAdded, .edited], [], WorkflowActions(addNote: NoteToAdd(text: "again", publishTo: .all)))
        }
        let note = AutomationEvent(triggers: [.noteAdded], item: NotifiedItem(area: .notes, publishTo: .all, text: "hi"))

        let answer = RulesEngine(maxDepth: 5, maxFirings: 100).run(note, facts: ticket(), rules: AutomationRules(workflowRules: noters))

        #expect(answer.fired.count <= 100)
        #expect(answer.fired.count >= 91, "as many whole levels' events as fit: 10 at depth 0, then nine at a time")
        #expect(answer.notes.count == answer.fired.count)
        let report = answer.loopStopped
        #expect(report?.message.contains("workflow rules fired for one event") == true)
        #expect(report?.stoppedRules.count == 9)
        // The default budget bounds the work the same way.
        #expect(engine.run(note, facts: ticket(), rules: AutomationRules(workflowRules: noters)).fired.count <= engine.maxFirings)
    }

    @Test func aChainThatEndsIsNoLoop() {
        let steps = (0..<3).map { index in
            rule(
                "step \(index)", [.edited], [FieldCondition(.priority, .changedTo, [TicketPriority.allCases[index].rawValue])],
                WorkflowActions(update: TicketFieldChanges(priority: TicketPriority.allCases[index + 1])))
        }
        let answer = RulesEngine(maxDepth: 3).run(.edited([.priority]), facts: ticket(priority: .low), rules: AutomationRules(workflowRules: steps))
        #expect(answer.facts.priority == .critical)
        #expect(answer.loopStopped == nil)
        let bounded = RulesEngine(maxDepth: 1).run(.edited([.priority]), facts: ticket(priority: .low), rules: AutomationRules(workflowRules: steps))
        #expect(bounded.facts.priority == .high)
        #expect(bounded.loopStopped?.stoppedRules == ["step 2"])
    }

    // MARK: Broken rules

    @Test func aRuleNamingADeactivatedCoManagingUserIsBrokenUntilRepaired() {
        let coManager = UUID()
        let r = rule(
            "assign Northwind's IT", [.created], [FieldCondition(.queueId, .equals, [serviceDesk.uuidString])],
            WorkflowActions(update: TicketFieldChanges(assigneeIds: [coManager]), notify: [NotificationRequest(kind: .assignment, people: [tara])]))
        #expect(r.references.ids == [.queue: [serviceDesk], .person: [coManager, tara]])
        let everything: [ReferenceKind: Set<UUID>] = [.queue: [serviceDesk], .person: [tara, coManager]]

        let deactivated = r.rechecked(resolving: [.queue: [serviceDesk], .person: [tara]])
        let queueDeleted = r.rechecked(resolving: [.queue: [], .person: [tara, coManager]])
        let stillFine = r.rechecked(resolving: everything)

        #expect(
            deactivated.broken
                == "it refers to a resource or active co-managing user that no longer exists or is inactive (\(coManager.uuidString.lowercased()))")
        #expect(!deactivated.fires(on: .created(ticket(queue: serviceDesk)), ticket(queue: serviceDesk)), "a broken rule never fires")
        #expect(queueDeleted.broken?.contains("a queue") == true)
        #expect(stillFine.broken == nil)
        // Repair: the administrator picks another assignee; the re-check clears the mark.
        var repaired = deactivated
        repaired.actions.update = TicketFieldChanges(assigneeIds: [tara])
        repaired = repaired.rechecked(resolving: [.queue: [serviceDesk], .person: [tara]])
        #expect(repaired.broken == nil)
        #expect(repaired.fires(on: .created(ticket(queue: serviceDesk)), ticket(queue: serviceDesk)))
    }

    @Test func aRuleIsPlainJSON() throws {
        let r = rule(
            "r", [.noteAdded], [FieldCondition(.itemPublishTo, .equals, ["all"])],
            WorkflowActions(notify: [NotificationRequest(kind: .noteToContact, roles: [.contact])], addNote: NoteToAdd(text: "t", publishTo: .all)))
        let data = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(WorkflowRule.self, from: data) == r)
        #expect(String(decoding: data, as: UTF8.self).contains("\"op\":\"equals\""))
    }

    // MARK: The defaults

    @Test func theDefaultRulesNotifyTheContactAssigneesAndCoManagingUsers() {
        let facts = ticket(assignees: [tara])
        let rules = AutomationRules(workflowRules: WorkflowRule.defaults)
        for rule in WorkflowRule.defaults { #expect(throws: Never.self) { try rule.validate() } }

        let created = engine.run(.created(facts), facts: facts, rules: rules)
        #expect(Set(created.notifications.map(\.request.kind)) == [.ticketAcknowledgement, .assignment])

        func noteKinds(_ publishTo: PublishTo) -> Set<NotificationKind> {
            let event = AutomationEvent(triggers: [.noteAdded], item: NotifiedItem(area: .notes, publishTo: publishTo, text: "n"))
            return Set(engine.run(event, facts: facts, rules: rules).notifications.map(\.request.kind))
        }
        #expect(noteKinds(.all) == [.noteToContact, .noteToCoManaged])
        #expect(noteKinds(.internalAndCoManaged) == [.noteToCoManaged])
        #expect(noteKinds(.internal).isEmpty)

        let reassigned = engine.run(.edited([.assigneeIds], addedAssignees: [carl]), facts: facts, rules: rules)
        #expect(reassigned.notifications.map(\.newAssignees) == [[carl]])
    }
}

import Foundation
import TandemCore
import Testing

/// HaloPSA's ticket rules: every criterion, every outcome, their order and "stop matching".
@Suite struct AutomationTicketRuleTests {
    let northwind = UUID(), contoso = UUID()
    let headOffice = UUID(), warehouse = UUID()
    let alice = UUID(), bob = UUID()
    let serviceDesk = UUID(), escalations = UUID()
    let coManagedTeam = UUID(), mspTeam = UUID()
    let tara = UUID()
    let engine = RulesEngine()

    func ticket(
        _ organization: UUID? = nil, site: UUID? = nil, contact: UUID? = nil, source: SourceChannel = .email, priority: TicketPriority = .medium,
        queue: UUID? = nil, title: String = "Printer jammed", description: String = ""
    ) -> TicketFacts {
        TicketFacts(
            id: UUID(), number: 1042, title: title, description: description, organizationId: organization ?? northwind, siteId: site, contactId: contact,
            queueId: queue, priority: priority, source: source)
    }

    func run(_ facts: TicketFacts, _ rules: [TicketRule]) -> AutomationAnswer {
        engine.run(.created(facts), facts: facts, rules: AutomationRules(ticketRules: rules))
    }

    @Test func haloExampleAssignsTheCoManagingTeamsCustomersToItsTeam() {
        // "Customer includes {the customers your 3rd party agents support}; Team equals {the new team}".
        let rule = TicketRule(
            name: "Northwind's IT works Northwind's tickets", criteria: TicketRuleCriteria(organizationIds: [northwind]),
            outcome: TicketFieldChanges(teamId: coManagedTeam, coManagedVisible: true))

        let supported = run(ticket(northwind), [rule])
        let other = run(ticket(contoso), [rule])

        #expect(supported.changes == TicketFieldChanges(teamId: coManagedTeam, coManagedVisible: true))
        #expect(supported.facts.teamId == coManagedTeam)
        #expect(supported.fired.map(\.name) == ["Northwind's IT works Northwind's tickets"])
        #expect(other.changes.isEmpty && other.fired.isEmpty)
    }

    @Test func everyCriterionMatchesItsValuesAndOnlyThose() {
        let cases: [(TicketRuleCriteria, match: TicketFacts, miss: TicketFacts, String)] = [
            (TicketRuleCriteria(organizationIds: [northwind, contoso]), ticket(contoso), ticket(UUID()), "organization in"),
            (TicketRuleCriteria(siteIds: [headOffice]), ticket(site: headOffice), ticket(site: warehouse), "site"),
            (TicketRuleCriteria(siteIds: [headOffice]), ticket(site: headOffice), ticket(site: nil), "no site is not a listed site"),
            (TicketRuleCriteria(contactIds: [alice]), ticket(contact: alice), ticket(contact: bob), "contact"),
            (TicketRuleCriteria(sources: [.phone, .portal]), ticket(source: .phone), ticket(source: .email), "source channel"),
            (TicketRuleCriteria(priorities: [.critical]), ticket(priority: .critical), ticket(priority: .high), "priority"),
            (TicketRuleCriteria(queueIds: [serviceDesk]), ticket(queue: serviceDesk), ticket(queue: escalations), "queue"),
            (TicketRuleCriteria(textContains: ["VPN"]), ticket(title: "vpn is down"), ticket(title: "Printer"), "title contains, any case"),
            (
                TicketRuleCriteria(textContains: ["outlook", "vpn"]), ticket(title: "Help", description: "My OUTLOOK crashes"),
                ticket(title: "Help", description: "Word crashes"), "description contains one of several"
            ),
        ]
        for (criteria, match, miss, label) in cases {
            let rule = TicketRule(name: label, criteria: criteria, outcome: TicketFieldChanges(priority: .low))
            #expect(rule.matches(match), "\(label) should match")
            #expect(!rule.matches(miss), "\(label) should not match")
        }
    }

    @Test func criteriaAreAllRequiredAndNoneMeansEveryTicket() {
        let both = TicketRule(
            name: "both", criteria: TicketRuleCriteria(organizationIds: [northwind], priorities: [.high]), outcome: TicketFieldChanges(priority: .critical))
        #expect(both.matches(ticket(northwind, priority: .high)))
        #expect(!both.matches(ticket(northwind, priority: .low)))
        #expect(!both.matches(ticket(contoso, priority: .high)))
        let catchAll = TicketRule(name: "default queue", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(queueId: serviceDesk))
        #expect(catchAll.matches(ticket(contoso)))
    }

    @Test func everyOutcomeSetsItsField() {
        let outcomes: [(TicketFieldChanges, (TicketFacts) -> Bool, TicketField)] = [
            (TicketFieldChanges(teamId: mspTeam), { $0.teamId == mspTeam }, .teamId),
            (TicketFieldChanges(queueId: escalations), { $0.queueId == escalations }, .queueId),
            (TicketFieldChanges(priority: .critical), { $0.priority == .critical }, .priority),
            (TicketFieldChanges(assigneeIds: [tara]), { $0.assigneeIds == [tara] }, .assigneeIds),
            (TicketFieldChanges(coManagedVisible: true), { $0.coManagedVisible }, .coManagedVisible),
            (TicketFieldChanges(status: .inProgress), { $0.status == .inProgress }, .status),
        ]
        for (outcome, check, field) in outcomes {
            let answer = run(ticket(), [TicketRule(name: field.rawValue, criteria: TicketRuleCriteria(), outcome: outcome)])
            #expect(check(answer.facts), "\(field)")
            #expect(answer.changes == outcome, "\(field)")
        }
    }

    @Test func rulesApplyInOrderEachSeeingTheEarlierOnesWork() {
        let first = TicketRule(name: "VPN is urgent", criteria: TicketRuleCriteria(textContains: ["vpn"]), outcome: TicketFieldChanges(priority: .critical))
        let second = TicketRule(
            name: "critical to escalations", criteria: TicketRuleCriteria(priorities: [.critical]), outcome: TicketFieldChanges(queueId: escalations))
        let third = TicketRule(name: "later rule wins", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(priority: .high))

        let answer = run(ticket(title: "VPN down"), [first, second, third])

        #expect(answer.fired.map(\.name) == ["VPN is urgent", "critical to escalations", "later rule wins"])
        #expect(answer.facts.queueId == escalations)
        #expect(answer.facts.priority == .high)
        let reversed = run(ticket(title: "VPN down"), [second, first])
        #expect(reversed.facts.queueId == nil, "the queue rule ran before the priority was critical")
    }

    @Test func stopMatchingEndsTheList() {
        let stopper = TicketRule(
            name: "Northwind to its team", criteria: TicketRuleCriteria(organizationIds: [northwind]), outcome: TicketFieldChanges(teamId: coManagedTeam),
            stopMatching: true)
        let fallback = TicketRule(name: "everyone to the MSP team", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(teamId: mspTeam))

        let northwindTicket = run(ticket(northwind), [stopper, fallback])
        let contosoTicket = run(ticket(contoso), [stopper, fallback])

        #expect(northwindTicket.facts.teamId == coManagedTeam)
        #expect(northwindTicket.fired.map(\.name) == ["Northwind to its team"])
        #expect(contosoTicket.facts.teamId == mspTeam, "a rule that does not match does not stop the list")
    }

    @Test func inactiveAndBrokenRulesNeverFire() {
        let inactive = TicketRule(name: "off", active: false, criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(priority: .low))
        let broken = TicketRule(name: "broken", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(priority: .low), broken: "queue deleted")
        #expect(run(ticket(), [inactive, broken]).fired.isEmpty)
    }

    @Test func ticketRulesRunOnNewTicketsOnly() {
        let rule = TicketRule(name: "any", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(priority: .low))
        let facts = ticket()
        let answer = engine.run(.edited([.title]), facts: facts, rules: AutomationRules(ticketRules: [rule]))
        #expect(answer.fired.isEmpty)
    }

    @Test func aStatusTheStateMachineRefusesIsSkippedAndReported() {
        let rule = TicketRule(name: "close at once", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(status: .closed, priority: .low))
        let answer = run(ticket(), [rule])
        #expect(answer.facts.status == .new)
        #expect(answer.facts.priority == .low, "the other outcomes still apply")
        #expect(answer.skipped == ["ticket rule 'close at once': " + TicketStatus.new.refusal(to: .closed)])
    }

    @Test func validationNamesEachProblem() {
        let bad = TicketRule(name: " ", criteria: TicketRuleCriteria(organizationIds: [], textContains: [""]), outcome: TicketFieldChanges())
        #expect(
            throws: TandemError.validation([
                FieldError("name", "must not be empty"),
                FieldError("criteria.organizationIds", "must list at least one value, or be left out to match any"),
                FieldError("criteria.textContains[0]", "must not be empty"),
                FieldError("outcome", "a ticket rule must set at least one field (team, queue, priority, assignees, co-managed visibility or status)"),
            ])
        ) { try bad.validate() }
        #expect(throws: Never.self) {
            try TicketRule(name: "ok", criteria: TicketRuleCriteria(), outcome: TicketFieldChanges(queueId: serviceDesk)).validate()
        }
    }

    @Test func aRuleIsPlainJSONAndComesBackEqual() throws {
        let rule = TicketRule(
            name: "Northwind", criteria: TicketRuleCriteria(organizationIds: [northwind], sources: [.email], textContains: ["vpn"]),
            outcome: TicketFieldChanges(priority: .high, teamId: coManagedTeam), stopMatching: true)
        let data = try JSONEncoder().encode(rule)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"priority\":\"high\""))
        #expect(!json.contains("queueId"), "fields left alone are left out")
        #expect(try JSONDecoder().decode(TicketRule.self, from: data) == rule)
    }

    @Test func referencesAndBrokenReason() {
        let rule = TicketRule(
            name: "r", criteria: TicketRuleCriteria(organizationIds: [northwind], queueIds: [serviceDesk]),
            outcome: TicketFieldChanges(teamId: coManagedTeam, assigneeIds: [tara]))
        #expect(rule.references.ids == [.organization: [northwind], .queue: [serviceDesk], .team: [coManagedTeam], .person: [tara]])
        let all: [ReferenceKind: Set<UUID>] = [.organization: [northwind], .queue: [serviceDesk], .team: [coManagedTeam], .person: [tara]]
        #expect(rule.references.brokenReason(resolving: all) == nil)
        var gone = all
        gone[.queue] = []
        #expect(
            rule.references.brokenReason(resolving: gone)
                == "it refers to a queue that no longer exists or is inactive (\(serviceDesk.uuidString.lowercased()))")
    }
}

import Foundation

/// A HaloPSA ticket rule: evaluated in order on new tickets, before anything else sees them. Stored as JSON;
/// the list's order is the evaluation order.
public struct TicketRule: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var name: String
    public var active: Bool
    public var criteria: TicketRuleCriteria
    public var outcome: TicketFieldChanges
    /// "Stop matching other rules when matched".
    public var stopMatching: Bool
    /// Set when a name in it no longer resolves (`AutomationReferences.brokenReason`); a broken rule never fires.
    public var broken: String?

    public init(
        id: UUID = UUID(), name: String, active: Bool = true, criteria: TicketRuleCriteria, outcome: TicketFieldChanges, stopMatching: Bool = false,
        broken: String? = nil
    ) {
        self.id = id
        self.name = name
        self.active = active
        self.criteria = criteria
        self.outcome = outcome
        self.stopMatching = stopMatching
        self.broken = broken
    }

    public var references: AutomationReferences {
        var references = criteria.references
        references.merge(outcome.references)
        return references
    }

    /// Whether the rule applies to `facts`: active, not broken, every given criterion met.
    public func matches(_ facts: TicketFacts) -> Bool {
        active && broken == nil && criteria.matches(facts)
    }

    /// Every problem of a rule about to be saved.
    public func validate() throws(TandemError) {
        var validator = FieldValidator()
        _ = validator.text(name, "name")
        criteria.validate(&validator)
        if outcome.isEmpty {
            validator.fail("outcome", "a ticket rule must set at least one field (team, queue, priority, assignees, co-managed visibility or status)")
        }
        try validator.check()
    }
}

/// A ticket rule's criteria. A nil criterion is not checked; a given one must hold, and holds when the
/// ticket's value is one of those listed (so criteria are AND-ed, the values of one criterion OR-ed).
public struct TicketRuleCriteria: Codable, Sendable, Equatable {
    /// HaloPSA's "Customer includes".
    public var organizationIds: Set<UUID>?
    public var siteIds: Set<UUID>?
    public var contactIds: Set<UUID>?
    public var sources: Set<SourceChannel>?
    public var priorities: Set<TicketPriority>?
    public var queueIds: Set<UUID>?
    /// The title or the description contains one of these, ignoring case.
    public var textContains: [String]?

    public init(
        organizationIds: Set<UUID>? = nil, siteIds: Set<UUID>? = nil, contactIds: Set<UUID>? = nil, sources: Set<SourceChannel>? = nil,
        priorities: Set<TicketPriority>? = nil, queueIds: Set<UUID>? = nil, textContains: [String]? = nil
    ) {
        self.organizationIds = organizationIds
        self.siteIds = siteIds
        self.contactIds = contactIds
        self.sources = sources
        self.priorities = priorities
        self.queueIds = queueIds
        self.textContains = textContains
    }

    public func matches(_ facts: TicketFacts) -> Bool {
        func holds<T: Hashable>(_ allowed: Set<T>?, _ value: T?) -> Bool {
            guard let allowed else { return true }
            return value.map(allowed.contains) ?? false
        }
        let text = textContains.map { needles in
            needles.contains { facts.title.localizedCaseInsensitiveContains($0) || facts.description.localizedCaseInsensitiveContains($0) }
        }
        return holds(organizationIds, facts.organizationId) && holds(siteIds, facts.siteId) && holds(contactIds, facts.contactId)
            && holds(sources, facts.source) && holds(priorities, facts.priority) && holds(queueIds, facts.queueId) && (text ?? true)
    }

    public var references: AutomationReferences {
        var references = AutomationReferences()
        references.add(.organization, organizationIds)
        references.add(.site, siteIds)
        references.add(.contact, contactIds)
        references.add(.queue, queueIds)
        return references
    }

    func validate(_ validator: inout FieldValidator) {
        // An empty list would match nothing, which is never what was meant: leave the criterion out instead.
        let lists: [(String, Bool)] = [
            ("organizationIds", organizationIds?.isEmpty == true), ("siteIds", siteIds?.isEmpty == true), ("contactIds", contactIds?.isEmpty == true),
            ("sources", sources?.isEmpty == true), ("priorities", priorities?.isEmpty == true), ("queueIds", queueIds?.isEmpty == true),
            ("textContains", textContains?.isEmpty == true),
        ]
        for (field, empty) in lists where empty {
            validator.fail("criteria.\(field)", "must list at least one value, or be left out to match any")
        }
        for (index, needle) in (textContains ?? []).enumerated() {
            _ = validator.text(needle, "criteria.textContains[\(index)]")
        }
    }
}

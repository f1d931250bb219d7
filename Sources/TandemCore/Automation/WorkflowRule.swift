import Foundation

/// An Autotask workflow rule: triggered by what happens to a ticket, checked against field conditions,
/// then acting (update fields, notify, add a note). Stored as JSON; the list's order is the order actions apply.
public struct WorkflowRule: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var name: String
    public var active: Bool
    /// Fires on any of these.
    public var triggers: Set<WorkflowTrigger>
    /// All must hold.
    public var conditions: [FieldCondition]
    public var actions: WorkflowActions
    /// Set when a name in it no longer resolves (`AutomationReferences.brokenReason`); a broken rule never fires.
    public var broken: String?

    public init(
        id: UUID = UUID(), name: String, active: Bool = true, triggers: Set<WorkflowTrigger>, conditions: [FieldCondition] = [],
        actions: WorkflowActions, broken: String? = nil
    ) {
        self.id = id
        self.name = name
        self.active = active
        self.triggers = triggers
        self.conditions = conditions
        self.actions = actions
        self.broken = broken
    }

    /// Whether the rule fires on `event` for a ticket now holding `facts`. A rule does not fire on the change
    /// it made itself (Autotask does not re-trigger a rule by its own update).
    public func fires(on event: AutomationEvent, _ facts: TicketFacts) -> Bool {
        active && broken == nil && event.causedByRule != id && !triggers.isDisjoint(with: event.triggers)
            && conditions.allSatisfy { $0.holds(facts, event) }
    }

    public var references: AutomationReferences {
        var references = AutomationReferences()
        for condition in conditions { references.merge(condition.references) }
        references.merge(actions.references)
        return references
    }

    /// The rule with its broken mark set or cleared by the references that still resolve: the check after a
    /// deactivation, an erasure or a deletion, and the repair after an edit.
    public func rechecked(resolving: [ReferenceKind: Set<UUID>]) -> WorkflowRule {
        var rule = self
        rule.broken = references.brokenReason(resolving: resolving)
        return rule
    }

    public func validate() throws(TandemError) {
        var validator = FieldValidator()
        _ = validator.text(name, "name")
        if triggers.isEmpty { validator.fail("triggers", "choose at least one of \(WorkflowTrigger.allCases.map(\.rawValue).joined(separator: ", "))") }
        for (index, condition) in conditions.enumerated() { condition.validate("conditions[\(index)]", &validator) }
        actions.validate(&validator)
        try validator.check()
    }
}

/// A workflow rule's actions, each kind optional; an empty set of actions is refused when saved.
public struct WorkflowActions: Codable, Sendable, Equatable {
    public var update: TicketFieldChanges?
    public var notify: [NotificationRequest]
    public var addNote: NoteToAdd?

    public init(update: TicketFieldChanges? = nil, notify: [NotificationRequest] = [], addNote: NoteToAdd? = nil) {
        self.update = update
        self.notify = notify
        self.addNote = addNote
    }

    public var references: AutomationReferences {
        var references = update?.references ?? AutomationReferences()
        for request in notify { references.add(.person, Set(request.people)) }
        return references
    }

    func validate(_ validator: inout FieldValidator) {
        if (update?.isEmpty ?? true) && notify.isEmpty && addNote == nil {
            validator.fail("actions", "a workflow rule needs at least one action: update fields, notify or add a note")
        }
        for (index, request) in notify.enumerated() { request.validate("actions.notify[\(index)]", &validator) }
        addNote?.validate("actions.addNote", &validator)
    }
}

/// The fields a condition can test: the ticket's fields, and the publish-to of the event's item.
public enum ConditionField: String, Codable, Sendable, CaseIterable {
    case organizationId, siteId, contactId, queueId, teamId, status, priority, source, assigneeIds, coManagedVisible, title, description
    /// Which side holds the ticket: `msp` or `clientIT`.
    case responsibleSide
    /// The publish-to of the note or time entry the event is about (no item: no value).
    case itemPublishTo
    /// `businessHours` or `afterHours` at the ticket's site now (its internal location's calendar); no
    /// value when the site has no internal location.
    case siteHours

    var ticketField: TicketField? { TicketField(rawValue: rawValue) }

    var isText: Bool { self == .title || self == .description }
    var isId: Bool { [.organizationId, .siteId, .contactId, .queueId, .teamId, .assigneeIds].contains(self) }

    /// The allowed values of an enumerated field, for validation.
    var allowedValues: [String]? {
        switch self {
        case .status: TicketStatus.allCases.map(\.rawValue)
        case .priority: TicketPriority.allCases.map(\.rawValue)
        case .source: SourceChannel.allCases.map(\.rawValue)
        case .coManagedVisible: ["true", "false"]
        case .responsibleSide: ResponsibleSide.allCases.map(\.rawValue)
        case .itemPublishTo: PublishTo.allCases.map(\.rawValue)
        case .siteHours: [SiteNotificationRule.Hours.businessHours.rawValue, SiteNotificationRule.Hours.afterHours.rawValue]
        default: nil
        }
    }

    /// The field's value(s) as text: ids lowercased, enums by raw value, none when empty.
    func values(_ facts: TicketFacts, _ event: AutomationEvent) -> [String] {
        func id(_ value: UUID?) -> [String] { value.map { [$0.uuidString.lowercased()] } ?? [] }
        switch self {
        case .organizationId: return id(facts.organizationId)
        case .siteId: return id(facts.siteId)
        case .contactId: return id(facts.contactId)
        case .queueId: return id(facts.queueId)
        case .teamId: return id(facts.teamId)
        case .status: return [facts.status.rawValue]
        case .priority: return [facts.priority.rawValue]
        case .source: return [facts.source.rawValue]
        case .assigneeIds: return facts.assigneeIds.map { $0.uuidString.lowercased() }
        case .coManagedVisible: return [String(facts.coManagedVisible)]
        case .responsibleSide: return [facts.responsibleSide.rawValue]
        case .title: return [facts.title]
        case .description: return facts.description.isEmpty ? [] : [facts.description]
        case .itemPublishTo: return event.item.map { [$0.publishTo.rawValue] } ?? []
        case .siteHours: return facts.siteHours.map { [$0.rawValue] } ?? []
        }
    }
}

public enum ConditionOperator: String, Codable, Sendable, CaseIterable {
    /// The field's value (the set of assignees) is exactly the value(s) given; no values: the field is empty.
    case equals, notEquals
    /// The field's value, or one of the assignees, is among the values.
    case `in`, notIn
    /// Text fields: contains one of the values, ignoring case. Assignees: includes every value given.
    case contains, notContains
    /// The event changed the field (a new ticket changed every field it fills).
    case changed
    /// The event changed the field and its new value is among the values.
    case changedTo
}

/// One condition of a workflow rule. Values are text so a rule is plain JSON: ids, enum raw values, `true`/`false`.
public struct FieldCondition: Codable, Sendable, Equatable {
    public var field: ConditionField
    public var op: ConditionOperator
    public var values: [String]

    public init(_ field: ConditionField, _ op: ConditionOperator, _ values: [String] = []) {
        self.field = field
        self.op = op
        self.values = values
    }

    public func holds(_ facts: TicketFacts, _ event: AutomationEvent) -> Bool {
        let actual = field.values(facts, event)
        // Ids compare without case (`UUID.uuidString` is upper case, JSON often lower); enum values exactly.
        let wanted = field.isId ? values.map { $0.lowercased() } : values
        switch op {
        case .equals: return equal(actual, wanted)
        case .notEquals: return !equal(actual, wanted)
        case .in: return actual.contains(where: wanted.contains)
        case .notIn: return !actual.contains(where: wanted.contains)
        case .contains: return contains(actual, wanted)
        case .notContains: return !contains(actual, wanted)
        case .changed: return changed(event)
        case .changedTo: return changed(event) && actual.contains(where: wanted.contains)
        }
    }

    private func equal(_ actual: [String], _ wanted: [String]) -> Bool {
        field.isText
            ? actual.count == wanted.count && zip(actual, wanted).allSatisfy { $0.caseInsensitiveCompare($1) == .orderedSame } : Set(actual) == Set(wanted)
    }

    private func contains(_ actual: [String], _ wanted: [String]) -> Bool {
        guard field.isText else { return Set(wanted).isSubset(of: Set(actual)) }
        return actual.contains { text in wanted.contains { text.localizedCaseInsensitiveContains($0) } }
    }

    private func changed(_ event: AutomationEvent) -> Bool {
        guard let ticketField = field.ticketField else { return event.item != nil }
        return event.changedFields.contains(ticketField)
    }

    var references: AutomationReferences {
        var references = AutomationReferences()
        let kind: ReferenceKind? =
            switch field {
            case .organizationId: .organization
            case .siteId: .site
            case .contactId: .contact
            case .queueId: .queue
            case .teamId: .team
            case .assigneeIds: .person
            default: nil
            }
        if let kind { references.add(kind, Set(values.compactMap(UUID.init(uuidString:)))) }
        return references
    }

    func validate(_ path: String, _ validator: inout FieldValidator) {
        let needsValues: Set<ConditionOperator> = [.in, .notIn, .contains, .notContains, .changedTo]
        if needsValues.contains(op), values.isEmpty { validator.fail("\(path).values", "'\(op.rawValue)' needs at least one value") }
        if op == .changed, !values.isEmpty { validator.fail("\(path).values", "'changed' takes no values") }
        if op == .contains || op == .notContains, !field.isText, field != .assigneeIds {
            validator.fail("\(path).op", "'\(op.rawValue)' applies to title, description and assigneeIds; use in or equals for \(field.rawValue)")
        }
        for (index, value) in values.enumerated() {
            if field.isId, UUID(uuidString: value) == nil {
                validator.fail("\(path).values[\(index)]", "'\(value)' is not a valid id")
            } else if let allowed = field.allowedValues, !allowed.contains(value) {
                validator.fail("\(path).values[\(index)]", "'\(value)' is not one of \(allowed.joined(separator: ", "))")
            } else if field.isText {
                _ = validator.text(value, "\(path).values[\(index)]")
            }
        }
    }
}

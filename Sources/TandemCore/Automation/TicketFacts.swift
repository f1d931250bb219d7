import Foundation

/// A ticket as the rules engine reads and changes it: the columns of `tickets` plus its assignees, in core
/// types. The server fills it from the row (or the `TicketDTO`) it already has.
public struct TicketFacts: Codable, Sendable, Equatable {
    public var id: UUID
    public var number: Int
    public var title: String
    public var description: String
    public var organizationId: UUID
    public var siteId: UUID?
    public var contactId: UUID?
    public var queueId: UUID?
    public var teamId: UUID?
    public var status: TicketStatus
    public var priority: TicketPriority
    public var source: SourceChannel
    public var assigneeIds: [UUID]
    public var coManagedVisible: Bool
    public var dueAt: Date?
    /// Which side holds the ticket (a handoff changes it).
    public var responsibleSide: ResponsibleSide
    /// Business hours or after hours at the ticket's site when the facts were read (nil: the site has no
    /// internal location, or the ticket no site).
    public var siteHours: SiteNotificationRule.Hours?

    public init(
        id: UUID, number: Int = 0, title: String, description: String = "", organizationId: UUID, siteId: UUID? = nil, contactId: UUID? = nil,
        queueId: UUID? = nil, teamId: UUID? = nil, status: TicketStatus = .new, priority: TicketPriority = .medium, source: SourceChannel = .portal,
        assigneeIds: [UUID] = [], coManagedVisible: Bool = false, dueAt: Date? = nil, responsibleSide: ResponsibleSide = .msp,
        siteHours: SiteNotificationRule.Hours? = nil
    ) {
        self.id = id
        self.number = number
        self.title = title
        self.description = description
        self.organizationId = organizationId
        self.siteId = siteId
        self.contactId = contactId
        self.queueId = queueId
        self.teamId = teamId
        self.status = status
        self.priority = priority
        self.source = source
        self.assigneeIds = assigneeIds
        self.coManagedVisible = coManagedVisible
        self.dueAt = dueAt
        self.responsibleSide = responsibleSide
        self.siteHours = siteHours
    }

    /// The facts the access policy evaluates scopes on (as an item of `area`, with `publishTo`, when given).
    public func scopeFacts(area: Area = .tickets, publishTo: PublishTo? = nil) -> ScopeFacts {
        ScopeFacts(
            values: [.id: id, .organization: organizationId, .site: siteId, .queue: queueId, .team: teamId, .contact: contactId],
            assigneeIds: Set(assigneeIds), coManagedVisible: coManagedVisible, publishTo: publishTo, area: area)
    }

    /// The facts a domain event of this ticket keeps.
    public var eventFacts: TicketEventFacts {
        TicketEventFacts(
            id: id, organizationId: organizationId, siteId: siteId, queueId: queueId, teamId: teamId, contactId: contactId, coManagedVisible: coManagedVisible)
    }

    /// The fields that hold a value: what a new ticket "changed" for `changed` conditions.
    public var filledFields: Set<TicketField> {
        var fields: Set<TicketField> = [.title, .organizationId, .status, .priority, .source, .coManagedVisible]
        if !description.isEmpty { fields.insert(.description) }
        if siteId != nil { fields.insert(.siteId) }
        if contactId != nil { fields.insert(.contactId) }
        if queueId != nil { fields.insert(.queueId) }
        if teamId != nil { fields.insert(.teamId) }
        if !assigneeIds.isEmpty { fields.insert(.assigneeIds) }
        if dueAt != nil { fields.insert(.dueAt) }
        return fields
    }
}

/// Changes to a ticket's routing fields: a ticket rule's outcome, a workflow rule's "update fields", a
/// ticket action's changes, and the engine's net answer. A nil field is left alone; rules set values, they
/// never clear one. Stored as JSON with only the fields set (`{"teamId": "…", "priority": "high"}`).
public struct TicketFieldChanges: Codable, Sendable, Equatable {
    public var status: TicketStatus?
    public var priority: TicketPriority?
    public var queueId: UUID?
    public var teamId: UUID?
    /// Replaces the assignees (HaloPSA's "assign to agent").
    public var assigneeIds: [UUID]?
    public var coManagedVisible: Bool?

    public init(
        status: TicketStatus? = nil, priority: TicketPriority? = nil, queueId: UUID? = nil, teamId: UUID? = nil, assigneeIds: [UUID]? = nil,
        coManagedVisible: Bool? = nil
    ) {
        self.status = status
        self.priority = priority
        self.queueId = queueId
        self.teamId = teamId
        self.assigneeIds = assigneeIds
        self.coManagedVisible = coManagedVisible
    }

    public var isEmpty: Bool { self == TicketFieldChanges() }

    /// The people, queues and teams these changes name, for the broken-rule check.
    public var references: AutomationReferences {
        var references = AutomationReferences()
        references.add(.queue, queueId)
        references.add(.team, teamId)
        for id in assigneeIds ?? [] { references.add(.person, id) }
        return references
    }

    /// `facts` with these changes, the fields that really changed, and the refusal of a status the state
    /// machine does not allow from the current one (the rest still applies).
    public func applied(to facts: TicketFacts) -> (facts: TicketFacts, changed: [TicketField], refusal: String?) {
        var after = facts
        var refusal: String?
        if let status, status != facts.status {
            if facts.status.allowedNext.contains(status) { after.status = status } else { refusal = facts.status.refusal(to: status) }
        }
        if let priority { after.priority = priority }
        if let queueId { after.queueId = queueId }
        if let teamId { after.teamId = teamId }
        if let assigneeIds { after.assigneeIds = assigneeIds.uniqued() }
        if let coManagedVisible { after.coManagedVisible = coManagedVisible }
        return (after, TicketFieldChanges.changedFields(facts, after), refusal)
    }

    /// The changes that turn `before` into `after` (only the fields rules touch).
    public static func difference(_ before: TicketFacts, _ after: TicketFacts) -> TicketFieldChanges {
        TicketFieldChanges(
            status: before.status == after.status ? nil : after.status,
            priority: before.priority == after.priority ? nil : after.priority,
            queueId: before.queueId == after.queueId ? nil : after.queueId,
            teamId: before.teamId == after.teamId ? nil : after.teamId,
            assigneeIds: Set(before.assigneeIds) == Set(after.assigneeIds) ? nil : after.assigneeIds,
            coManagedVisible: before.coManagedVisible == after.coManagedVisible ? nil : after.coManagedVisible)
    }

    static func changedFields(_ before: TicketFacts, _ after: TicketFacts) -> [TicketField] {
        var fields: [TicketField] = []
        if before.status != after.status { fields.append(.status) }
        if before.priority != after.priority { fields.append(.priority) }
        if before.queueId != after.queueId { fields.append(.queueId) }
        if before.teamId != after.teamId { fields.append(.teamId) }
        if Set(before.assigneeIds) != Set(after.assigneeIds) { fields.append(.assigneeIds) }
        if before.coManagedVisible != after.coManagedVisible { fields.append(.coManagedVisible) }
        return fields
    }
}

/// A note a rule or a ticket action adds. The server writes it as the automation (not as a person), with
/// its publish-to as given: the rule's author chose the audience.
public struct NoteToAdd: Codable, Sendable, Equatable {
    public var text: String
    public var publishTo: PublishTo

    public init(text: String, publishTo: PublishTo) {
        self.text = text
        self.publishTo = publishTo
    }

    func validate(_ field: String, _ validator: inout FieldValidator) {
        _ = validator.text(text, "\(field).text", max: 10_000, multiline: true)
    }
}

/// The note, time entry or attachment an event is about, as much as rules and notifications need.
public struct NotifiedItem: Codable, Sendable, Equatable {
    /// `.notes`, `.timeEntries` or `.attachments`.
    public var area: Area
    public var id: UUID?
    public var publishTo: PublishTo
    /// The note's text, the time entry's summary or the attachment's file name (for `{note.text}`).
    public var text: String
    public var authorName: String?

    public init(area: Area, id: UUID? = nil, publishTo: PublishTo, text: String = "", authorName: String? = nil) {
        self.area = area
        self.id = id
        self.publishTo = publishTo
        self.text = text
        self.authorName = authorName
    }
}

/// What happens to a ticket, as workflow rules are triggered by it (Autotask's "events").
public enum WorkflowTrigger: String, Codable, Sendable, CaseIterable {
    case created, edited, noteAdded, timeEntryAdded, statusChanged, dueDateApproaching, slaApproaching, slaBreached
    /// Handed to the other side (SPEC §13): `responsibleSide` says to which.
    case handedOff
}

/// One thing that happened to a ticket, as the engine reads it: from a domain event
/// (`init?(_:item:)`) or from the server's clock (due date approaching, SLA breached).
public struct AutomationEvent: Codable, Sendable, Equatable {
    public var triggers: Set<WorkflowTrigger>
    /// The ticket fields that changed (for `changed` and `changedTo` conditions); a new ticket's filled fields.
    public var changedFields: Set<TicketField>
    public var item: NotifiedItem?
    /// Assignees this event added (the assignment notice goes to them only).
    public var addedAssignees: [UUID]
    /// The workflow rule whose change this event is; that rule does not fire on it.
    public var causedByRule: UUID?

    public init(
        triggers: Set<WorkflowTrigger>, changedFields: Set<TicketField> = [], item: NotifiedItem? = nil, addedAssignees: [UUID] = [],
        causedByRule: UUID? = nil
    ) {
        self.triggers = triggers
        self.changedFields = changedFields
        self.item = item
        self.addedAssignees = addedAssignees
        self.causedByRule = causedByRule
    }

    /// A new ticket: ticket rules run first, then workflow rules triggered by `created`.
    public static func created(_ facts: TicketFacts) -> AutomationEvent {
        AutomationEvent(triggers: [.created], changedFields: facts.filledFields, addedAssignees: facts.assigneeIds)
    }

    /// An edit; a status change is also an edit (Autotask's "edited" fires on any change).
    public static func edited(_ fields: Set<TicketField>, addedAssignees: [UUID] = [], causedByRule: UUID? = nil) -> AutomationEvent {
        AutomationEvent(
            triggers: fields.contains(.status) ? [.edited, .statusChanged] : [.edited], changedFields: fields, addedAssignees: addedAssignees,
            causedByRule: causedByRule)
    }

    /// A handoff: the side changed (for `changed` and `changedTo` conditions on `responsibleSide`).
    public static let handedOff = AutomationEvent(triggers: [.handedOff], changedFields: [.responsibleSide])

    /// The event of a domain event the server recorded, nil for those rules do not react to. `item` is the
    /// note, time entry or attachment of an item event (the domain event holds only its id and publish-to).
    public init?(_ event: DomainEvent, item: NotifiedItem? = nil) {
        switch event.type {
        case .ticketCreated:
            self.init(triggers: [.created])
        case .ticketUpdated:
            self = .edited(Set((event.data.fields ?? []).compactMap(TicketField.init(rawValue:))))
        case .ticketStatusChanged:
            self = .edited([.status])
        case .ticketAssigned:
            self = .edited([.assigneeIds], addedAssignees: event.data.added ?? [])
        case .ticketDueDateApproaching:
            self.init(triggers: [.dueDateApproaching])
        case .ticketSLAApproaching:
            self.init(triggers: [.slaApproaching])
        case .ticketSLABreached:
            self.init(triggers: [.slaBreached])
        case .ticketHandedOff:
            self = .handedOff
        case .noteAdded, .timeEntryAdded:
            let area: Area = event.type == .noteAdded ? .notes : .timeEntries
            let given = item ?? NotifiedItem(area: area, id: event.entityId, publishTo: event.publishTo ?? .internal)
            self.init(triggers: [event.type == .noteAdded ? .noteAdded : .timeEntryAdded], item: given)
        default:
            return nil
        }
    }
}

extension TicketField: Codable {}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}

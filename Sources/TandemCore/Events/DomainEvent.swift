import Foundation

/// What happened, in the product's words: the `type` of a domain event (Appendix A).
public enum DomainEventType: String, Codable, Sendable, CaseIterable {
    case ticketCreated = "ticket.created"
    /// Fields other than the status and the assignees; `data.fields` names them.
    case ticketUpdated = "ticket.updated"
    /// `data.added` and `data.removed` list the assignees.
    case ticketAssigned = "ticket.assigned"
    /// `data.from` and `data.to` are the statuses.
    case ticketStatusChanged = "ticket.statusChanged"
    case ticketDeleted = "ticket.deleted"
    /// The ticket's due date is near (`TANDEM_DUE_SOON_HOURS`); recorded once per due date by the due date watch.
    case ticketDueDateApproaching = "ticket.dueDateApproaching"
    /// The responsible side changed (SPEC §13); `data.from` and `data.to` are the sides (`msp`, `clientIT`).
    case ticketHandedOff = "ticket.handedOff"
    /// An SLA target's clock passed its approaching share; `data.target` names the target. Once per ticket and target.
    case ticketSLAApproaching = "ticket.slaApproaching"
    /// An SLA target's clock passed the target; `data.target` names it. Once per ticket and target.
    case ticketSLABreached = "ticket.slaBreached"
    case noteAdded = "note.added", noteUpdated = "note.updated", noteDeleted = "note.deleted"
    case timeEntryAdded = "timeEntry.added", timeEntryUpdated = "timeEntry.updated", timeEntryDeleted = "timeEntry.deleted"
    case attachmentAdded = "attachment.added", attachmentUpdated = "attachment.updated", attachmentDeleted = "attachment.deleted"
    case coManagementActivated = "coManagement.activated", coManagementDeactivated = "coManagement.deactivated"
    /// An organization's co-management settings or associations changed.
    case organizationCoManagementChanged = "organization.coManagementChanged"
    case coManagingUserCreated = "coManagingUser.created", coManagingUserUpdated = "coManagingUser.updated"
    case coManagingUserErased = "coManagingUser.erased"
    case coManagingTeamUpdated = "coManagingTeam.updated", coManagingTeamDeleted = "coManagingTeam.deleted"
    case contactCreated = "contact.created", contactUpdated = "contact.updated", contactDeleted = "contact.deleted"
    case clientProfilesImported = "clientProfiles.imported"
    /// A security request was opened on a ticket (`entityId` is the request); `data.to` is its status.
    case securityRequestOpened = "securityRequest.opened"
    /// `data.from` and `data.to` are the request's statuses (`SecurityRequestProgress.Status`).
    case securityRequestStatusChanged = "securityRequest.statusChanged"
    /// A block-hour contract reached its warning threshold (`entityId` is the contract); recorded once per contract.
    case blockHoursThresholdReached = "blockHours.thresholdReached"

    /// The area whose access decides who reads the event (`AccessPolicy.eventScope`).
    public var area: Area {
        switch self {
        case .ticketCreated, .ticketUpdated, .ticketAssigned, .ticketStatusChanged, .ticketDeleted, .ticketDueDateApproaching, .ticketHandedOff,
            .ticketSLAApproaching, .ticketSLABreached:
            .tickets
        case .noteAdded, .noteUpdated, .noteDeleted: .notes
        case .timeEntryAdded, .timeEntryUpdated, .timeEntryDeleted: .timeEntries
        case .attachmentAdded, .attachmentUpdated, .attachmentDeleted: .attachments
        case .coManagementActivated, .coManagementDeactivated, .organizationCoManagementChanged, .coManagingTeamUpdated, .coManagingTeamDeleted: .organizations
        case .coManagingUserCreated, .coManagingUserUpdated, .coManagingUserErased, .contactCreated, .contactUpdated, .contactDeleted,
            .clientProfilesImported:
            .contacts
        case .securityRequestOpened, .securityRequestStatusChanged: .approvals
        // Billing: read by those who see the organization's billing (`AccessPolicy.billingScope`).
        case .blockHoursThresholdReached: .reports
        }
    }

    /// The event an item change (note, time entry, attachment) emits.
    public static func item(_ area: Area, _ change: ItemChange) -> DomainEventType? {
        switch (area, change) {
        case (.notes, .added): .noteAdded
        case (.notes, .updated): .noteUpdated
        case (.notes, .deleted): .noteDeleted
        case (.timeEntries, .added): .timeEntryAdded
        case (.timeEntries, .updated): .timeEntryUpdated
        case (.timeEntries, .deleted): .timeEntryDeleted
        case (.attachments, .added): .attachmentAdded
        case (.attachments, .updated): .attachmentUpdated
        case (.attachments, .deleted): .attachmentDeleted
        default: nil
        }
    }

    public enum ItemChange: Sendable { case added, updated, deleted }
}

/// The facts of a ticket an event keeps, as they were when it happened: the policy reads an event
/// of a ticket by them (the ticket may be gone since).
public struct TicketEventFacts: Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var siteId: UUID?
    public var queueId: UUID?
    public var teamId: UUID?
    public var contactId: UUID?
    public var coManagedVisible: Bool

    public init(id: UUID, organizationId: UUID, siteId: UUID?, queueId: UUID?, teamId: UUID?, contactId: UUID?, coManagedVisible: Bool) {
        self.id = id
        self.organizationId = organizationId
        self.siteId = siteId
        self.queueId = queueId
        self.teamId = teamId
        self.contactId = contactId
        self.coManagedVisible = coManagedVisible
    }
}

/// What an event says beyond its type; each type fills its own fields.
public struct DomainEventData: Codable, Sendable, Equatable {
    /// `ticket.updated`: the ticket fields (API names) that changed.
    public var fields: [String]?
    /// `ticket.statusChanged`.
    public var from: String?
    public var to: String?
    /// `ticket.assigned`.
    public var added: [UUID]?
    public var removed: [UUID]?
    /// `ticket.slaApproaching` and `ticket.slaBreached`: the SLA target (`firstResponse`, `resolution`).
    public var target: String?

    public init(
        fields: [String]? = nil, from: String? = nil, to: String? = nil, added: [UUID]? = nil, removed: [UUID]? = nil, target: String? = nil
    ) {
        self.fields = fields
        self.from = from
        self.to = to
        self.added = added
        self.removed = removed
        self.target = target
    }

    public var isEmpty: Bool { self == DomainEventData() }
}

/// A change the product made, recorded in the same transaction as the change (append-only, in
/// position order): what later consumers (rules, notifications, webhooks, SLA clocks) act on.
public struct DomainEvent: Sendable, Equatable {
    public var type: DomainEventType
    /// The object the event is about (ticket, item, contact, co-managing user…).
    public var entityId: UUID?
    public var organizationId: UUID?
    public var ticket: TicketEventFacts?
    /// Items' publish-to: who may read the item, and so its event.
    public var publishTo: PublishTo?
    public var data: DomainEventData

    public init(
        _ type: DomainEventType, entityId: UUID?, organizationId: UUID? = nil, ticket: TicketEventFacts? = nil, publishTo: PublishTo? = nil,
        data: DomainEventData = DomainEventData()
    ) {
        self.type = type
        self.entityId = entityId
        self.organizationId = organizationId ?? ticket?.organizationId
        self.ticket = ticket
        self.publishTo = publishTo
        self.data = data
    }

    /// The events of a ticket update, one per kind of change: other fields, status, assignees.
    /// `before` and `after` are the ticket's fields by API name (`TicketField`); nothing changed, no event.
    public static func ticketChanges(
        _ ticket: TicketEventFacts, before: [TicketField: String], after: [TicketField: String],
        assigneesBefore: [UUID], assigneesAfter: [UUID]
    ) -> [DomainEvent] {
        var events: [DomainEvent] = []
        let bookkeeping: Set<TicketField> = [.version, .updatedAt, .status, .assigneeIds]
        let fields = TicketField.allCases.filter { !bookkeeping.contains($0) && before[$0] != after[$0] }
        if !fields.isEmpty {
            events.append(DomainEvent(.ticketUpdated, entityId: ticket.id, ticket: ticket, data: DomainEventData(fields: fields.map(\.rawValue))))
        }
        if before[.status] != after[.status] {
            events.append(
                DomainEvent(.ticketStatusChanged, entityId: ticket.id, ticket: ticket, data: DomainEventData(from: before[.status], to: after[.status])))
        }
        let added = assigneesAfter.filter { !assigneesBefore.contains($0) }, removed = assigneesBefore.filter { !assigneesAfter.contains($0) }
        if !added.isEmpty || !removed.isEmpty {
            events.append(DomainEvent(.ticketAssigned, entityId: ticket.id, ticket: ticket, data: DomainEventData(added: added, removed: removed)))
        }
        return events
    }

    /// The event the audit log's record of a change outside tickets stands for (co-management and
    /// client profiles); nil for the changes that have none.
    public static func recorded(action: String, entityType: String, entityId: UUID?, organizationId: UUID?) -> DomainEvent? {
        let type: DomainEventType? =
            switch (entityType, action) {
            case ("co_management", "activated"): .coManagementActivated
            case ("co_management", "deactivated"): .coManagementDeactivated
            case ("organization_co_management", _): .organizationCoManagementChanged
            case ("co_managing_users", "created"): .coManagingUserCreated
            case ("co_managing_users", "updated"): .coManagingUserUpdated
            case ("co_managing_users", "erased"): .coManagingUserErased
            case ("co_managing_teams", "updated"), ("co_managing_teams", "created"): .coManagingTeamUpdated
            case ("co_managing_teams", "deleted"): .coManagingTeamDeleted
            case ("contacts", "created"): .contactCreated
            case ("contacts", "updated"): .contactUpdated
            case ("contacts", "deleted"): .contactDeleted
            case ("client_profiles", "imported"): .clientProfilesImported
            default: nil
            }
        return type.map { DomainEvent($0, entityId: entityId, organizationId: organizationId) }
    }
}

extension AccessPolicy {
    /// The domain events `principal` may read: a ticket's and its items' events as the ticket scope
    /// and the items' publish-to allow (by the ticket's facts when the event happened), the rest as
    /// the organization scope of the event's area allows.
    public static func eventScope(for principal: Principal) -> Scope {
        .anyOf(
            Area.eventAreas.map { area in
                let reach: Scope =
                    switch area {
                    case .tickets: ticketScope(for: principal)
                    case .notes, .timeEntries, .attachments: .allOf([ticketScope(for: principal), ticketItemScope(for: principal, area: area)])
                    case .approvals:
                        (try? authorizeSecurityRequests(principal, .view)) != nil ? ticketScope(for: principal) : .none
                    case .reports: blockHourContractScope(for: principal)
                    // Contacts read their tickets' events only.
                    default: principal.kind == .contact ? .none : organizationScope(for: principal, area: area, .view)
                    }
                return .allOf([.area(in: [area]), reach])
            })
    }

    /// An event as `principal` reads it, once `eventScope` let it through: the ticket fields it is
    /// not shown are left out of `ticket.updated` (an update of only those is no event for it), and
    /// the assignees are no event for those who do not see them.
    public static func eventShown(_ event: DomainEventType, _ data: DomainEventData, to principal: Principal) -> DomainEventData? {
        let fields = visibleTicketFields(for: principal.kind)
        switch event {
        case .ticketUpdated:
            let shown = (data.fields ?? []).filter { TicketField(rawValue: $0).map(fields.contains) ?? false }
            return shown.isEmpty ? nil : DomainEventData(fields: shown)
        case .ticketAssigned:
            return fields.contains(.assigneeIds) ? data : nil
        default:
            return data
        }
    }
}

extension Area {
    /// The areas domain events fall in.
    public static let eventAreas: [Area] = [.tickets, .notes, .timeEntries, .attachments, .approvals, .contacts, .organizations, .reports]
}

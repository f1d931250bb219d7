import Foundation

/// The kinds of notification, one template each; people choose their delivery per kind.
public enum NotificationKind: String, Codable, Sendable, CaseIterable {
    /// To the contact: we have your ticket.
    case ticketAcknowledgement
    /// To the contact: a note published to all.
    case noteToContact
    /// To new assignees.
    case assignment
    /// To co-managing users: a note published to them.
    case noteToCoManaged
    case ticketUpdated, statusChanged, timeEntryAdded, dueDateApproaching, slaApproaching, slaBreached
}

extension NotificationKind {
    /// Whether the person whose change caused it is told too: only the acknowledgement (the contact who
    /// opened a ticket hears that it arrived); nobody is told of their own note or assignment.
    public var toldToWhoeverCausedIt: Bool { self == .ticketAcknowledgement }
}

/// Who a notification goes to, by their relation to the ticket.
public enum RecipientRole: String, Codable, Sendable, CaseIterable {
    case assignees
    /// Only the assignees the triggering event added.
    case newAssignees
    case contact
    /// The co-managing users associated with the ticket's organization.
    case coManagingUsers
    /// The members of the ticket's team.
    case team
    /// The members of the ticket's queue.
    case queue
}

/// An address an administrator typed in a rule, outside the people the system knows. It is filed under the
/// audience it belongs to, which decides the items it may hear of, like the principals of that kind.
public struct ExplicitAddress: Codable, Sendable, Equatable, Hashable {
    public var email: String
    /// `.resource` for an MSP mailbox, `.coManagingUser` for a client IT mailbox, `.contact` (the default) for anyone else.
    public var audience: PrincipalKind

    public init(email: String, audience: PrincipalKind = .contact) {
        self.email = email
        self.audience = audience
    }
}

/// A workflow rule's "notify" action.
public struct NotificationRequest: Codable, Sendable, Equatable {
    public var kind: NotificationKind
    public var roles: Set<RecipientRole>
    /// Named people (resources, co-managing users, contacts).
    public var people: [UUID]
    public var addresses: [ExplicitAddress]

    public init(kind: NotificationKind, roles: Set<RecipientRole> = [], people: [UUID] = [], addresses: [ExplicitAddress] = []) {
        self.kind = kind
        self.roles = roles
        self.people = people
        self.addresses = addresses
    }

    func validate(_ path: String, _ validator: inout FieldValidator) {
        if roles.isEmpty && people.isEmpty && addresses.isEmpty { validator.fail(path, "name at least one recipient: a role, a person or an address") }
        for (index, address) in addresses.enumerated() { _ = validator.email(address.email, "\(path).addresses[\(index)].email", required: true) }
    }
}

/// A notification the engine asks for: the server resolves the roles to people (from the database), keeps
/// those `NotificationAudience.recipients` allows, renders the kind's template and writes the outbox.
public struct PlannedNotification: Codable, Sendable, Equatable {
    public var request: NotificationRequest
    /// The event's item (a note's text for `{note.text}`, its publish-to for the policy), if any.
    public var item: NotifiedItem?
    /// What `.newAssignees` stands for.
    public var newAssignees: [UUID]
    /// The workflow rule that asked; nil for none.
    public var ruleId: UUID?

    public init(request: NotificationRequest, item: NotifiedItem? = nil, newAssignees: [UUID] = [], ruleId: UUID? = nil) {
        self.request = request
        self.item = item
        self.newAssignees = newAssignees
        self.ruleId = ruleId
    }
}

/// One person or address a notification might go to, before the policy has its say.
public struct NotificationCandidate: Sendable, Equatable {
    /// A known person, as the policy knows them (loaded like a request's principal).
    public var principal: Principal?
    /// An address an administrator typed; read as its audience's kind.
    public var explicit: ExplicitAddress?
    /// Where to deliver (the person's email, or the explicit address).
    public var email: String?

    public static func person(_ principal: Principal, email: String?) -> NotificationCandidate {
        NotificationCandidate(principal: principal, explicit: nil, email: email)
    }

    public static func address(_ address: ExplicitAddress) -> NotificationCandidate {
        NotificationCandidate(principal: nil, explicit: address, email: address.email)
    }
}

/// Who may be told: the access policy's event rules (the same that filter the event feed and webhooks).
public enum NotificationAudience {
    /// The candidates that may learn of `event` on `ticket` (its facts now): a known person when the policy's
    /// event scope lets them read it (the ticket, then the item's publish-to) and the event shows them
    /// something (`eventShown`: contacts never hear of assignees); an explicit address when its audience reads
    /// the item's publish-to. Duplicates (same person or same address) are kept once, in the given order.
    public static func recipients(
        of event: DomainEventType, data: DomainEventData = DomainEventData(), item: NotifiedItem?, ticket: TicketFacts, candidates: [NotificationCandidate]
    ) -> [NotificationCandidate] {
        let facts = ticket.scopeFacts(area: item?.area ?? event.area, publishTo: item?.publishTo)
        var seen: Set<String> = []
        return candidates.filter { candidate in
            let allowed: Bool
            if let principal = candidate.principal {
                // An update without the fields it changed (due date approaching, SLA breached) is about the ticket as a whole.
                let shown = event == .ticketUpdated && data.fields == nil ? true : AccessPolicy.eventShown(event, data, to: principal) != nil
                allowed = AccessPolicy.eventScope(for: principal).evaluate(facts) && shown
            } else if let explicit = candidate.explicit {
                allowed = item.map { AccessPolicy.readablePublishTo(for: explicit.audience).contains($0.publishTo) } ?? true
            } else {
                allowed = false
            }
            let key = candidate.principal.map { "p:\($0.id)" } ?? "e:\(candidate.email?.lowercased() ?? "")"
            return allowed && seen.insert(key).inserted
        }
    }

    /// The domain event type a notification kind is about, for the policy's `eventShown`.
    public static func eventType(of kind: NotificationKind, item: NotifiedItem?) -> DomainEventType {
        switch kind {
        case .ticketAcknowledgement: .ticketCreated
        case .assignment: .ticketAssigned
        case .statusChanged: .ticketStatusChanged
        case .ticketUpdated, .dueDateApproaching, .slaApproaching, .slaBreached: .ticketUpdated
        case .noteToContact, .noteToCoManaged, .timeEntryAdded:
            item.flatMap { DomainEventType.item($0.area, .added) } ?? (kind == .timeEntryAdded ? .timeEntryAdded : .noteAdded)
        }
    }
}

/// How someone wants to hear of a kind of notification.
public enum DeliveryChannel: String, Codable, Sendable, CaseIterable {
    case email, sms, none
}

/// A person's own choices (`GET|PUT /me/notification-settings`): a channel per kind, email when not chosen.
public struct NotificationSettings: Codable, Sendable, Equatable {
    public var channels: [NotificationKind: DeliveryChannel]

    public init(channels: [NotificationKind: DeliveryChannel] = [:]) { self.channels = channels }

    public func channel(for kind: NotificationKind) -> DeliveryChannel { channels[kind] ?? .email }
}

extension NotificationKind: CodingKeyRepresentable {}

import Foundation

/// What kind of message arrived, as the MIME reader classifies it. Only `regular` mail is a person writing to
/// the help desk; the rest must never open tickets or send notifications (that is how mail loops start).
public enum InboundMailKind: String, Codable, Sendable, CaseIterable {
    case regular, autoReply, bounce, readReceipt, ownNotification

    /// A person wrote it: only then are the sender and the ticket it answers looked up.
    public var isFromAPerson: Bool { self == .regular }

    var ignoredBecause: String {
        switch self {
        case .regular: "a regular message"
        case .autoReply: "an automatic reply"
        case .bounce: "a delivery failure report"
        case .readReceipt: "a read receipt"
        case .ownNotification: "one of Tandem's own notifications coming back"
        }
    }
}

/// A contact (or client profile, or MSP resource) whose email address equals the sender's.
public struct SenderMatch: Codable, Sendable, Equatable {
    /// The contact's id; the resource's for an MSP resource.
    public var contactId: UUID
    /// nil for an MSP resource, which belongs to no client organization.
    public var organizationId: UUID?
    public var siteId: UUID?
    public var isMSPResource: Bool

    public init(contactId: UUID, organizationId: UUID?, siteId: UUID?, isMSPResource: Bool = false) {
        self.contactId = contactId
        self.organizationId = organizationId
        self.siteId = siteId
        self.isMSPResource = isMSPResource
    }

    public static func contact(_ id: UUID, organizationId: UUID, siteId: UUID? = nil) -> SenderMatch {
        SenderMatch(contactId: id, organizationId: organizationId, siteId: siteId)
    }

    public static func mspResource(_ id: UUID) -> SenderMatch {
        SenderMatch(contactId: id, organizationId: nil, siteId: nil, isMSPResource: true)
    }
}

/// A site whose client email domain is exactly the sender's domain.
public struct SiteMatch: Codable, Sendable, Equatable, Hashable {
    public var organizationId: UUID
    public var siteId: UUID

    public init(organizationId: UUID, siteId: UUID) {
        self.organizationId = organizationId
        self.siteId = siteId
    }
}

/// The ticket a message refers to, and how it was found.
public struct ReferencedTicket: Codable, Sendable, Equatable {
    public enum FoundBy: String, Codable, Sendable {
        /// `[#T-…]` in the subject.
        case subjectTag
        /// A Message-ID of one of the ticket's mails in In-Reply-To or References.
        case inReplyTo
    }

    public var ticketId: UUID
    public var organizationId: UUID
    public var foundBy: FoundBy

    public init(ticketId: UUID, organizationId: UUID, foundBy: FoundBy) {
        self.ticketId = ticketId
        self.organizationId = organizationId
        self.foundBy = foundBy
    }
}

/// Everything intake decides on, looked up by the server from the parsed message. Oversized messages are
/// refused before this.
public struct InboundMailFacts: Codable, Sendable, Equatable {
    /// A message with this Message-ID was already taken: a second delivery of it.
    public var messageIdSeen: Bool
    public var kind: InboundMailKind
    /// What made the MIME reader classify it ("Auto-Submitted: auto-replied"), for the ignored reason.
    public var kindEvidence: String?
    public var senderAddress: String?
    public var senderMatches: [SenderMatch]
    /// Ignored for a public domain, which never identifies a site.
    public var domainMatches: [SiteMatch]
    public var isPublicDomain: Bool
    public var referencedTicket: ReferencedTicket?

    public init(
        messageIdSeen: Bool = false, kind: InboundMailKind = .regular, kindEvidence: String? = nil, senderAddress: String?,
        senderMatches: [SenderMatch] = [], domainMatches: [SiteMatch] = [], isPublicDomain: Bool = false, referencedTicket: ReferencedTicket? = nil
    ) {
        self.messageIdSeen = messageIdSeen
        self.kind = kind
        self.kindEvidence = kindEvidence
        self.senderAddress = senderAddress
        self.senderMatches = senderMatches
        self.domainMatches = domainMatches
        self.isPublicDomain = isPublicDomain
        self.referencedTicket = referencedTicket
    }
}

/// Where an inbound message goes.
public enum IntakeOutcome: Codable, Sendable, Equatable {
    /// Already taken (same Message-ID): nothing is written again.
    case duplicate
    case ignored(reason: String)
    /// A note on the ticket, published to all; `asContact` is its author when the sender is one known contact.
    case note(ticketId: UUID, asContact: UUID?)
    case ticket(organizationId: UUID, siteId: UUID?, contactId: UUID?)
    /// Held for a person to accept, merge or discard.
    case triage(reason: String)
}

/// The routing decision for an inbound email (SPEC §6), and why, in words: the reason is kept with what the
/// message became, so "why did this become a ticket of Contoso?" has an answer.
public struct IntakeDecision: Codable, Sendable, Equatable {
    public var outcome: IntakeOutcome
    public var reason: String

    public init(_ outcome: IntakeOutcome, _ reason: String) {
        self.outcome = outcome
        self.reason = reason
    }

    public static func decide(_ facts: InboundMailFacts) -> IntakeDecision {
        // 1. A second delivery of a taken message changes nothing.
        if facts.messageIdSeen { return IntakeDecision(.duplicate, "a message with this Message-ID was already taken") }

        // 2. Machine mail (auto-replies, bounces, receipts, our own notifications) never becomes a ticket or note.
        if facts.kind != .regular {
            let reason = facts.kind.ignoredBecause + (facts.kindEvidence.map { " (\($0))" } ?? "")
            return IntakeDecision(.ignored(reason: reason), reason)
        }

        // 3. Without a sender there is no one to identify.
        guard let sender = facts.senderAddress.map(Whitespace.trim), !sender.isEmpty else { return triage("no sender address") }
        let domain = MailDomain.of(address: sender)

        // 4. The MSP's own addresses are easy to forge and would carry a resource's authority: never trusted on From.
        if facts.senderMatches.contains(where: \.isMSPResource) {
            return triage("\(sender) claims to be an MSP resource; mail is not trusted on its From header")
        }

        let contacts = unique(facts.senderMatches)
        // 5. A public domain never identifies a site, whatever a site's settings say.
        let sites = facts.isPublicDomain ? [] : unique(facts.domainMatches)
        let senderOrganizations = Set(contacts.compactMap(\.organizationId) + sites.map(\.organizationId))

        // 6. A reply threads only into a ticket of the sender's own organization (by contact or exact domain).
        var notThreaded: String?
        if let reference = facts.referencedTicket {
            if senderOrganizations.contains(reference.organizationId) {
                let authors = contacts.filter { $0.organizationId == reference.organizationId }
                let author = authors.count == 1 ? authors[0].contactId : nil
                let how = reference.foundBy == .subjectTag ? "its subject's ticket tag" : "In-Reply-To/References"
                return IntakeDecision(.note(ticketId: reference.ticketId, asContact: author), "a reply by \(sender) found by \(how)")
            }
            // Another organization's ticket: never threaded (a guessed tag must not reach into a client's ticket).
            notThreaded = "refers to a ticket outside the sender's organization, not threaded"
        }

        // A ticket with its reason, or triage (nil) for the reason; a refused reference is part of either. A mail that
        // refers to another organization's ticket goes to triage, never into a ticket of the sender's organization:
        // a reply quotes the ticket it answers (a co-managing user answering a notification of a client's ticket
        // would copy it into their own organization, where others read it).
        func decision(_ ticket: IntakeOutcome?, _ reason: String) -> IntakeDecision {
            let full = [reason, notThreaded].compactMap(\.self).joined(separator: "; ")
            return IntakeDecision(notThreaded == nil ? ticket ?? .triage(reason: full) : .triage(reason: full), full)
        }

        // 7. One known contact: a ticket for that contact.
        if contacts.count == 1, let organizationId = contacts[0].organizationId {
            return decision(
                .ticket(organizationId: organizationId, siteId: contacts[0].siteId, contactId: contacts[0].contactId), "\(sender) is a known contact")
        }
        // 8. Several contacts share the address (a shared mailbox): one place gets a ticket without a contact; several, triage.
        if contacts.count > 1 {
            let places = Set(contacts.map { Place(organizationId: $0.organizationId, siteId: $0.siteId) })
            if places.count == 1, let place = places.first, let organizationId = place.organizationId {
                return decision(
                    .ticket(organizationId: organizationId, siteId: place.siteId, contactId: nil),
                    "\(sender) is shared by \(contacts.count) contacts of one site")
            }
            let organizations = Set(contacts.compactMap(\.organizationId)).count
            return decision(
                nil,
                "ambiguous: \(sender) matches \(contacts.count) contacts in \(organizations) organization\(organizations == 1 ? "" : "s") and \(places.count) sites"
            )
        }
        // 9. A public domain without a known contact cannot say who wrote.
        if facts.isPublicDomain { return decision(nil, "\(domain ?? sender) is a public mail domain and \(sender) is not a known contact") }
        // 10. One site by its exact client email domain: a ticket for the site, without a contact.
        if sites.count == 1 {
            return decision(
                .ticket(organizationId: sites[0].organizationId, siteId: sites[0].siteId, contactId: nil),
                "\(domain ?? sender) is the site's client email domain")
        }
        // 11. Several sites claim the domain: a person decides.
        if sites.count > 1 { return decision(nil, "ambiguous: \(domain ?? sender) is the client email domain of \(sites.count) sites") }
        // 12. Nobody knows the sender.
        return decision(nil, "unknown sender \(sender)")
    }

    static func triage(_ reason: String) -> IntakeDecision { IntakeDecision(.triage(reason: reason), reason) }

    struct Place: Hashable {
        var organizationId: UUID?
        var siteId: UUID?
    }

    /// In first-seen order, each once (the server may find a contact by both its email and a profile's).
    static func unique<T: Equatable>(_ items: [T]) -> [T] {
        var seen: [T] = []
        for item in items where !seen.contains(item) { seen.append(item) }
        return seen
    }
}

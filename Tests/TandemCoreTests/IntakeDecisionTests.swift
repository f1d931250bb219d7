import Foundation
import Testing

@testable import TandemCore

/// Where an inbound email goes (SPEC §6): every rule of `IntakeDecision.decide`, one row each.
@Suite struct IntakeDecisionTests {
    static let contoso = UUID(), fabrikam = UUID()
    static let seattle = UUID(), tacoma = UUID(), berlin = UUID()
    static let ann = UUID(), bob = UUID(), shared = UUID(), admin = UUID()
    static let contosoTicket = ReferencedTicket(ticketId: UUID(), organizationId: contoso, foundBy: .subjectTag)
    static let fabrikamTicket = ReferencedTicket(ticketId: UUID(), organizationId: fabrikam, foundBy: .inReplyTo)

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: InboundMailFacts
        var outcome: IntakeOutcome
        /// What the reason says (all of it, or a part).
        var reason: String
        var testDescription: String { name }
    }

    static let annAtSeattle = SenderMatch.contact(ann, organizationId: contoso, siteId: seattle)

    static let rows: [Row] = [
        Row(
            name: "a second delivery is a duplicate, whatever else it is",
            facts: .init(messageIdSeen: true, kind: .bounce, senderAddress: "ann@contoso.example", senderMatches: [annAtSeattle]),
            outcome: .duplicate, reason: "a message with this Message-ID was already taken"),
        Row(
            name: "an auto-reply is ignored even from a known contact on a ticket",
            facts: .init(
                kind: .autoReply, kindEvidence: "Auto-Submitted: auto-replied", senderAddress: "ann@contoso.example", senderMatches: [annAtSeattle],
                referencedTicket: contosoTicket),
            outcome: .ignored(reason: "an automatic reply (Auto-Submitted: auto-replied)"), reason: "an automatic reply (Auto-Submitted: auto-replied)"),
        Row(
            name: "a bounce is ignored", facts: .init(kind: .bounce, senderAddress: "mailer-daemon@mx.example"),
            outcome: .ignored(reason: "a delivery failure report"), reason: "a delivery failure report"),
        Row(
            name: "a read receipt is ignored", facts: .init(kind: .readReceipt, senderAddress: "ann@contoso.example", senderMatches: [annAtSeattle]),
            outcome: .ignored(reason: "a read receipt"), reason: "a read receipt"),
        Row(
            name: "our own notification coming back is ignored", facts: .init(kind: .ownNotification, senderAddress: "helpdesk@msp.example"),
            outcome: .ignored(reason: "one of Tandem's own notifications coming back"), reason: "Tandem's own notifications"),
        Row(name: "no sender is held", facts: .init(senderAddress: nil), outcome: .triage(reason: "no sender address"), reason: "no sender address"),
        Row(name: "a blank sender is held", facts: .init(senderAddress: "  "), outcome: .triage(reason: "no sender address"), reason: "no sender address"),
        Row(
            name: "a reply from a contact of the ticket's organization is a note by that contact",
            facts: .init(senderAddress: "ann@contoso.example", senderMatches: [annAtSeattle], referencedTicket: contosoTicket),
            outcome: .note(ticketId: contosoTicket.ticketId, asContact: ann), reason: "a reply by ann@contoso.example found by its subject's ticket tag"),
        Row(
            name: "a reply from the organization's exact domain is a note without a contact",
            facts: .init(
                senderAddress: "new.hire@contoso.example", domainMatches: [.init(organizationId: contoso, siteId: seattle)],
                referencedTicket: .init(ticketId: contosoTicket.ticketId, organizationId: contoso, foundBy: .inReplyTo)),
            outcome: .note(ticketId: contosoTicket.ticketId, asContact: nil), reason: "found by In-Reply-To/References"),
        Row(
            name: "a shared mailbox replying to one of its organizations' tickets is a note by that organization's contact",
            facts: .init(
                senderAddress: "it@shared.example",
                senderMatches: [.contact(ann, organizationId: contoso, siteId: seattle), .contact(bob, organizationId: fabrikam, siteId: berlin)],
                referencedTicket: fabrikamTicket),
            outcome: .note(ticketId: fabrikamTicket.ticketId, asContact: bob), reason: "a reply by it@shared.example"),
        Row(
            name: "a reference to another organization's ticket never threads, nor opens a ticket of the sender's (it would copy the quoted ticket): triage",
            facts: .init(senderAddress: "ann@contoso.example", senderMatches: [annAtSeattle], referencedTicket: fabrikamTicket),
            outcome: .triage(reason: "ann@contoso.example is a known contact; refers to a ticket outside the sender's organization, not threaded"),
            reason: "ann@contoso.example is a known contact; refers to a ticket outside the sender's organization, not threaded"),
        Row(
            name: "a reference from an unknown sender never threads: triage",
            facts: .init(senderAddress: "eve@evil.test", referencedTicket: contosoTicket),
            outcome: .triage(reason: "unknown sender eve@evil.test; refers to a ticket outside the sender's organization, not threaded"),
            reason: "unknown sender eve@evil.test"),
        Row(
            name: "a public domain never identifies an organization for a reply",
            facts: .init(
                senderAddress: "eve@gmail.com", domainMatches: [.init(organizationId: contoso, siteId: seattle)], isPublicDomain: true,
                referencedTicket: contosoTicket),
            outcome: .triage(
                reason:
                    "gmail.com is a public mail domain and eve@gmail.com is not a known contact; refers to a ticket outside the sender's organization, not threaded"
            ),
            reason: "gmail.com is a public mail domain"),
        Row(
            name: "an MSP resource's address is never trusted, not even on a reply",
            facts: .init(senderAddress: "tech@msp.example", senderMatches: [.mspResource(admin)], referencedTicket: contosoTicket),
            outcome: .triage(reason: "tech@msp.example claims to be an MSP resource; mail is not trusted on its From header"),
            reason: "claims to be an MSP resource"),
        Row(
            name: "an address that is both a resource's and a contact's is not trusted either",
            facts: .init(senderAddress: "tech@msp.example", senderMatches: [annAtSeattle, .mspResource(admin)]),
            outcome: .triage(reason: "tech@msp.example claims to be an MSP resource; mail is not trusted on its From header"),
            reason: "not trusted on its From header"),
        Row(
            name: "one known contact gets a ticket for their organization and site",
            facts: .init(senderAddress: "Ann@Contoso.example", senderMatches: [annAtSeattle]),
            outcome: .ticket(organizationId: contoso, siteId: seattle, contactId: ann), reason: "Ann@Contoso.example is a known contact"),
        Row(
            name: "a known contact at a public domain gets a ticket",
            facts: .init(senderAddress: "ann@gmail.com", senderMatches: [.contact(ann, organizationId: contoso)], isPublicDomain: true),
            outcome: .ticket(organizationId: contoso, siteId: nil, contactId: ann), reason: "is a known contact"),
        Row(
            name: "the same contact found twice is one contact",
            facts: .init(senderAddress: "ann@contoso.example", senderMatches: [annAtSeattle, annAtSeattle]),
            outcome: .ticket(organizationId: contoso, siteId: seattle, contactId: ann), reason: "is a known contact"),
        Row(
            name: "several contacts of one site share an address: a ticket for the site without a contact",
            facts: .init(
                senderAddress: "front.desk@contoso.example",
                senderMatches: [annAtSeattle, .contact(shared, organizationId: contoso, siteId: seattle)]),
            outcome: .ticket(organizationId: contoso, siteId: seattle, contactId: nil), reason: "shared by 2 contacts of one site"),
        Row(
            name: "contacts at two sites of one organization: ambiguous",
            facts: .init(
                senderAddress: "front.desk@contoso.example",
                senderMatches: [annAtSeattle, .contact(shared, organizationId: contoso, siteId: tacoma)]),
            outcome: .triage(reason: "ambiguous: front.desk@contoso.example matches 2 contacts in 1 organization and 2 sites"), reason: "ambiguous"),
        Row(
            name: "contacts in two organizations (a shared mailbox): ambiguous",
            facts: .init(
                senderAddress: "it@shared.example",
                senderMatches: [annAtSeattle, .contact(bob, organizationId: fabrikam, siteId: berlin)]),
            outcome: .triage(reason: "ambiguous: it@shared.example matches 2 contacts in 2 organizations and 2 sites"), reason: "ambiguous"),
        Row(
            name: "an unknown sender at a public domain is held",
            facts: .init(senderAddress: "eve@gmail.com", isPublicDomain: true),
            outcome: .triage(reason: "gmail.com is a public mail domain and eve@gmail.com is not a known contact"), reason: "public mail domain"),
        Row(
            name: "a public domain is held even if a site claims it",
            facts: .init(senderAddress: "eve@gmail.com", domainMatches: [.init(organizationId: contoso, siteId: seattle)], isPublicDomain: true),
            outcome: .triage(reason: "gmail.com is a public mail domain and eve@gmail.com is not a known contact"), reason: "public mail domain"),
        Row(
            name: "an unknown sender at one site's exact domain gets a ticket for that site",
            facts: .init(senderAddress: "new.hire@contoso.example", domainMatches: [.init(organizationId: contoso, siteId: seattle)]),
            outcome: .ticket(organizationId: contoso, siteId: seattle, contactId: nil), reason: "contoso.example is the site's client email domain"),
        Row(
            name: "a domain claimed by two sites is ambiguous",
            facts: .init(
                senderAddress: "new.hire@contoso.example",
                domainMatches: [.init(organizationId: contoso, siteId: seattle), .init(organizationId: contoso, siteId: tacoma)]),
            outcome: .triage(reason: "ambiguous: contoso.example is the client email domain of 2 sites"), reason: "ambiguous"),
        Row(
            name: "nobody knows the sender", facts: .init(senderAddress: "someone@elsewhere.example"),
            outcome: .triage(reason: "unknown sender someone@elsewhere.example"), reason: "unknown sender"),
    ]

    @Test(arguments: rows) func decides(_ row: Row) {
        let decision = IntakeDecision.decide(row.facts)

        #expect(decision.outcome == row.outcome)
        #expect(decision.reason.contains(row.reason), "\(decision.reason)")
        if case .triage(let reason) = decision.outcome { #expect(reason == decision.reason) }
        if case .ignored(let reason) = decision.outcome { #expect(reason == decision.reason) }
    }

    /// Machine mail of any kind never becomes a ticket, a note or a notification.
    @Test(arguments: InboundMailKind.allCases.filter { $0 != .regular })
    func machineMailIsAlwaysIgnored(_ kind: InboundMailKind) {
        let decision = IntakeDecision.decide(
            .init(kind: kind, senderAddress: "ann@contoso.example", senderMatches: [Self.annAtSeattle], referencedTicket: Self.contosoTicket))
        guard case .ignored = decision.outcome else {
            Issue.record("\(kind): \(decision.outcome)")
            return
        }
    }

    @Test func outcomesAreCodable() throws {
        let outcomes: [IntakeOutcome] = [
            .duplicate, .ignored(reason: "a bounce"), .note(ticketId: UUID(), asContact: nil), .ticket(organizationId: UUID(), siteId: nil, contactId: UUID()),
            .triage(reason: "unknown sender"),
        ]
        let decoded = try JSONDecoder().decode([IntakeOutcome].self, from: JSONEncoder().encode(outcomes))
        #expect(decoded == outcomes)
    }
}

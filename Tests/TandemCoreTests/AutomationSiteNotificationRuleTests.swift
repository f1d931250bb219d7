import Foundation
import TandemCore
import Testing

/// ConnectWise's per-site notification rule, template values, and the policy's publish-to by kind.
@Suite struct AutomationSiteNotificationRuleTests {
    let owner = UUID(), itDesk = UUID(), onCall = UUID()

    @Test func escalationContactsByHoursInOrder() {
        let rule = SiteNotificationRule(
            escalation: [
                .init(contactId: itDesk, hours: .businessHours), .init(contactId: owner, hours: .always, instructions: "mobile"),
                .init(contactId: onCall, hours: .afterHours),
            ], callBeforeEscalating: [itDesk])
        #expect(rule.escalationContacts(businessHours: true).map(\.contactId) == [itDesk, owner])
        #expect(rule.escalationContacts(businessHours: false).map(\.contactId) == [owner, onCall])
        #expect(rule.references.ids == [.contact: [itDesk, owner, onCall]])
        #expect(throws: Never.self) { try rule.validate() }
    }

    @Test func validation() {
        let bad = SiteNotificationRule(escalation: [], callBeforeEscalating: [])
        #expect(
            throws: TandemError.validation([
                FieldError("escalation", "name at least one contact the help desk escalates to"),
                FieldError("callBeforeEscalating", "name whom to call, or leave it out to escalate without calling"),
            ])
        ) { try bad.validate() }
        let twice = SiteNotificationRule(escalation: [.init(contactId: owner), .init(contactId: owner)])
        #expect(throws: TandemError.validation([FieldError("escalation", "each contact appears once")])) { try twice.validate() }
    }

    @Test func templateValuesFromTheLoadedTicket() {
        let ticket = TicketFacts(id: UUID(), number: 1042, title: "VPN down", organizationId: UUID(), status: .waitingCustomer, priority: .high)
        let item = NotifiedItem(area: .notes, publishTo: .all, text: "Please reboot", authorName: "Tara")
        let values = TemplatePlaceholder.values(
            ticket: ticket, organizationName: "Northwind Traders", siteName: nil, contactName: "Alice", greetingCompany: " ", link: "https://h/t/1042",
            recipientName: "Alice", item: item)
        #expect(Set(values.keys) == Set(TemplatePlaceholder.allCases), "every placeholder has a value")
        #expect(values[.greetingCompany] == "Northwind Traders", "no greeting name: the organization's")
        #expect(values[.ticketStatus] == "Waiting customer")
        #expect(values[.site] == "")
        #expect(values[.noteText] == "Please reboot" && values[.noteAuthor] == "Tara")
        let rendered = NotificationTemplate.defaults[1].render(values)
        #expect(rendered.text.contains("Tara wrote on ticket #1042 (VPN down):\n\nPlease reboot"))
    }

    @Test func publishToByKindIsThePrincipalsReading() {
        for kind in PrincipalKind.allCases {
            let principal = Principal(id: UUID(), kind: kind, displayName: "x", securityLevelId: nil, permissions: .nothing)
            #expect(AccessPolicy.readablePublishTo(for: kind) == AccessPolicy.readablePublishTo(principal))
        }
        #expect(AccessPolicy.readablePublishTo(for: .contact) == [.all])
        #expect(AccessPolicy.readablePublishTo(for: .coManagingUser) == [.internalAndCoManaged, .all])
    }
}

import Foundation
import TandemCore
import Testing

/// Who is told, under the access policy, and what the templates say.
@Suite struct AutomationNotificationTests {
    let northwind = UUID(), contoso = UUID()
    let alice = UUID()

    var ticket: TicketFacts {
        TicketFacts(id: UUID(), number: 1042, title: "VPN down", organizationId: northwind, contactId: alice, coManagedVisible: true)
    }

    var technician: Principal {
        Principal(id: UUID(), kind: .resource, displayName: "Tara", securityLevelId: nil, permissions: SystemSecurityLevel.technician.permissions)
    }

    var coManager: Principal {
        Principal(
            id: UUID(), kind: .coManagingUser, displayName: "Carl", securityLevelId: nil, permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
            organizationId: northwind, contactId: UUID(), associatedOrganizationIds: [northwind], coManagementEnabled: true,
            coManagedOrganizationIds: [northwind])
    }

    var contact: Principal {
        Principal(id: alice, kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: alice)
    }

    func note(_ publishTo: PublishTo) -> NotifiedItem { NotifiedItem(area: .notes, id: UUID(), publishTo: publishTo, text: "n") }

    func told(_ publishTo: PublishTo, _ candidates: [NotificationCandidate], ticket: TicketFacts? = nil) -> [String] {
        NotificationAudience.recipients(of: .noteAdded, item: note(publishTo), ticket: ticket ?? self.ticket, candidates: candidates).map {
            $0.principal?.displayName ?? $0.email ?? ""
        }
    }

    // MARK: Recipients under the policy

    @Test func eachPublishToReachesItsAudienceOnly() {
        let everyone: [NotificationCandidate] = [
            .person(technician, email: "tara@msp.example"), .person(coManager, email: "carl@northwind.example"),
            .person(contact, email: "alice@northwind.example"),
        ]
        #expect(told(.internal, everyone) == ["Tara"], "an internal note never reaches a co-managing user or a contact")
        #expect(told(.internalAndCoManaged, everyone) == ["Tara", "Carl"], "internalAndCoManaged never a contact")
        #expect(told(.all, everyone) == ["Tara", "Carl", "Alice"])
    }

    @Test func nobodyHearsOfATicketTheyCannotSee() {
        var hidden = ticket
        hidden.coManagedVisible = false
        #expect(told(.all, [.person(coManager, email: nil)], ticket: hidden).isEmpty, "co-managed visibility off")
        var elsewhere = ticket
        elsewhere.organizationId = contoso
        elsewhere.contactId = UUID()
        #expect(told(.all, [.person(coManager, email: nil), .person(contact, email: nil)], ticket: elsewhere).isEmpty)
        var restricted = technician
        restricted.clientRestrictions = [contoso]
        #expect(told(.internal, [.person(restricted, email: nil)]).isEmpty, "client restrictions")
    }

    @Test func contactsAreNotToldOfAssignments() {
        let candidates: [NotificationCandidate] = [.person(technician, email: nil), .person(coManager, email: nil), .person(contact, email: nil)]
        let told = NotificationAudience.recipients(
            of: .ticketAssigned, data: DomainEventData(added: [UUID()], removed: []), item: nil, ticket: ticket, candidates: candidates)
        #expect(told.compactMap(\.principal?.displayName) == ["Tara", "Carl"])
        let acknowledged = NotificationAudience.recipients(of: .ticketCreated, item: nil, ticket: ticket, candidates: candidates)
        #expect(acknowledged.count == 3)
        let due = NotificationAudience.recipients(of: .ticketUpdated, item: nil, ticket: ticket, candidates: candidates)
        #expect(due.count == 3, "an update without fields is about the ticket as a whole")
    }

    @Test func explicitAddressesReadAsTheirAudience() {
        let msp = NotificationCandidate.address(ExplicitAddress(email: "noc@msp.example", audience: .resource))
        let clientIT = NotificationCandidate.address(ExplicitAddress(email: "it@northwind.example", audience: .coManagingUser))
        let outsider = NotificationCandidate.address(ExplicitAddress(email: "someone@example.com"))
        #expect(told(.internal, [msp, clientIT, outsider]) == ["noc@msp.example"])
        #expect(told(.internalAndCoManaged, [msp, clientIT, outsider]) == ["noc@msp.example", "it@northwind.example"])
        #expect(told(.all, [msp, clientIT, outsider]).count == 3)
    }

    @Test func eachPersonAndAddressOnce() {
        let tara = technician
        let candidates: [NotificationCandidate] = [
            .person(tara, email: "tara@msp.example"), .person(tara, email: "tara@msp.example"),
            .address(ExplicitAddress(email: "NOC@msp.example", audience: .resource)), .address(ExplicitAddress(email: "noc@msp.example", audience: .resource)),
        ]
        #expect(told(.internal, candidates) == ["Tara", "NOC@msp.example"])
    }

    /// The policy test: for notes of each publish-to, the people notified are, for each principal kind,
    /// those an independent reading of SPEC §3 says may see the note.
    @Test func notifiedEqualsWhoMaySeeOverRandomCases() {
        let universe = Universe()
        var g = SeededGenerator(seed: 16)
        for _ in 0..<400 {
            let principals = (0..<6).map { _ in universe.principal(&g) }
            let scope = universe.ticket(&g)
            let facts = TicketFacts(
                id: scope.values[.id]!!, title: "t", organizationId: scope.values[.organization]!!, contactId: scope.values[.contact] ?? nil,
                queueId: scope.values[.queue] ?? nil, teamId: scope.values[.team] ?? nil, assigneeIds: Array(scope.assigneeIds),
                coManagedVisible: scope.coManagedVisible)
            let candidates = principals.enumerated().map { index, principal in
                var unique = principal
                unique.id = UUID()
                unique.displayName = "\(index)"
                // Keep the ticket facts that depend on the id (assignment) true for the copy.
                if scope.assigneeIds.contains(principal.id) { unique.id = principal.id }
                return NotificationCandidate.person(unique, email: nil)
            }
            for publishTo in PublishTo.allCases {
                let notified = Set(
                    NotificationAudience.recipients(of: .noteAdded, item: note(publishTo), ticket: facts, candidates: candidates).map {
                        $0.principal!.displayName
                    })
                var seen: Set<String> = []
                let expected = Set(
                    candidates.compactMap { candidate -> String? in
                        let p = candidate.principal!
                        let readable: Set<PublishTo> =
                            switch p.kind {
                            case .resource: [.internal, .internalAndCoManaged, .all]
                            case .coManagingUser: [.internalAndCoManaged, .all]
                            case .contact: [.all]
                            }
                        let notesAllowed = p.kind == .contact || p.permissions[.notes] >= .view
                        let sees = ReferenceRules.canSeeTicket(p, facts.scopeFacts()) && readable.contains(publishTo) && notesAllowed
                        return sees && seen.insert(p.id.uuidString).inserted ? p.displayName : nil
                    })
                #expect(notified == expected, "publishTo \(publishTo)")
            }
        }
    }

    // MARK: Settings

    @Test func settingsDefaultToEmail() throws {
        let settings = NotificationSettings(channels: [.assignment: .sms, .ticketUpdated: DeliveryChannel.none])
        #expect(settings.channel(for: .assignment) == .sms)
        #expect(settings.channel(for: .ticketUpdated) == DeliveryChannel.none)
        #expect(settings.channel(for: .noteToContact) == .email)
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        #expect(json.contains("\"assignment\":\"sms\""))
    }

    // MARK: Templates

    let values: [TemplatePlaceholder: String] = [
        .ticketNumber: "1042", .ticketTitle: "<script>alert(1)</script> & more", .organization: "Northwind", .site: "Head office",
        .contactName: "Alice", .greetingCompany: "Acme IT", .link: "https://help.example/t/1042", .noteText: "Line one\nLine <b>two</b>",
        .noteAuthor: "Tara",
    ]

    @Test func rendersTextAndEscapedHTML() {
        let template = NotificationTemplate(
            kind: .noteToContact, subject: "[#{ticket.number}] {ticket.title}", body: "Hi {contact.name},\n{note.text}\n{{literal}}")
        let rendered = template.render(values)
        #expect(rendered.subject == "[#1042] <script>alert(1)</script> & more")
        #expect(rendered.text == "Hi Alice,\nLine one\nLine <b>two</b>\n{literal}")
        #expect(rendered.html.contains("Hi Alice,<br>\nLine one<br>\nLine &lt;b&gt;two&lt;/b&gt;<br>\n{literal}"))
        #expect(!rendered.html.contains("<b>"))
    }

    @Test func anAdministratorsHTMLKeepsItsMarkupButNotTheValues() {
        let template = NotificationTemplate(
            kind: .assignment, subject: "s", body: "b", htmlBody: "<p><b>{ticket.title}</b> at <a href=\"{link}\">{link}</a></p>")
        let html = template.render(values).html
        #expect(
            html == "<p><b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</b> at <a href=\"https://help.example/t/1042\">https://help.example/t/1042</a></p>")
        let quoted = NotificationTemplate(kind: .assignment, subject: "s", body: "b", htmlBody: "<a title=\"{note.author}\">")
        #expect(quoted.render([.noteAuthor: "\" onmouseover=\"x"]).html == "<a title=\"&quot; onmouseover=&quot;x\">")
    }

    @Test func aSubjectStaysOneLine() {
        let template = NotificationTemplate(kind: .assignment, subject: "{ticket.title}", body: "b")
        #expect(template.render([.ticketTitle: "Hi\r\nBcc: x@evil.example"]).subject == "Hi Bcc: x@evil.example")
    }

    @Test func unknownPlaceholdersAndStrayBracesAreRefusedOnSave() {
        let known = TemplatePlaceholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")
        #expect(
            throws: TandemError.validation([
                FieldError("subject", "unknown placeholder {ticket.secret}; known placeholders are \(known)"),
                FieldError("body", "a '{' is never closed; write {{ for a brace"),
            ])
        ) { try NotificationTemplate(kind: .assignment, subject: "{ticket.secret}", body: "Hello {contact.name").validate() }
        #expect(throws: TandemError.validation([FieldError("htmlBody", "a '}' closes nothing; write }} for a brace")])) {
            try NotificationTemplate(kind: .assignment, subject: "s", body: "b", htmlBody: "a } b").validate()
        }
        #expect(throws: TandemError.validation([FieldError("subject", "must be one line without control characters")])) {
            try NotificationTemplate(kind: .assignment, subject: "a\nb", body: "b").validate()
        }
    }

    @Test func theDefaultTemplatesAreValidAndCoverTheOutOfTheBoxKinds() {
        for template in NotificationTemplate.defaults { #expect(throws: Never.self) { try template.validate() } }
        #expect(Set(NotificationTemplate.defaults.map(\.kind)) == Set(NotificationKind.allCases), "every kind has a built-in template")
        #expect(NotificationKind.allCases.allSatisfy { NotificationTemplate.builtIn($0).kind == $0 })
        let defaultRuleKinds = Set(WorkflowRule.defaults.flatMap { $0.actions.notify.map(\.kind) })
        #expect(defaultRuleKinds.isSubset(of: Set(NotificationTemplate.defaults.map(\.kind))), "every default rule has its template")
        let acknowledgement = NotificationTemplate.defaults[0].render(values)
        #expect(acknowledgement.text.contains("Acme IT has received your request"))
    }
}

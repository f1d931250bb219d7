import Fluent
import Foundation
import TandemCore

/// Notifications the rules engine asks for (`PlannedNotification`, the default workflow rules' and
/// the administrators'): recipients resolved from their roles, kept only where the access policy
/// lets them read the event (`NotificationAudience`), each person's own channel, and one outbox
/// message per recipient, which the automation consumer writes with the rest of its answer.
enum NotificationFanOut {
    /// The ticket and what the templates and the policy read of it, loaded once per event.
    struct Context {
        let ticket: Ticket
        let facts: TicketFacts
        let item: NotifiedItem?
        let organizationName: String
        let siteName: String
        /// The site's greeting company name, when its help desk profile has one.
        let greetingCompany: String?
        let contact: Contact?

        static func load(_ ticketId: UUID, event: EventDTO, lookups: Lookups, on db: any Database) async throws -> Context? {
            // A ticket deleted since is not written about.
            guard let ticket = try await lookups.ticket(ticketId, on: db) else { return nil }
            let assignees = try await lookups.assignees(of: ticketId, on: db)
            var item: NotifiedItem?
            if event.type == DomainEventType.noteAdded.rawValue, let noteId = event.entityId {
                guard let note = try await lookups.note(noteId, on: db) else { return nil }
                item = NotifiedItem(
                    area: .notes, id: noteId, publishTo: PublishTo(rawValue: note.publishTo) ?? .internal, text: note.body, authorName: note.authorName)
            }
            if event.type == DomainEventType.timeEntryAdded.rawValue {
                item = NotifiedItem(area: .timeEntries, id: event.entityId, publishTo: event.publishTo.flatMap(PublishTo.init(rawValue:)) ?? .internal)
            }
            let organization = try await lookups.organization(ticket.organizationId, on: db)
            let site = try await lookups.site(ticket.siteId, on: db)
            let contact = try await lookups.contact(ticket.contactId, on: db)
            var facts = ticket.automationFacts(assignees: assignees)
            facts.siteHours = try await lookups.calendar(of: site, on: db)?.hours(at: db.now)
            if event.type == DomainEventType.ticketHandedOff.rawValue, let side = event.data?.to.flatMap(ResponsibleSide.init(rawValue:)) {
                facts.responsibleSide = side  // the side this handoff went to, though a later one may have moved it on
            }
            return Context(
                ticket: ticket, facts: facts, item: item, organizationName: organization?.name ?? "", siteName: site?.name ?? "",
                greetingCompany: site?.greetingCompanyName, contact: contact)
        }
    }

    /// The rows the events of one batch read: their tickets, assignees, notes and contacts in one
    /// query each (`prime`), and what events share (organizations, sites, calendars, the people
    /// told), each read once per batch.
    final class Lookups {
        private var tickets: [UUID: Ticket] = [:]
        private var assignees: [UUID: [UUID]] = [:]
        private var notes: [UUID: Note] = [:]
        private var contacts: [UUID: Contact?] = [:]
        private var organizations: [UUID: Organization?] = [:]
        private var sites: [UUID: Site?] = [:]
        private var calendars: [UUID: BusinessCalendar?] = [:]
        private var people: [UUID: Person?] = [:]
        /// The tickets `prime` read; another ticket is read when asked for.
        private var primed: Set<UUID> = []

        /// Reads what `events` will ask for, one query per kind of row.
        func prime(_ events: [EventDTO], on db: any Database) async throws {
            let ticketIds = Array(Set(events.compactMap(\.ticketId)))
            guard !ticketIds.isEmpty else { return }
            for ticket in try await Ticket.query(on: db).filter(\.$id ~~ ticketIds).all() { tickets[ticket.id!] = ticket }
            assignees = try await TicketService.assigneeIds(of: ticketIds, on: db)
            primed = Set(ticketIds)
            let noteIds = events.filter { $0.type == DomainEventType.noteAdded.rawValue }.compactMap(\.entityId)
            if !noteIds.isEmpty { for note in try await Note.query(on: db).filter(\.$id ~~ noteIds).all() { notes[note.id!] = note } }
            let contactIds = Array(Set(tickets.values.compactMap(\.contactId)))
            if !contactIds.isEmpty {
                for id in contactIds { contacts[id] = .some(nil) }
                for contact in try await Contact.query(on: db).filter(\.$id ~~ contactIds).all() { contacts[contact.id!] = contact }
            }
        }

        func ticket(_ id: UUID, on db: any Database) async throws -> Ticket? {
            if primed.contains(id) { return tickets[id] }
            return try await Ticket.find(id, on: db)
        }

        func assignees(of ticket: UUID, on db: any Database) async throws -> [UUID] {
            if primed.contains(ticket) { return assignees[ticket] ?? [] }
            return try await TicketService.assigneeIds(of: [ticket], on: db)[ticket] ?? []
        }

        func note(_ id: UUID, on db: any Database) async throws -> Note? {
            if let known = notes[id] { return known }
            return try await Note.find(id, on: db)
        }

        func contact(_ id: UUID?, on db: any Database) async throws -> Contact? {
            guard let id else { return nil }
            if let known = contacts[id] { return known }
            let found = try await Contact.find(id, on: db)
            contacts[id] = found
            return found
        }

        func person(_ id: UUID, on db: any Database) async throws -> Person? {
            if let known = people[id] { return known }
            let found = try await Person.load(id, on: db)
            people[id] = found
            return found
        }

        func organization(_ id: UUID, on db: any Database) async throws -> Organization? {
            if let known = organizations[id] { return known }
            let found = try await Organization.find(id, on: db)
            organizations[id] = found
            return found
        }

        func site(_ id: UUID?, on db: any Database) async throws -> Site? {
            guard let id else { return nil }
            if let known = sites[id] { return known }
            let found = try await Site.find(id, on: db)
            sites[id] = found
            return found
        }

        /// The site's internal location's calendar; nil without a location or with a time zone the system does not know.
        func calendar(of site: Site?, on db: any Database) async throws -> BusinessCalendar? {
            guard let locationId = site?.internalLocationId else { return nil }
            if let known = calendars[locationId] { return known }
            let found = try await InternalLocation.find(locationId, on: db).flatMap(\.calendar)
            calendars[locationId] = found
            return found
        }
    }

    /// The outbox messages of one planned notification (reads only; the caller writes them).
    static func messages(
        _ planned: PlannedNotification, event: EventDTO, context: Context, templates: [NotificationKind: NotificationTemplate], settings: AppSettings,
        lookups: Lookups, on db: any Database
    ) async throws -> [OutboxMessage] {
        let request = planned.request
        guard let template = templates[request.kind] else { return [] }
        var messages: [OutboxMessage] = []
        let item = planned.item ?? context.item
        var candidates: [(NotificationCandidate, mobile: String?)] = []
        // The one who made the change is not told of it, but for the acknowledgement of the ticket they opened.
        let skipped = request.kind.toldToWhoeverCausedIt ? nil : event.actorId
        for id in try await people(request, newAssignees: planned.newAssignees, context: context, on: db) where id != skipped {
            if let person = try await lookups.person(id, on: db) { candidates.append((.person(person.principal, email: person.email), person.mobile)) }
        }
        candidates += request.addresses.map { (.address($0), nil) }
        let allowed = NotificationAudience.recipients(
            of: NotificationAudience.eventType(of: request.kind, item: item), data: event.data ?? DomainEventData(), item: item, ticket: context.facts,
            candidates: candidates.map(\.0))
        let mobiles = Dictionary(
            candidates.compactMap { candidate in candidate.0.principal.map { ($0.id, candidate.mobile) } }, uniquingKeysWith: { a, _ in a })
        // Everyone's choices in one query.
        let ids = allowed.compactMap { $0.principal?.id }
        let preferences = Dictionary(
            uniqueKeysWithValues: ids.isEmpty ? [] : try await NotificationPreference.query(on: db).filter(\.$id ~~ ids).all().map { ($0.id!, $0.settings) })
        for recipient in allowed {
            let chosen = recipient.principal.flatMap { preferences[$0.id] }?.channel(for: request.kind)
            let address: (String, OutboxMessage.Channel)?
            switch chosen ?? .email {
            case .none: address = nil
            // Without a mobile number and gateway an SMS cannot go; the mail does.
            case .sms: address = (recipient.principal.flatMap { mobiles[$0.id] ?? nil }).map { ($0, .sms) } ?? recipient.email.map { ($0, .email) }
            case .email: address = recipient.email.map { ($0, .email) }
            }
            guard let (to, kind) = address, MailAddress.isValid(to) else { continue }
            let rendered = template.render(values(context, item: item, recipient: recipient, settings: settings))
            let id = UUID.v7()
            let from = settings.mailFrom
            let messageId = MailMessage.messageId(id, domain: settings.mailDomain)
            let mail = OutgoingMail(
                from: MailAddress(from, name: context.organizationName.isEmpty ? nil : "Help desk"), to: [MailAddress(to)], subject: rendered.subject,
                text: rendered.text, html: kind == .sms ? nil : rendered.html, messageId: messageId, date: db.now)
            let message = OutboxMessage(
                channel: kind, recipient: to, subject: rendered.subject, body: try MailMessage.build(mail), messageId: messageId, at: db.now)
            message.id = id
            message.eventPosition = event.position
            message.ticketId = context.ticket.id
            messages.append(message)
        }
        return messages
    }

    /// The people a request's roles and names stand for.
    private static func people(_ request: NotificationRequest, newAssignees: [UUID], context: Context, on db: any Database) async throws -> [UUID] {
        var ids: [UUID] = []
        for role in RecipientRole.allCases where request.roles.contains(role) {
            switch role {
            case .assignees: ids += context.facts.assigneeIds
            case .newAssignees: ids += newAssignees
            case .contact: ids += context.facts.contactId.map { [$0] } ?? []
            case .coManagingUsers: ids += try await TicketAccessAPI.coManagingUsers(of: context.facts.organizationId, on: db).compactMap(\.id)
            case .team:
                if let team = context.facts.teamId { ids += try await TeamMember.query(on: db).filter(\.$teamId == team).all().map(\.principalId) }
            case .queue:
                if let queue = context.facts.queueId { ids += try await QueueMember.query(on: db).filter(\.$queueId == queue).all().map(\.principalId) }
            }
        }
        return ids + request.people
    }

    private static func values(_ context: Context, item: NotifiedItem?, recipient: NotificationCandidate, settings: AppSettings) -> [TemplatePlaceholder:
        String]
    {
        let base = settings.options.publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
        let page = recipient.principal.map(AccessPolicy.readsTicketsInPortal) ?? true ? "portal/tickets" : "tickets"
        return TemplatePlaceholder.values(
            ticket: context.facts, organizationName: context.organizationName, siteName: context.siteName, contactName: context.contact?.fullName,
            greetingCompany: context.greetingCompany, link: "\(base)/\(page)/\(context.facts.id)", recipientName: recipient.principal?.displayName, item: item)
    }
}

/// Someone notifications may go to: the principal the policy asks about, and where they are reached.
struct Person {
    let principal: Principal
    let email: String?
    /// `<mobile digits>@<gateway>` when the person's profile has both.
    let mobile: String?

    static func load(_ id: UUID, on db: any Database) async throws -> Person? {
        if let resource = try await Resource.find(id, on: db) {
            guard resource.active, let principal = try await PrincipalLoader.load(id: id, kind: .resource, on: db) else { return nil }
            return Person(principal: principal, email: resource.email, mobile: nil)
        }
        if let user = try await CoManagingUser.find(id, on: db) {
            guard user.active, let principal = try await PrincipalLoader.principal(for: user, on: db) else { return nil }
            let contact = try await Contact.find(user.contactId, on: db)
            return Person(principal: principal, email: contact?.email, mobile: contact.flatMap(smsAddress))
        }
        if let contact = try await Contact.find(id, on: db), let principal = try await PrincipalLoader.load(id: id, kind: .contact, on: db) {
            return Person(principal: principal, email: contact.email, mobile: smsAddress(contact))
        }
        return nil
    }

    static func smsAddress(_ contact: Contact) -> String? {
        guard let gateway = contact.smsGateway, let mobile = contact.phones.first(where: { PhoneKind(rawValue: $0.kind) == .mobile })?.number else {
            return nil
        }
        return try? SMSAddress.make(mobile: mobile, gateway: gateway)
    }
}

extension Ticket {
    /// The ticket as the rules engine and the notifications read it.
    func automationFacts(assignees: [UUID]) -> TicketFacts {
        TicketFacts(
            id: id!, number: number, title: title, description: description, organizationId: organizationId, siteId: siteId, contactId: contactId,
            queueId: queueId, teamId: teamId, status: TicketStatus(rawValue: status) ?? .new, priority: TicketPriority(rawValue: priority) ?? .medium,
            source: SourceChannel(rawValue: source) ?? .portal, assigneeIds: assignees, coManagedVisible: coManagedVisible, dueAt: dueAt,
            responsibleSide: ResponsibleSide(rawValue: responsibleSide) ?? .msp)
    }
}

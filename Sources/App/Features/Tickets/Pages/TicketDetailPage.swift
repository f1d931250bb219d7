import Fluent
import Foundation
import TandemCore
import Vapor

/// `/tickets/:id`: the ticket as one conversation (`TicketTimeline`), one composer for replies and notes
/// with the audience of each choice, the time entry and attachment forms, and for those who may edit the
/// ticket its edit form (`TicketEditForm`).
enum TicketDetailPage {
    static let view = "tickets/detail"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var id: String
        var number: String
        var title: String
        var description: String
        var status: String
        var statusKey: String
        var priority: String
        var priorityKey: String
        var source: String
        var organization: Link
        var site: Link?
        var contact: String?
        var queue: String?
        var team: String?
        var assignees: String?
        var coManagedVisible: String?
        var due: String?
        var created: String
        var updated: String
        var timeline: TicketTimeline.Timeline
        var notice: String?
        var composer: Composer?
        /// The time entry and attachment forms, when the principal may add those items.
        var logTime: ItemForm?
        var attach: ItemForm?
        var edit: TicketEditForm.Model?
        /// The ticket actions the principal may run, one button each.
        var actions: Actions?
        /// Admins only: why a chosen principal can or cannot see this ticket.
        var explain: TicketAccessPanels.Explain?
        /// The site's notification rule, for whoever works the ticket: whom to call, whom to escalate to now.
        var whomToCall: WhomToCall?
        /// The ticket's security requests, for those whose level reads approvals.
        var securityRequests: SecurityRequestPanel.Model?
        /// The SLA clocks, who holds the ticket, and the handoff on a co-managed ticket.
        var sla: SLAPanel.Model?
    }

    struct Link: Encodable, Sendable {
        var name: String
        var url: String?
    }

    /// The one form for replies and notes: a choice per publish-to the policy allows the principal, each
    /// with who would read it.
    struct Composer: Encodable, Sendable {
        var body: String
        var choices: [Choice]
        /// The only choice, when there is nothing to choose (contacts): sent as a hidden field.
        var only: String?
        var feedback: FormFeedback?
    }

    struct Choice: Encodable, Sendable {
        var id: String
        var value: String
        var label: String
        var hint: String
        var checked: Bool
        /// Who would read it, per party (MSP, co-managed, contacts); nil when the principal is not shown the audience.
        var audience: [TicketAccessPanels.PartyCell]?
    }

    struct ItemForm: Encodable, Sendable {
        var publishOptions: [SelectOption]
        var roles: [SelectOption]
        var minutes: String
        var summary: String
        /// Time entries: the start and end (in the person's zone), and whether the time is billable.
        var startedAt = ""
        var endedAt = ""
        var billableOptions: [SelectOption] = []
        var feedback: FormFeedback?
        var open: Bool
    }

    /// The ticket actions offered to the principal, and why the last one was refused.
    struct Actions: Encodable, Sendable {
        var version: Int
        var buttons: [ActionButton]
        var feedback: FormFeedback?
    }

    struct ActionButton: Encodable, Sendable {
        var name: String
        var url: String
    }

    /// What a failed form leaves behind, so the page shows it again with the user's words.
    struct Draft: Sendable {
        var replyBody = ""
        var replyPublishTo: String?
        var replyFeedback: FormFeedback?
        var timeMinutes = ""
        var timeSummary = ""
        var timeStartedAt = ""
        var timeEndedAt = ""
        var timeBillable = ""
        var timeRoleId = ""
        var timeFeedback: FormFeedback?
        var attachmentFeedback: FormFeedback?
        var actionFeedback: FormFeedback?
        var editValues: TicketEditForm.Values?
        var editFeedback: FormFeedback?
        var editStale: TicketEditForm.Stale?
        var securityRequest: SecurityRequestPanel.Draft?
        var handoffFeedback: FormFeedback?
    }

    struct TimeEntryForm: Decodable, Sendable {
        var minutes: String?
        var summary: String?
        var roleId: String?
        var publishTo: String?
        /// `datetime-local` values, read in the person's zone like the due date (`PageZone`).
        var startedAt: String?
        var endedAt: String?
        /// `true`, `false`, or empty: billable when a role is chosen.
        var billable: String?

        /// The form as it was, to show again with its problems.
        func draft(_ feedback: FormFeedback) -> Draft {
            Draft(
                timeMinutes: minutes ?? "", timeSummary: summary ?? "", timeStartedAt: startedAt ?? "", timeEndedAt: endedAt ?? "",
                timeBillable: billable ?? "", timeRoleId: roleId ?? "", timeFeedback: feedback)
        }

        /// The API's body; a field that cannot be read is a problem named by its field.
        func input(in zone: PageZone) throws -> TimeEntryInput {
            var validator = FieldValidator()
            var input = TimeEntryInput()
            if let text = minutes.map(Whitespace.trim), !text.isEmpty {
                if let minutes = Int(text) { input.minutes = .value(minutes) } else { validator.fail("minutes", "must be a whole number of minutes") }
            }
            for (field, text) in [("startedAt", startedAt), ("endedAt", endedAt)] {
                guard let text = text.map(Whitespace.trim), !text.isEmpty else { continue }
                guard let date = zone.parseField(text) else {
                    validator.fail(field, "'\(text)' is not a date and time (YYYY-MM-DDTHH:MM, \(zone.name))")
                    continue
                }
                if field == "startedAt" { input.startedAt = .value(date) } else { input.endedAt = .value(date) }
            }
            switch billable {
            case "true": input.billable = .value(true)
            case "false": input.billable = .value(false)
            case nil, "": break
            case let other?: validator.fail("billable", "'\(other)' is not true or false")
            }
            try validator.check()
            input.summary = summary.map { .value($0) } ?? .absent
            input.roleId = roleId.flatMap { $0.isEmpty ? nil : Patch.value($0) } ?? .absent
            input.publishTo = publishTo.flatMap { $0.isEmpty ? nil : Patch.value($0) } ?? .absent
            return input
        }
    }

    struct AttachmentForm: Decodable, Sendable {
        var file: File?
        var publishTo: String?
    }

    struct NoteForm: Decodable, Sendable {
        var body: String?
        var publishTo: String?
    }

    struct ActionForm: Decodable, Sendable {
        var version: String?
    }

    static let notices = [
        "note": "Your note was added.",
        "time": "Your time entry was added.",
        "attachment": "The file was attached.",
        "saved": "The ticket was saved.",
        "unchanged": "Nothing was changed.",
        "created": "The ticket was created.",
        "action": "The action was run.",
        "securityRequest": "The security request was opened.",
        "securityRequestStep": "The security request was updated.",
        "handedOff": "The ticket was handed over.",
    ]

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let notice = req.queryText("notice").flatMap { notices[$0] }
        return try await render(req, id: id, draft: Draft(), notice: notice)
    }

    @Sendable static func addNote(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let form = try req.content.decode(NoteForm.self)
        var input = NoteInput()
        input.body = form.body.map { .value($0) } ?? .absent
        input.publishTo = form.publishTo.flatMap { $0.isEmpty ? nil : Patch.value($0) } ?? .absent
        do {
            let note = try await TicketItemWrites.createNote(ticketId: id, input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "note")]) + "#note-\(note.id.lowercased())")
        } catch let error as TandemError where error.isFormProblem {
            let draft = Draft(replyBody: form.body ?? "", replyPublishTo: form.publishTo, replyFeedback: FormFeedback(error))
            return try await render(req, id: id, draft: draft, status: error.pageStatus)
        }
    }

    @Sendable static func addTimeEntry(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let form = try req.content.decode(TimeEntryForm.self)
        do {
            let entry = try await TicketItemWrites.createTimeEntry(ticketId: id, try form.input(in: req.pageZone), by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "time")]) + "#time-\(entry.id.lowercased())")
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, id: id, draft: form.draft(FormFeedback(error)), status: error.pageStatus)
        }
    }

    @Sendable static func addAttachment(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let form = try req.content.decode(AttachmentForm.self)
        var input = AttachmentInput()
        if let file = form.file, file.data.readableBytes > 0 {
            input.filename = .value(file.filename)
            input.contentType = .value(file.contentType.map { "\($0.type)/\($0.subType)" } ?? "application/octet-stream")
            input.content = .value(Data(buffer: file.data).base64EncodedString())
        }
        input.publishTo = form.publishTo.flatMap { $0.isEmpty ? nil : Patch.value($0) } ?? .absent
        do {
            let attachment = try await TicketItemWrites.createAttachment(ticketId: id, input, by: req.principal, on: req.db, blobs: req.settings.blobs)
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "attachment")]) + "#attachment-\(attachment.id.lowercased())")
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, id: id, draft: Draft(attachmentFeedback: FormFeedback(error)), status: error.pageStatus)
        }
    }

    /// The edit form, through the API's PATCH with the form's version; a stale or refused form comes back with the user's input.
    @Sendable static func edit(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let form = try req.content.decode(TicketEditForm.Form.self)
        switch try await TicketEditForm.submit(id, form, by: req.principal, zone: req.pageZone, on: req.db) {
        case .saved:
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "saved")]))
        case .unchanged:
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "unchanged")]))
        case .refused(let values, let feedback, let stale, let status):
            return try await render(req, id: id, draft: Draft(editValues: values, editFeedback: feedback, editStale: stale), status: status)
        }
    }

    /// Runs a ticket action through the same function as the API; a refusal is shown beside the buttons.
    @Sendable static func runAction(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let actionId = try req.id("actionId", "ticket action")
        let form = try req.content.decode(ActionForm.self)
        do {
            // The version the page was rendered with: a stale page changes nothing.
            _ = try await AutomationAPI.run(
                actionId: actionId, on: id, by: req.principal, ifMatch: form.version.flatMap { $0.isEmpty ? nil : "\"\($0)\"" }, on: req.db)
            return req.seeOther(PageURL.with(PageURL.ticket(id).path, query: [("notice", "action")]))
        } catch TandemError.preconditionFailed {
            let feedback = FormFeedback(
                message: "This ticket changed since you loaded it. The page now shows the latest version; check it and run the action again.")
            return try await render(req, id: id, draft: Draft(actionFeedback: feedback), status: .conflict)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, id: id, draft: Draft(actionFeedback: FormFeedback(error)), status: error.pageStatus)
        }
    }

    static func render(_ req: Request, id: UUID, draft: Draft, notice: String? = nil, status: HTTPStatus = .ok) async throws -> Response {
        var model = try await query(
            id, principal: req.principal, layout: req.pageLayout("Ticket"), draft: draft,
            explain: req.queryText("explain"), on: req.db)
        model.layout.title = "\(model.number) \(model.title)"
        model.notice = notice
        return try await req.renderPage(view, model, status: status)
    }

    // MARK: Query

    static func query(_ id: UUID, principal: Principal, layout: PageLayout, draft: Draft, explain: String? = nil, on db: any Database) async throws -> Model {
        let ticket = try await TicketService.get(id, by: principal, on: db)
        let refs = try await Names.load(for: ticket, principal: principal, on: db)
        let fields = AccessPolicy.visibleTicketFields(for: principal.kind)
        let zone = layout.zone
        return Model(
            layout: layout, id: ticket.id, number: "#\(ticket.number)", title: ticket.title, description: ticket.description,
            status: PageFormat.status(ticket.status), statusKey: ticket.status,
            priority: PageFormat.priority(ticket.priority), priorityKey: ticket.priority, source: PageFormat.source(ticket.source),
            organization: refs.organization, site: refs.site, contact: refs.contact, queue: refs.queue, team: refs.team,
            assignees: refs.assignees.map { $0.isEmpty ? "Unassigned" : $0.joined(separator: ", ") },
            coManagedVisible: fields.contains(.coManagedVisible) ? (ticket.coManagedVisible ? "Yes" : "No") : nil,
            due: fields.contains(.dueAt) ? ticket.dueAt.map { PageFormat.date($0, in: zone) } : nil,
            created: PageFormat.date(ticket.createdAt, in: zone), updated: PageFormat.date(ticket.updatedAt ?? ticket.createdAt, in: zone),
            timeline: try await TicketTimeline.load(ticket, by: principal, zone: zone, on: db),
            notice: nil,
            composer: try await composer(for: principal, ticketId: id, draft: draft, on: db),
            logTime: try await itemForm(.timeEntries, for: principal, draft: draft, on: db),
            attach: try await itemForm(.attachments, for: principal, draft: draft, on: db),
            edit: try await TicketEditForm.model(
                for: ticket, values: draft.editValues, feedback: draft.editFeedback, stale: draft.editStale, principal: principal, zone: zone, on: db),
            actions: try await actions(for: principal, ticket: ticket, draft: draft, on: db),
            explain: try await TicketAccessPanels.explain(ticket: ticket, subject: explain, viewer: principal, on: db),
            whomToCall: try await WhomToCall.load(siteId: ticket.siteId.flatMap(UUID.init(uuidString:)), for: principal, on: db),
            securityRequests: try await SecurityRequestPanel.model(
                for: ticket, principal: principal, csrf: layout.csrf, draft: draft.securityRequest, zone: zone, on: db),
            sla: try await SLAPanel.model(ticket, principal: principal, csrf: layout.csrf, feedback: draft.handoffFeedback, zone: zone, on: db))
    }

    /// The publish-to values the policy lets the principal give an item.
    static func allowedPublishTo(for principal: Principal) -> [PublishTo] {
        PublishTo.allCases.filter { (try? AccessPolicy.publishTo(for: principal, requested: $0)) != nil }
    }

    /// The composer, when the principal may add notes: one choice per publish-to the policy accepts, widest
    /// last, each with its audience for those who may preview it (the API's audience preview).
    static func composer(for principal: Principal, ticketId: UUID, draft: Draft, on db: any Database) async throws -> Composer? {
        guard AccessPolicy.ticketItemScope(for: principal, area: .notes, .create) != .none else { return nil }
        let allowed = allowedPublishTo(for: principal)
        let preferred = draft.replyPublishTo.flatMap(PublishTo.init(rawValue:)) ?? (try? AccessPolicy.publishTo(for: principal, requested: nil))
        var audience: [String: [TicketAccessPanels.PartyCell]] = [:]
        if AccessPolicy.worksTickets(principal), (try? AccessPolicy.authorizeAudiencePreview(principal)) != nil {
            let options = allowed.map { SelectOption(value: $0.rawValue, label: "", selected: false) }
            for row in try await TicketAccessPanels.audience(ticketId: ticketId, options: options, viewer: principal, on: db).rows {
                audience[row.publishKey] = row.parties
            }
        }
        let choices = allowed.map { value in
            Choice(
                id: "compose-\(value.rawValue)", value: value.rawValue, label: composerLabel(value), hint: PageFormat.publishToHelp(value),
                checked: value == preferred, audience: audience[value.rawValue])
        }
        return Composer(body: draft.replyBody, choices: choices, only: allowed.count == 1 ? allowed[0].rawValue : nil, feedback: draft.replyFeedback)
    }

    static func composerLabel(_ value: PublishTo) -> String {
        switch value {
        case .internal: "Internal note"
        case .internalAndCoManaged: "Co-managed note"
        case .all: "Reply to contact"
        }
    }

    /// The time entry or attachment form, when the policy lets the principal add that kind of item.
    static func itemForm(_ area: Area, for principal: Principal, draft: Draft, on db: any Database) async throws -> ItemForm? {
        guard AccessPolicy.worksTickets(principal), AccessPolicy.ticketItemScope(for: principal, area: area, .create) != .none else { return nil }
        let preferred = try? AccessPolicy.publishTo(for: principal, requested: nil)
        var roles: [SelectOption] = []
        if area == .timeEntries, AccessPolicy.configurationScope(for: principal, .roles, .view) != .none {
            roles = try await Role.query(on: db).sort(\.$name).all().map {
                SelectOption(value: $0.id!.uuidString, label: $0.name, selected: $0.id!.uuidString == draft.timeRoleId)
            }
        }
        let feedback = area == .timeEntries ? draft.timeFeedback : draft.attachmentFeedback
        let billable = [("", "When a role is chosen"), ("true", "Billable"), ("false", "Not billable")].map {
            SelectOption(value: $0.0, label: $0.1, selected: $0.0 == draft.timeBillable)
        }
        return ItemForm(
            publishOptions: allowedPublishTo(for: principal).map {
                SelectOption(value: $0.rawValue, label: PageFormat.publishToHelp($0), selected: $0 == preferred)
            },
            roles: roles, minutes: draft.timeMinutes, summary: draft.timeSummary, startedAt: draft.timeStartedAt, endedAt: draft.timeEndedAt,
            billableOptions: area == .timeEntries ? billable : [], feedback: feedback, open: feedback != nil)
    }

    /// The action buttons: the actions the principal may run (as the API lists them); nil when there are none to show.
    static func actions(for principal: Principal, ticket: TicketDTO, draft: Draft, on db: any Database) async throws -> Actions? {
        guard let id = UUID(uuidString: ticket.id) else { return nil }
        let offered = try await AutomationAPI.offered(on: id, to: principal, on: db)
        guard !offered.isEmpty || draft.actionFeedback != nil else { return nil }
        return Actions(
            version: ticket.version, buttons: offered.map { ActionButton(name: $0.name, url: PageRoutes.ticketAction.url(id, $0.id)) },
            feedback: draft.actionFeedback)
    }

    /// Names of the rows a ticket points at; each shown only where the policy lets the principal see that kind of row.
    struct Names {
        var organization: Link
        var site: Link?
        var contact: String?
        var queue: String?
        var team: String?
        var assignees: [String]?

        static func load(for ticket: TicketDTO, principal: Principal, on db: any Database) async throws -> Names {
            let organizationId = UUID(uuidString: ticket.organizationId)!
            let organization = try await Organization.find(organizationId, on: db)
            let organizationLink =
                AccessPolicy.organizationScope(for: principal, area: .organizations, .view)
                    .evaluate(ScopeFacts(values: [.id: organizationId, .organization: organizationId])) ? PageURL.organization(organizationId).path : nil

            var site: Link?
            if let siteId = ticket.siteId.flatMap(UUID.init(uuidString:)), let row = try await Site.find(siteId, on: db),
                AccessPolicy.organizationScope(for: principal, area: .sites, .view).evaluate(
                    ScopeFacts(values: [.id: siteId, .organization: row.organizationId, .site: siteId]))
            {
                site = Link(name: row.name, url: PageURL.site(siteId).path)
            }
            var contact: String?
            if let contactId = ticket.contactId.flatMap(UUID.init(uuidString:)), let row = try await Contact.find(contactId, on: db),
                AccessPolicy.organizationScope(for: principal, area: .contacts, .view).evaluate(
                    ScopeFacts(values: [.id: contactId, .organization: row.organizationId, .site: row.siteId]))
            {
                contact = [row.fullName, row.email].compactMap { $0 }.joined(separator: " · ")
            }
            let queue = try await PageNames.of(
                Queue.self, ids: [ticket.queueId].compactMap { $0.flatMap(UUID.init(uuidString:)) },
                allowed: AccessPolicy.configurationScope(for: principal, .queues, .view) != .none, on: db
            ) { $0.name }.values.first
            let team = try await PageNames.of(
                Team.self, ids: [ticket.teamId].compactMap { $0.flatMap(UUID.init(uuidString:)) },
                allowed: AccessPolicy.configurationScope(for: principal, .teams, .view) != .none, on: db
            ) { $0.name }.values.first
            var assignees: [String]?
            // The people the principal may see among them (co-managing users too); the others go unnamed.
            if AccessPolicy.visibleTicketFields(for: principal.kind).contains(.assigneeIds) {
                let ids = ticket.assigneeIds.compactMap(UUID.init(uuidString:))
                let found = try await PersonNames.of(ids, visibleTo: principal, on: db)
                assignees = ids.compactMap { found[$0] }
                if assignees!.count < ids.count { assignees!.append("\(ids.count - assignees!.count) not shown to you") }
            }
            return Names(
                organization: Link(name: organization?.name ?? "", url: organizationLink), site: site, contact: contact,
                queue: queue, team: team, assignees: assignees)
        }
    }

}

extension TandemError {
    /// Errors a form shows next to its fields; the rest become an error page.
    var isFormProblem: Bool {
        switch self {
        case .validation, .forbidden, .conflict, .badRequest, .payloadTooLarge, .unsupportedMediaType: true
        default: false
        }
    }

    var pageStatus: HTTPStatus {
        switch self {
        case .validation: .unprocessableEntity
        case .forbidden: .forbidden
        case .conflict: .conflict
        case .payloadTooLarge: .payloadTooLarge
        default: .badRequest
        }
    }
}

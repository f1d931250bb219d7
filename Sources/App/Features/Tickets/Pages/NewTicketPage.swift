import Fluent
import Foundation
import TandemCore
import Vapor

/// `/tickets/new`: opens a ticket through `TicketService.create`, offering only what the principal can see.
enum NewTicketPage {
    static let view = "tickets/new"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var form: Form
        /// Nil until an organization is chosen (step one).
        var organization: SelectOption?
        var organizationOptions: [SelectOption]
        var siteOptions: [SelectOption]
        var contactOptions: [SelectOption]?
        var queueOptions: [SelectOption]?
        var priorityOptions: [SelectOption]
        var sourceOptions: [SelectOption]?
        var feedback: FormFeedback?
    }

    /// The form as posted; every field is optional text so a partial post still shows the form again.
    struct Form: Codable, Sendable {
        var organizationId: String?
        var title: String?
        var description: String?
        var priority: String?
        var siteId: String?
        var contactId: String?
        var queueId: String?
        var source: String?
    }

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        let form = Form(
            organizationId: req.queryText("organizationId"), priority: TicketPriority.medium.rawValue,
            siteId: req.queryText("siteId"), contactId: req.queryText("contactId"), source: SourceChannel.phone.rawValue)
        let model = try await query(form, feedback: nil, principal: req.principal, layout: req.pageLayout("New ticket", section: "new"), on: req.db)
        return try await req.renderPage(view, model)
    }

    @Sendable static func submit(_ req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        let principal = try req.principal
        do {
            let ticket = try await TicketService.create(input(from: form, by: principal), by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.ticket.url(ticket.id), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            let model = try await query(
                form, feedback: FormFeedback(error), principal: principal, layout: req.pageLayout("New ticket", section: "new"), on: req.db)
            return try await req.renderPage(view, model, status: error.pageStatus)
        }
    }

    /// The service's input; empty selects mean "none", and contacts leave the staff-only fields out.
    static func input(from form: Form, by principal: Principal) -> TicketInput {
        func value(_ text: String?) -> Patch<String> {
            guard let text, !text.isEmpty else { return .absent }
            return .value(text)
        }
        var input = TicketInput()
        input.organizationId = form.organizationId.map { .value($0) } ?? .absent
        input.title = form.title.map { .value($0) } ?? .absent
        input.description = value(form.description)
        input.priority = value(form.priority)
        input.siteId = value(form.siteId)
        if AccessPolicy.worksTickets(principal) {
            input.contactId = value(form.contactId)
            input.queueId = value(form.queueId)
            input.source = value(form.source)
        }
        return input
    }

    // MARK: Query

    /// Two steps without JavaScript: choose the organization, then fill in the ticket with that
    /// organization's sites and contacts.
    static func query(_ form: Form, feedback: FormFeedback?, principal: Principal, layout: PageLayout, on db: any Database) async throws -> Model {
        // Organizations the principal can see, kept only where the policy lets it open tickets.
        let organizations = try await PageOptions.organizations(
            for: principal, area: .organizations, selected: form.organizationId ?? "", anyLabel: nil, on: db
        )
        .filter { option in UUID(uuidString: option.value).map { (try? AccessPolicy.authorizeTicketCreation(principal, organizationId: $0)) != nil } ?? false }
        let chosen = organizations.count == 1 ? organizations[0] : organizations.first { $0.selected }
        var form = form
        form.organizationId = chosen?.value
        guard let chosen, let organizationId = UUID(uuidString: chosen.value) else {
            return Model(
                layout: layout, form: form, organization: nil,
                organizationOptions: [SelectOption(value: "", label: "Choose an organization", selected: true)] + organizations,
                siteOptions: [], contactOptions: nil, queueOptions: nil, priorityOptions: [], sourceOptions: nil, feedback: feedback)
        }

        let siteScope = AccessPolicy.organizationScope(for: principal, area: .sites, .view)
        let sites =
            siteScope == .none
            ? []
            : try await Site.query(on: db).filter(siteScope, on: Site.scopeTable)
                .filter(\.$organizationId == organizationId).sort(\.$name).limit(PageOptions.maxOptions).all()
        let staff = AccessPolicy.worksTickets(principal)
        var contactOptions: [SelectOption]?
        if staff {
            let contactScope = AccessPolicy.organizationScope(for: principal, area: .contacts, .view)
            let contacts =
                contactScope == .none
                ? []
                : try await Contact.query(on: db).filter(contactScope, on: Contact.scopeTable)
                    .filter(\.$organizationId == organizationId).sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
            contactOptions =
                [SelectOption(value: "", label: "No contact", selected: (form.contactId ?? "").isEmpty)]
                + contacts.map {
                    SelectOption(
                        value: $0.id!.uuidString, label: "\($0.lastName), \($0.firstName)" + ($0.email.map { " (\($0))" } ?? ""),
                        selected: PageOptions.sameId($0.id, form.contactId ?? ""))
                }
        }
        let queues = staff ? try await PageOptions.queues(for: principal, selected: form.queueId ?? "", anyLabel: "No queue", on: db) : []
        return Model(
            layout: layout, form: form, organization: chosen,
            organizationOptions: organizations.count > 1 ? organizations : [],
            siteOptions: [SelectOption(value: "", label: "No site", selected: (form.siteId ?? "").isEmpty)]
                + sites.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, form.siteId ?? "")) },
            contactOptions: contactOptions,
            queueOptions: queues.isEmpty ? nil : queues,
            priorityOptions: TicketPriority.allCases.map {
                SelectOption(
                    value: $0.rawValue, label: PageFormat.priority($0.rawValue), selected: $0.rawValue == (form.priority ?? TicketPriority.medium.rawValue))
            },
            sourceOptions: staff
                ? SourceChannel.allCases.filter { $0 != .api && $0 != .portal }.map {
                    SelectOption(
                        value: $0.rawValue, label: PageFormat.source($0.rawValue), selected: $0.rawValue == (form.source ?? SourceChannel.phone.rawValue))
                } : nil,
            feedback: feedback)
    }
}

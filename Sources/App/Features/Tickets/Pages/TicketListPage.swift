import Fluent
import Foundation
import TandemCore
import Vapor

/// `/tickets`: the tickets the principal can see, with filters, a total and cursor paging.
enum TicketListPage {
    static let view = "tickets/list"
    static let pageSize = 25

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tickets: [TicketRow]
        var total: String
        var statusOptions: [SelectOption]
        var organizationOptions: [SelectOption]
        var queueOptions: [SelectOption]
        var q: String
        var isFiltered: Bool
        var nextURL: String?
        var firstURL: String?
        var feedback: FormFeedback?
    }

    /// The filters as the GET form sends them; every field is optional text.
    struct Query: Sendable {
        var status = ""
        var organizationId = ""
        var queueId = ""
        var q = ""
        var cursor = ""

        init(_ req: Request) {
            func text(_ name: String) -> String { (req.queryText(name) ?? "").trimmingCharacters(in: .whitespaces) }
            status = text("status")
            organizationId = text("organizationId")
            queueId = text("queueId")
            q = text("q")
            cursor = text("cursor")
        }

        /// The link to this list with these filters and `cursor`.
        func url(cursor: String?) -> String {
            PageURL.with(
                PageURL.tickets.path, query: [("status", status), ("organizationId", organizationId), ("queueId", queueId), ("q", q), ("cursor", cursor)])
        }
    }

    // MARK: Handler

    @Sendable static func show(_ req: Request) async throws -> Response {
        let model = try await query(Query(req), principal: req.principal, layout: req.pageLayout("Tickets", section: "tickets"), on: req.db)
        return try await req.renderPage(view, model)
    }

    // MARK: Query

    static func query(_ input: Query, principal: Principal, layout: PageLayout, on db: any Database) async throws -> Model {
        var problems: [String] = []
        var filter = TicketFilter()
        switch input.status {
        case "": break
        case "open": filter.statuses = TicketStatus.allCases.filter(\.isOpen)
        default:
            if let status = TicketStatus(rawValue: input.status) {
                filter.statuses = [status]
            } else {
                problems.append("That status filter is not known; showing every status.")
            }
        }
        if !input.organizationId.isEmpty {
            if let id = UUID(uuidString: input.organizationId) {
                filter.organizationId = id
            } else {
                problems.append("That organization filter is not valid; showing every organization.")
            }
        }
        if !input.queueId.isEmpty {
            if let id = UUID(uuidString: input.queueId) { filter.queueId = id } else { problems.append("That queue filter is not valid; showing every queue.") }
        }
        if !input.q.isEmpty { filter.text = String(input.q.prefix(200)) }

        var page = PageRequest(limit: pageSize)
        if !input.cursor.isEmpty {
            if let data = Data(base64URLEncoded: input.cursor), let after = String(data: data, encoding: .utf8) { page.after = after }
        }
        let result: ListPage<TicketDTO>
        do {
            result = try await TicketService.list(filter, page: page, by: principal, on: db)
        } catch TandemError.validation {
            problems.append("That page link is no longer valid; showing the first page.")
            page.after = nil
            result = try await TicketService.list(filter, page: page, by: principal, on: db)
        }
        let total = try await TicketService.count(filter, by: principal, on: db)

        return Model(
            layout: layout,
            tickets: try await TicketRow.rows(result.items, on: db),
            total: total == 1 ? "1 ticket" : "\(total) tickets",
            statusOptions: statusOptions(selected: input.status),
            organizationOptions: try await PageOptions.organizations(for: principal, area: .organizations, selected: input.organizationId, on: db),
            queueOptions: try await PageOptions.queues(for: principal, selected: input.queueId, on: db),
            q: input.q,
            isFiltered: filter.organizationId != nil || filter.queueId != nil || filter.text != nil || !filter.statuses.isEmpty,
            nextURL: result.nextCursor.map { input.url(cursor: $0) },
            firstURL: page.after == nil ? nil : input.url(cursor: nil),
            feedback: problems.isEmpty ? nil : FormFeedback(summary: problems, fields: [:]))
    }

    static func statusOptions(selected: String) -> [SelectOption] {
        [
            SelectOption(value: "", label: "Any status", selected: selected.isEmpty),
            SelectOption(value: "open", label: "Open (not resolved or closed)", selected: selected == "open"),
        ]
            + TicketStatus.allCases.map { SelectOption(value: $0.rawValue, label: $0.label, selected: selected == $0.rawValue) }
    }
}

/// Choices for the pages' selects, each limited by the access policy.
enum PageOptions {
    static let maxOptions = 500

    /// Organizations the principal can see in `area`, by name, with "Any organization" first.
    static func organizations(for principal: Principal, area: Area, selected: String, anyLabel: String? = "Any organization", on db: any Database) async throws
        -> [SelectOption]
    {
        let scope = AccessPolicy.organizationScope(for: principal, area: area, .view)
        let rows =
            scope == .none
            ? []
            : try await Organization.query(on: db).filter(scope, on: Organization.scopeTable)
                .sort(\.$name).limit(maxOptions).all()
        let options = rows.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: sameId($0.id, selected)) }
        return anyLabel.map { [SelectOption(value: "", label: $0, selected: selected.isEmpty)] + options } ?? options
    }

    /// Queues, when the principal's level lets it see them.
    static func queues(for principal: Principal, selected: String, anyLabel: String = "Any queue", on db: any Database) async throws -> [SelectOption] {
        guard AccessPolicy.configurationScope(for: principal, .queues, .view) != .none else { return [] }
        let rows = try await Queue.query(on: db).sort(\.$name).limit(maxOptions).all()
        return [SelectOption(value: "", label: anyLabel, selected: selected.isEmpty)]
            + rows.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: sameId($0.id, selected)) }
    }

    static func sameId(_ id: UUID?, _ text: String) -> Bool {
        guard let id, let other = UUID(uuidString: text) else { return false }
        return id == other
    }
}

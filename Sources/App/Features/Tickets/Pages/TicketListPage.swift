import Fluent
import Foundation
import TandemCore
import Vapor

/// `/tickets`: the tickets the principal can see, with filters, sort, counts per status, the saved
/// filters and cursor paging. Everything goes through `TicketService`'s list and counts, the query
/// `GET /api/v1/tickets` answers with, so the page shows what the API would.
enum TicketListPage {
    static let view = "tickets/list"
    static let pageSize = 25

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tickets: [TicketListRow]
        var total: String
        var statusOptions: [SelectOption]
        var organizationOptions: [SelectOption]
        var queueOptions: [SelectOption]
        /// Which side holds the ticket: the MSP or the client's IT (SPEC §13's handoff).
        var sideOptions: [SelectOption]
        var q: String
        var isFiltered: Bool
        /// Whether "assigned to me" is offered (those who can be assigned tickets), and on.
        var offersMine: Bool
        var mine: Bool
        var showAssignees: Bool
        var columns: [SortColumn]
        var sort: String
        var statusCounts: [StatusCount]
        var savedFilters: [SavedFilterLink]
        var nextURL: String?
        var firstURL: String?
        var feedback: FormFeedback?
    }

    /// A row of the list: `TicketRow` and the assignees (when the principal is shown them) and due date.
    struct TicketListRow: Encodable, Sendable {
        var row: TicketRow
        var assignees: String
        var due: String
        var dueISO: String
        var overdue: Bool
    }

    /// A sortable column's header: its link sorts by it (or turns the order around when it already does).
    struct SortColumn: Encodable, Sendable {
        var key: String
        var label: String
        var sortable = true
        var url: String
        /// `ascending`, `descending` or `none`, for `aria-sort`.
        var ariaSort: String
        var arrow: String
    }

    struct StatusCount: Encodable, Sendable {
        var label: String
        var count: Int
        var url: String
        var current: Bool
    }

    struct SavedFilterLink: Encodable, Sendable {
        var name: String
        var url: String
        var shared: Bool
    }

    /// The filters as the GET form sends them; every field is optional text.
    struct Query: Sendable {
        var status = ""
        var organizationId = ""
        var queueId = ""
        var assigneeId = ""
        var responsibleSide = ""
        var mine = false
        var q = ""
        var sort = ""
        var cursor = ""

        init(_ req: Request) {
            self.init { (req.queryText($0) ?? "").trimmingCharacters(in: .whitespaces) }
        }

        /// From any source of query values by name (a request, or a saved filter's query string).
        init(_ text: (String) -> String) {
            status = text("status")
            organizationId = text("organizationId")
            queueId = text("queueId")
            assigneeId = text("assigneeId")
            responsibleSide = text("responsibleSide")
            mine = !text("mine").isEmpty
            q = text("q")
            sort = text("sort")
            cursor = text("cursor")
        }

        /// The link to this list with these filters and `cursor`.
        func url(cursor: String? = nil, status: String? = nil, sort: String? = nil) -> String {
            PageURL.with(
                PageURL.tickets.path,
                query: [
                    ("status", status ?? self.status), ("organizationId", organizationId), ("queueId", queueId), ("assigneeId", assigneeId),
                    ("responsibleSide", responsibleSide), ("mine", mine ? "1" : nil), ("q", q), ("sort", sort ?? self.sort), ("cursor", cursor),
                ])
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
            // One status, or a saved filter's comma-separated list.
            let statuses = input.status.split(separator: ",").map { TicketStatus(rawValue: String($0)) }
            if statuses.allSatisfy({ $0 != nil }) {
                filter.statuses = statuses.compactMap { $0 }
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
        let offersMine = AccessPolicy.worksTickets(principal)
        if input.mine, offersMine {
            filter.assigneeId = principal.id
        } else if !input.assigneeId.isEmpty {
            if let id = UUID(uuidString: input.assigneeId) {
                filter.assigneeId = id
            } else {
                problems.append("That assignee filter is not valid; showing every assignee.")
            }
        }
        if !input.responsibleSide.isEmpty {
            if let side = ResponsibleSide(rawValue: input.responsibleSide) {
                filter.responsibleSide = side
            } else {
                problems.append("That side is not known; showing the tickets either side holds.")
            }
        }
        if !input.q.isEmpty { filter.text = String(input.q.prefix(200)) }
        if !input.sort.isEmpty {
            if let sort = TicketSort(input.sort) { filter.sort = sort } else { problems.append("That order is not known; showing the newest first.") }
        }

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
        let counts = try await TicketService.countsByStatus(filter, by: principal, on: db)
        let showAssignees = AccessPolicy.visibleTicketFields(for: principal.kind).contains(.assigneeIds)

        return Model(
            layout: layout,
            tickets: try await rows(result.items, showAssignees: showAssignees, principal: principal, zone: layout.zone, on: db),
            total: total == 1 ? "1 ticket" : "\(total) tickets",
            statusOptions: statusOptions(selected: input.status),
            organizationOptions: try await PageOptions.organizations(for: principal, area: .organizations, selected: input.organizationId, on: db),
            queueOptions: try await PageOptions.queues(for: principal, selected: input.queueId, on: db),
            sideOptions: [SelectOption(value: "", label: "Either side", selected: filter.responsibleSide == nil)]
                + ResponsibleSide.allCases.map { SelectOption(value: $0.rawValue, label: $0.label, selected: filter.responsibleSide == $0) },
            q: input.q,
            isFiltered: filter.organizationId != nil || filter.queueId != nil || filter.assigneeId != nil || filter.responsibleSide != nil || filter.text != nil
                || !filter.statuses.isEmpty,
            offersMine: offersMine, mine: input.mine && offersMine, showAssignees: showAssignees,
            columns: columns(input, sort: filter.sort, showAssignees: showAssignees), sort: filter.sort == .default ? "" : filter.sort.text,
            statusCounts: statusCounts(counts, input),
            savedFilters: try await savedFilters(for: principal, on: db),
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

    /// "All" and each status with a ticket, with how many the principal sees under the other filters.
    static func statusCounts(_ counts: [TicketStatus: Int], _ input: Query) -> [StatusCount] {
        [StatusCount(label: "All", count: counts.values.reduce(0, +), url: input.url(status: ""), current: input.status.isEmpty)]
            + TicketStatus.allCases.compactMap { status in
                guard let count = counts[status] else { return nil }
                return StatusCount(label: status.label, count: count, url: input.url(status: status.rawValue), current: input.status == status.rawValue)
            }
    }

    /// The table's headers in order; number, priority, due and updated sort the list.
    static func columns(_ input: Query, sort: TicketSort, showAssignees: Bool) -> [SortColumn] {
        func sorting(_ key: TicketSort.Key, _ label: String, descendingFirst: Bool) -> SortColumn {
            let current = sort.key == key
            let next = TicketSort(key: key, descending: current ? !sort.descending : descendingFirst)
            return SortColumn(
                key: key.rawValue, label: label, url: input.url(sort: next == .default ? "" : next.text),
                ariaSort: current ? (sort.descending ? "descending" : "ascending") : "none", arrow: current ? (sort.descending ? "↓" : "↑") : "")
        }
        func plain(_ label: String) -> SortColumn { SortColumn(key: "", label: label, sortable: false, url: "", ariaSort: "none", arrow: "") }
        return [
            sorting(.number, "Number", descendingFirst: true), plain("Title"), plain("Organization"), plain("Status"),
            sorting(.priority, "Priority", descendingFirst: true),
        ] + (showAssignees ? [plain("Assignees")] : []) + [
            sorting(.dueAt, "Due", descendingFirst: false), sorting(.updatedAt, "Updated", descendingFirst: true),
        ]
    }

    /// The saved filters the principal sees (its own, and shared lists where the policy shows them), each a link to the list.
    static func savedFilters(for principal: Principal, on db: any Database) async throws -> [SavedFilterLink] {
        let scope = AccessPolicy.savedFilterScope(for: principal)
        guard scope != .none else { return [] }
        let filters = try await SavedFilter.query(on: db).filter(scope, on: SavedFilter.scopeTable).sort(\.$name).limit(50).all()
        return filters.map { filter in
            let items = URLComponents(string: "?" + filter.query)?.queryItems ?? []
            let saved = Query { name in items.first { $0.name == name }?.value ?? "" }
            return SavedFilterLink(name: filter.name, url: saved.url(), shared: filter.shared)
        }
    }

    static func rows(_ tickets: [TicketDTO], showAssignees: Bool, principal: Principal, zone: PageZone, on db: any Database) async throws -> [TicketListRow] {
        let base = try await TicketRow.rows(tickets, zone: zone, on: db)
        let names =
            showAssignees
            ? try await PeopleNames.names(tickets.flatMap { $0.assigneeIds.compactMap(UUID.init(uuidString:)) }, to: principal, on: db) : [:]
        let now = db.now
        return zip(tickets, base).map { ticket, row in
            let ids = ticket.assigneeIds.compactMap(UUID.init(uuidString:))
            let shown = ids.compactMap { names[$0] }
            var assignees = shown.joined(separator: ", ")
            if shown.count < ids.count {
                assignees += (shown.isEmpty ? "" : ", ") + (ids.count - shown.count == 1 ? "1 other" : "\(ids.count - shown.count) others")
            }
            let open = TicketStatus(rawValue: ticket.status)?.isOpen ?? false
            return TicketListRow(
                row: row, assignees: ids.isEmpty ? "Unassigned" : assignees, due: PageFormat.date(ticket.dueAt, in: zone),
                dueISO: PageFormat.isoDate(ticket.dueAt),
                overdue: open && (ticket.dueAt.map { $0 < now } ?? false))
        }
    }
}

/// Names of people (resources and co-managing users) the viewer may know, by id (`PeopleDirectory`).
enum PeopleNames {
    static func names(_ ids: [UUID], to viewer: Principal, on db: any Database) async throws -> [UUID: String] {
        let visible = Array(try await PeopleDirectory.visible(ids, to: viewer, on: db))
        guard !visible.isEmpty else { return [:] }
        var names: [UUID: String] = [:]
        for resource in try await Resource.query(on: db).filter(\.$id ~~ visible).all() { names[resource.id!] = resource.fullName }
        let users = try await CoManagingUser.query(on: db).filter(\.$id ~~ visible).all()
        if !users.isEmpty {
            let contacts = try await Contact.query(on: db).filter(\.$id ~~ users.map(\.contactId)).all()
            let byId = Dictionary(contacts.map { ($0.id!, $0.fullName) }, uniquingKeysWith: { first, _ in first })
            for user in users { names[user.id!] = byId[user.contactId] ?? user.username }
        }
        return names
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

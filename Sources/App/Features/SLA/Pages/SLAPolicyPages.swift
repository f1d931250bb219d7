import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/sla-policies`: each organization's SLA targets per priority, a form for a new or stored policy
/// and a delete confirmed on its own page. Saved through the API's collection (`CRUD.create`, `update`,
/// `remove`), so its validation shows beside the field with the user's text kept. MSP staff read them
/// (within their client restrictions); `manageSettings` changes them.
enum SLAPolicyPages {
    static let path = "sla-policies"
    static let title = "SLA policies"
    static let intro =
        "First response and resolution targets per organization and priority, in business minutes of the ticket's site's internal location (every minute, UTC, when the site has none). Clocks pause while a ticket waits on the customer."

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.configurations(path).pathComponents, use: list)
        routes.get(PageRoutes.newConfiguration(path).pathComponents, use: newForm)
        routes.post(PageRoutes.newConfiguration(path).pathComponents, use: create)
        routes.get(PageRoutes.configuration(path).pathComponents, use: edit)
        routes.post(PageRoutes.configuration(path).pathComponents, use: save)
        routes.get(PageRoutes.configurationDelete(path).pathComponents, use: confirmDelete)
        routes.post(PageRoutes.configurationDelete(path).pathComponents, use: delete)
    }

    static func begin(_ req: Request, _ title: String) throws -> (Principal, PageLayout, [AdminPages.Tab]) {
        let principal = try req.principal
        guard SLAPoliciesCollection.scope(for: principal, .view) != .none else {
            throw TandemError.forbidden("SLA policies are for MSP staff")
        }
        return (principal, req.pageLayout(title, section: "admin"), AdminPages.tabs(for: principal, current: path))
    }

    // MARK: Handlers

    /// The policies by organization name and priority, filtered by a text the organization's name contains.
    @Sendable static func list(_ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try begin(req, title)
        let filter = Whitespace.trim(req.queryText("q") ?? "")
        let policies = try await CRUD.visibleRows(SLAPoliciesCollection.self, for: principal, on: req.db).all()
        let names = try await organizationNames(Array(Set(policies.map(\.organizationId))), on: req.db)
        let order = Dictionary(uniqueKeysWithValues: TicketPriority.allCases.enumerated().map { ($1.rawValue, $0) })
        let shown = policies.filter { filter.isEmpty || (names[$0.organizationId] ?? "").localizedCaseInsensitiveContains(filter) }
            .sorted { (names[$0.organizationId] ?? "", order[$0.priority] ?? 0) < (names[$1.organizationId] ?? "", order[$1.priority] ?? 0) }
        var rows: [ConfigurationPages.Row] = []
        for policy in shown {
            let mayDelete = (try? await SLAPoliciesCollection.authorize(.delete, policy, by: principal, on: req.db)) != nil
            rows.append(
                ConfigurationPages.Row(
                    name: name(policy, names), url: PageRoutes.configuration(path).url(policy.id!),
                    cells: [PageFormat.minutes(policy.firstResponseMinutes), PageFormat.minutes(policy.resolutionMinutes), "\(policy.approachingPercent) %"],
                    deleteURL: mayDelete ? PageRoutes.configurationDelete(path).url(policy.id!) : nil))
        }
        let mayCreate = (try? SLAPoliciesCollection.authorizeCreate(principal)) != nil
        let model = ConfigurationPages.ListModel(
            layout: layout, tabs: tabs, heading: title, intro: intro, noun: "SLA policy", listURL: PageRoutes.configurations(path).url(),
            newURL: mayCreate ? PageRoutes.newConfiguration(path).url() : nil, readOnly: !mayCreate, filter: filter,
            columns: ["First response", "Resolution", "Approaching at"], rows: rows, nextURL: nil, firstURL: nil,
            notice: req.queryText("notice").flatMap { ConfigurationPages.notices[$0] }, filterLabel: "Organization contains")
        return try await req.renderPage(ConfigurationPages.listView, model)
    }

    @Sendable static func newForm(_ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(req, title)
        try SLAPoliciesCollection.authorizeCreate(principal)
        let values = ["organizationId": req.queryText("organizationId") ?? "", "priority": "medium", "approachingPercent": "80"]
        return try await renderForm(req, row: nil, values: values)
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(req, title)
        try SLAPoliciesCollection.authorizeCreate(principal)
        let values = ConfigurationPages.formValues(req)
        do {
            let row = try await CRUD.create(SLAPoliciesCollection.self, { try input(values) }, req)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(row.id!), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, row: nil, values: values, error: error)
        }
    }

    @Sendable static func edit(_ req: Request) async throws -> Response {
        _ = try begin(req, title)
        let row = try await SLAPoliciesCollection.visible(req)
        return try await renderForm(
            req, row: row, values: values(SLAPolicyDTO(row)), notice: req.queryText("notice").flatMap { ConfigurationPages.notices[$0] })
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(req, title)
        let row = try await SLAPoliciesCollection.visible(req)
        try await SLAPoliciesCollection.authorize(.edit, row, by: principal, on: req.db)
        let values = ConfigurationPages.formValues(req)
        do {
            try await CRUD.update(SLAPoliciesCollection.self, row, { try input(values) }, req)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(row.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, row: try await SLAPoliciesCollection.visible(req), values: values, error: error)
        }
    }

    @Sendable static func confirmDelete(_ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(req, title)
        let row = try await SLAPoliciesCollection.visible(req)
        try await SLAPoliciesCollection.authorize(.delete, row, by: principal, on: req.db)
        return try await renderDelete(req, row: row, feedback: nil)
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(req, title)
        let row = try await SLAPoliciesCollection.visible(req)
        try await SLAPoliciesCollection.authorize(.delete, row, by: principal, on: req.db)
        do {
            try await CRUD.remove(SLAPoliciesCollection.self, row, req)
            return req.seeOther(PageURL.with(PageRoutes.configurations(path).url(), query: [("notice", "deleted")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderDelete(req, row: row, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    // MARK: Form

    static func values(_ dto: SLAPolicyDTO) -> [String: String] {
        [
            "organizationId": dto.organizationId, "priority": dto.priority, "firstResponseMinutes": String(dto.firstResponseMinutes),
            "resolutionMinutes": String(dto.resolutionMinutes), "approachingPercent": String(dto.approachingPercent),
        ]
    }

    /// The API body the form means; a number field holding no whole number is refused here, the rest by the API.
    static func input(_ values: [String: String]) throws -> SLAPolicyInput {
        var validator = FieldValidator()
        func number(_ field: String) -> Patch<Int> {
            let text = Whitespace.trim(values[field] ?? "")
            if text.isEmpty { return .null }
            guard let value = Int(text) else {
                validator.fail(field, "'\(text)' is not a whole number of minutes")
                return .null
            }
            return .value(value)
        }
        var input = SLAPolicyInput()
        input.organizationId = (values["organizationId"]?.nonEmpty).map { .value($0) } ?? .null
        input.priority = (values["priority"]?.nonEmpty).map { .value($0) } ?? .null
        input.firstResponseMinutes = number("firstResponseMinutes")
        input.resolutionMinutes = number("resolutionMinutes")
        input.approachingPercent = number("approachingPercent")
        try validator.check()
        return input
    }

    static func fields(_ values: [String: String], _ problems: [String: String], organizations: [SelectOption]) -> [ConfigurationPages.Field] {
        let priority = values["priority"] ?? ""
        return [
            ConfigurationPages.Field(
                name: "organizationId", label: "Organization", kind: "select", error: problems["organizationId"],
                options: [SelectOption(value: "", label: "Choose an organization", selected: (values["organizationId"] ?? "").isEmpty)]
                    + organizations.map { SelectOption(value: $0.value, label: $0.label, selected: $0.value == values["organizationId"]) }),
            ConfigurationPages.Field(
                name: "priority", label: "Priority", kind: "select", error: problems["priority"],
                options: TicketPriority.allCases.map {
                    SelectOption(value: $0.rawValue, label: PageFormat.priority($0.rawValue), selected: $0.rawValue == priority)
                }),
            ConfigurationPages.Field(
                name: "firstResponseMinutes", label: "First response within", kind: "number", value: values["firstResponseMinutes"] ?? "",
                hint: "business minutes, until the first note to the contact", error: problems["firstResponseMinutes"], maxLength: 6),
            ConfigurationPages.Field(
                name: "resolutionMinutes", label: "Resolution within", kind: "number", value: values["resolutionMinutes"] ?? "",
                hint: "business minutes, until resolved", error: problems["resolutionMinutes"], maxLength: 6),
            ConfigurationPages.Field(
                name: "approachingPercent", label: "Approaching at", kind: "number", value: values["approachingPercent"] ?? "",
                hint: "percent of a target; the rules' “SLA approaching” fires then", error: problems["approachingPercent"], maxLength: 2),
        ]
    }

    static func renderForm(
        _ req: Request, row: SLAPolicy?, values: [String: String], error: TandemError? = nil, notice: String? = nil
    ) async throws -> Response {
        let principal = try req.principal
        let names = try await organizationNames(row.map { [$0.organizationId] } ?? [], on: req.db)
        let heading = row.map { name($0, names) } ?? "New SLA policy"
        var layout = req.pageLayout(heading, section: "admin")
        layout.title = "\(heading) · \(title)"
        let mayEdit: Bool
        var mayDelete = false
        if let row {
            mayEdit = (try? await SLAPoliciesCollection.authorize(.edit, row, by: principal, on: req.db)) != nil
            mayDelete = (try? await SLAPoliciesCollection.authorize(.delete, row, by: principal, on: req.db)) != nil
        } else {
            mayEdit = (try? SLAPoliciesCollection.authorizeCreate(principal)) != nil
        }
        // The organizations the principal may give a policy to.
        let reachable = try await Organization.query(on: req.db)
            .filter(SLAPoliciesCollection.scope(for: principal, mayEdit ? .create : .view), on: Organization.scopeTable).sort(\.$name).all()
        let organizations = reachable.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: false) }
        let plain = fields(values, [:], organizations: organizations)
        let feedback = error.map { ConfigurationPages.feedback($0, fields: plain, formField: { $0 }) }
        let model = ConfigurationPages.FormModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), heading: heading, backURL: PageRoutes.configurations(path).url(),
            backLabel: title, action: row.map { PageRoutes.configuration(path).url($0.id!) } ?? PageRoutes.newConfiguration(path).url(),
            fields: fields(values, feedback?.fields ?? [:], organizations: organizations), feedback: feedback, readOnly: !mayEdit,
            deleteURL: mayDelete ? row.map { PageRoutes.configurationDelete(path).url($0.id!) } : nil, members: nil, notice: notice)
        return try await req.renderPage(ConfigurationPages.formView, model, status: error?.pageStatus ?? .ok)
    }

    static func renderDelete(_ req: Request, row: SLAPolicy, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.principal
        let label = name(row, try await organizationNames([row.organizationId], on: req.db))
        var layout = req.pageLayout("Delete \(label)", section: "admin")
        layout.title = "Delete \(label) · \(title)"
        let model = ConfigurationPages.DeleteModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), noun: "SLA policy", name: label,
            backURL: PageRoutes.configuration(path).url(row.id!), action: PageRoutes.configurationDelete(path).url(row.id!),
            consequences: [
                "Open \(PageFormat.priority(row.priority).lowercased())-priority tickets of the organization have no SLA clocks from then on; the events already recorded stay."
            ],
            brokenRules: [], refusal: nil, feedback: feedback)
        return try await req.renderPage(ConfigurationPages.deleteView, model, status: status)
    }

    static func organizationNames(_ ids: [UUID], on db: any Database) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return Dictionary(uniqueKeysWithValues: try await Organization.query(on: db).filter(\.$id ~~ ids).all().map { ($0.id!, $0.name) })
    }

    static func name(_ policy: SLAPolicy, _ names: [UUID: String]) -> String {
        "\(names[policy.organizationId] ?? "Organization") · \(PageFormat.priority(policy.priority))"
    }
}

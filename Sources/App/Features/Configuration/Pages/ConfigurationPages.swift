import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// One configuration collection's admin pages: what its list shows, its form's fields, and how the form
/// becomes the API's body. `ConfigurationPages` serves the pages for every collection the same way.
protocol ConfigurationPage {
    associatedtype Collection: ConfigurationCollection
    /// Its path under `/admin` and its tab's key.
    static var path: String { get }
    static var title: String { get }
    static var intro: String { get }
    /// The list's columns after the name.
    static var columns: [String] { get }
    static func cells(_ dto: Collection.DTO) -> [String]
    /// The list's cells once what they name is read (a department's organization); `cells` by default.
    static func cells(_ dto: Collection.DTO, _ req: Request) async throws -> [String]
    /// The form's text for a stored row, or for a new one (nil).
    static func values(_ dto: Collection.DTO?) -> [String: String]
    /// The form's fields showing `values`, each with its problem from `problems` (by form field).
    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field]
    /// The API body the form means. Text a field cannot take at all (a number that is not one) is refused here;
    /// every other rule is the API's.
    static func input(_ values: [String: String]) throws -> Collection.Input
    /// The form field beside which a problem of the API's `field` is shown.
    static func formField(_ field: String, _ values: [String: String]) -> String
    /// What deleting the row changes, in words, counted as the principal may see it.
    static func consequences(_ row: Collection.Row, by principal: Principal, on db: any Database) async throws -> [String]
    /// More of the row's page below its form (a team's members).
    static func members(_ row: Collection.Row, readOnly: Bool, _ req: Request) async throws -> TeamPages.Members?
    /// The form's fields once what they offer is read for the principal (a department's organizations).
    static func completed(_ fields: [ConfigurationPages.Field], row: Collection.Row?, _ req: Request) async throws -> [ConfigurationPages.Field]
}

extension ConfigurationPage {
    static func formField(_ field: String, _ values: [String: String]) -> String { field }
    static func cells(_ dto: Collection.DTO, _ req: Request) async throws -> [String] { cells(dto) }
    static func completed(_ fields: [ConfigurationPages.Field], row: Collection.Row?, _ req: Request) async throws -> [ConfigurationPages.Field] { fields }
    static func members(_ row: Collection.Row, readOnly: Bool, _ req: Request) async throws -> TeamPages.Members? { nil }
    static var noun: String { Collection.what }
}

/// `/admin/queues`, `/admin/teams`, `/admin/roles`, `/admin/internal-locations`, `/admin/departments`: a list filtered by name, a
/// form for a new or stored row, and a delete with its own confirmation page that says what it changes.
/// Every change goes through the API's collection (`CRUD.create`, `update`, `remove`): its validation, shown
/// beside the field it is about with the user's text kept, and the policy's refusals. Whoever the policy lets
/// read a collection sees its pages read-only; changing needs the permission the API asks for.
enum ConfigurationPages {
    static let listView = "admin/configuration-list"
    static let formView = "admin/configuration-form"
    static let deleteView = "admin/configuration-delete"
    static let pageSize = 50

    static func register(_ routes: any RoutesBuilder) {
        register(QueuePages.self, routes)
        register(TeamPages.self, routes)
        register(RolePages.self, routes)
        register(InternalLocationPages.self, routes)
        register(DepartmentPages.self, routes)
        TeamPages.registerMembers(routes)
        DepartmentPages.registerMembers(routes)
        ResourcePages.register(routes)
        CoManagingTeamPages.register(routes)
        OrganizationGroupPages.register(routes)
    }

    static func register<P: ConfigurationPage>(_ page: P.Type, _ routes: any RoutesBuilder) {
        routes.get(PageRoutes.configurations(P.path).pathComponents) { req in try await list(P.self, req) }
        routes.get(PageRoutes.newConfiguration(P.path).pathComponents) { req in try await newForm(P.self, req) }
        routes.post(PageRoutes.newConfiguration(P.path).pathComponents) { req in try await create(P.self, req) }
        routes.get(PageRoutes.configuration(P.path).pathComponents) { req in try await edit(P.self, req) }
        routes.post(PageRoutes.configuration(P.path).pathComponents) { req in try await save(P.self, req) }
        routes.get(PageRoutes.configurationDelete(P.path).pathComponents) { req in try await confirmDelete(P.self, req) }
        routes.post(PageRoutes.configurationDelete(P.path).pathComponents) { req in try await delete(P.self, req) }
    }

    // MARK: Models

    struct ListModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var heading: String
        var intro: String
        var noun: String
        var listURL: String
        var newURL: String?
        var readOnly: Bool
        var filter: String
        var columns: [String]
        var rows: [Row]
        var nextURL: String?
        var firstURL: String?
        var notice: String?
        /// More filters beside the name's, each a `<select>`.
        var selects: [Select] = []
        /// The link at the end of each row: "Delete", or "Deactivate" for resources.
        var rowAction = "Delete"
        var filterLabel = "Name contains"
    }

    /// A list filter with its choices.
    struct Select: Encodable, Sendable {
        var name: String
        var label: String
        var options: [SelectOption]
    }

    struct Row: Encodable, Sendable {
        var name: String
        var url: String
        var cells: [String]
        var deleteURL: String?
    }

    /// A form field. `kind` picks how the template shows it: `text` (with `suggestions` as a datalist), `number`,
    /// `email`, `password`, `lines` (a text area, one item a line), `hours` (a row per weekday), `select` and
    /// `radio` (one of `options`) or `choices` (checkboxes posted as `name[]`).
    struct Field: Encodable, Sendable {
        var name: String
        var label: String
        var kind = "text"
        var value = ""
        var hint: String?
        var error: String?
        var maxLength: Int?
        var suggestions: [String] = []
        var days: [Day] = []
        var options: [SelectOption] = []
        var choices: [CoManagedSetupPage.Choice] = []
    }

    /// A weekday's row of business hours: open or not, and from when to when.
    struct Day: Encodable, Sendable {
        var weekday: Int
        var label: String
        var open: Bool
        var start: String
        var end: String
        var error: String?
    }

    struct FormModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var heading: String
        var backURL: String
        var backLabel: String
        var action: String
        var fields: [Field]
        var feedback: FormFeedback?
        var readOnly: Bool
        var deleteURL: String?
        var members: TeamPages.Members?
        var notice: String?
        /// The link to the destructive action's confirmation page.
        var deleteLabel = "Delete…"
        /// More of the page below the form, as lines (a co-managing team's organizations).
        var related: Related? = nil
        /// A one-button form below the form (reactivating a resource).
        var extraAction: ExtraAction? = nil
    }

    struct ExtraAction: Encodable, Sendable {
        var heading: String
        var hint: String
        var url: String
        var label: String
    }

    /// A list of rows below the form, under its heading.
    struct Related: Encodable, Sendable {
        var heading: String
        var hint: String?
        var rows: [CoManagementAdminPage.Row]
    }

    struct DeleteModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var noun: String
        var name: String
        var backURL: String
        var action: String
        var consequences: [String]
        var brokenRules: [String]
        var refusal: String?
        var feedback: FormFeedback?
        /// The words of the page for what is not a deletion (a resource is deactivated).
        var heading: String? = nil
        var impactHeading = "What deleting it changes"
        var impactNote = "Worked out now; nothing changes until you confirm below. A deletion cannot be undone."
        var confirmLabel: String? = nil
    }

    static let notices = [
        "created": "It was created.", "saved": "It was saved.", "deleted": "It was deleted.", "member-added": "The member was added.",
        "member-changed": "The member's access was changed.", "member-removed": "The member was removed.",
    ]

    // MARK: Handlers

    /// The principal, layout and tabs of a collection's page, once the policy lets the principal read the collection.
    static func begin<P: ConfigurationPage>(_ page: P.Type, _ req: Request, _ title: String) throws -> (Principal, PageLayout, [AdminPages.Tab]) {
        let principal = try req.principal
        try AccessPolicy.authorizeConfiguration(principal, P.Collection.kind, .view)
        return (principal, req.pageLayout(title, section: "admin"), AdminPages.tabs(for: principal, current: P.path))
    }

    /// Pages by name (names are unique), filtered by a text the name contains.
    static func list<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try begin(P.self, req, P.title)
        let filter = Whitespace.trim(req.queryText("q") ?? "")
        let after = req.queryText("after")?.nonEmpty
        let name = FieldKey("name")
        var query = CRUD.visibleRows(P.Collection.self, for: principal, on: req.db)
        if !filter.isEmpty {
            let pattern = SearchAPI.like(filter)
            query = query.filter(.sql(SQLQueryString("LOWER(\(ident: P.Collection.Row.schema).name) LIKE \(bind: pattern) ESCAPE '\\'")))
        }
        if let after { query = query.filter(name, .greaterThan, after) }
        let found = try await query.sort(name).limit(pageSize + 1).all()
        let rows = Array(found.prefix(pageSize))
        let listURL = PageRoutes.configurations(P.path).url()
        var items: [Row] = []
        for row in rows {
            let dto = try await P.Collection.shownDTO(row, req)
            let mayDelete = (try? await P.Collection.authorize(.delete, row, by: principal, on: req.db)) != nil
            items.append(
                Row(
                    name: P.Collection.name(row), url: PageRoutes.configuration(P.path).url(row.id!), cells: try await P.cells(dto, req),
                    deleteURL: mayDelete ? PageRoutes.configurationDelete(P.path).url(row.id!) : nil))
        }
        let mayCreate = (try? P.Collection.authorizeCreate(principal)) != nil
        let model = ListModel(
            layout: layout, tabs: tabs, heading: P.title, intro: P.intro, noun: P.noun, listURL: listURL,
            newURL: mayCreate ? PageRoutes.newConfiguration(P.path).url() : nil, readOnly: !mayCreate, filter: filter, columns: P.columns,
            rows: items,
            nextURL: found.count > pageSize ? rows.last.map { PageURL.with(listURL, query: [("q", filter), ("after", P.Collection.name($0))]) } : nil,
            firstURL: after == nil ? nil : PageURL.with(listURL, query: [("q", filter)]),
            notice: req.queryText("notice").flatMap { notices[$0] })
        return try await req.renderPage(listView, model)
    }

    static func newForm<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(P.self, req, P.title)
        try P.Collection.authorizeCreate(principal)
        return try await renderForm(P.self, req, row: nil, values: P.values(nil))
    }

    static func create<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(P.self, req, P.title)
        try P.Collection.authorizeCreate(principal)
        let values = formValues(req)
        do {
            let row = try await CRUD.create(P.Collection.self, { try P.input(values) }, req)
            return req.seeOther(PageURL.with(PageRoutes.configuration(P.path).url(row.id!), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(P.self, req, row: nil, values: values, error: error)
        }
    }

    static func edit<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        _ = try begin(P.self, req, P.title)
        let row = try await P.Collection.visible(req)
        let values = P.values(try await P.Collection.shownDTO(row, req))
        return try await renderForm(P.self, req, row: row, values: values, notice: req.queryText("notice").flatMap { notices[$0] })
    }

    static func save<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(P.self, req, P.title)
        let row = try await P.Collection.visible(req)
        // Refused before the form is read, as the API's PATCH is: a 403 page, not a form.
        try await P.Collection.authorize(.edit, row, by: principal, on: req.db)
        let values = formValues(req)
        do {
            try await CRUD.update(P.Collection.self, row, { try P.input(values) }, req)
            return req.seeOther(PageURL.with(PageRoutes.configuration(P.path).url(row.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            // The row may hold some of the refused values; the page shows the stored one.
            let stored = try await P.Collection.visible(req)
            return try await renderForm(P.self, req, row: stored, values: values, error: error)
        }
    }

    static func confirmDelete<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(P.self, req, P.title)
        let row = try await P.Collection.visible(req)
        try await P.Collection.authorize(.delete, row, by: principal, on: req.db)
        return try await renderDelete(P.self, req, row: row, feedback: nil)
    }

    static func delete<P: ConfigurationPage>(_ page: P.Type, _ req: Request) async throws -> Response {
        let (principal, _, _) = try begin(P.self, req, P.title)
        let row = try await P.Collection.visible(req)
        try await P.Collection.authorize(.delete, row, by: principal, on: req.db)
        do {
            try await CRUD.remove(P.Collection.self, row, req)
            return req.seeOther(PageURL.with(PageRoutes.configurations(P.path).url(), query: [("notice", "deleted")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderDelete(P.self, req, row: row, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    // MARK: Rendering

    /// The form's text as the browser posted it (`application/x-www-form-urlencoded`).
    static func formValues(_ req: Request) -> [String: String] {
        var values = Request.queryValues(req.body.string)
        values[CSRF.field] = nil
        return values
    }

    static func renderForm<P: ConfigurationPage>(
        _ page: P.Type, _ req: Request, row: P.Collection.Row?, values: [String: String], error: TandemError? = nil,
        members: TeamPages.Members? = nil, notice: String? = nil, status: HTTPStatus? = nil
    ) async throws -> Response {
        let principal = try req.principal
        let name = row.map(P.Collection.name)
        var layout = req.pageLayout(name ?? "New \(P.noun)", section: "admin")
        layout.title = name.map { "\($0) · \(P.title)" } ?? "New \(P.noun)"
        let mayEdit: Bool
        var mayDelete = false
        if let row {
            mayEdit = (try? await P.Collection.authorize(.edit, row, by: principal, on: req.db)) != nil
            mayDelete = (try? await P.Collection.authorize(.delete, row, by: principal, on: req.db)) != nil
        } else {
            mayEdit = (try? P.Collection.authorizeCreate(principal)) != nil
        }
        let feedback = error.map { problem in Self.feedback(problem, fields: P.fields(values, [:]), formField: { P.formField($0, values) }) }
        var extra = members
        if extra == nil, let row { extra = try await P.members(row, readOnly: !mayEdit, req) }
        let model = FormModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: P.path), heading: name ?? "New \(P.noun)",
            backURL: PageRoutes.configurations(P.path).url(), backLabel: P.title,
            action: row.map { PageRoutes.configuration(P.path).url($0.id!) } ?? PageRoutes.newConfiguration(P.path).url(),
            fields: try await P.completed(P.fields(values, feedback?.fields ?? [:]), row: row, req), feedback: feedback, readOnly: !mayEdit,
            deleteURL: mayDelete ? row.map { PageRoutes.configurationDelete(P.path).url($0.id!) } : nil, members: extra, notice: notice)
        return try await req.renderPage(formView, model, status: status ?? error?.pageStatus ?? .ok)
    }

    static func renderDelete<P: ConfigurationPage>(
        _ page: P.Type, _ req: Request, row: P.Collection.Row, feedback: FormFeedback?, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let name = P.Collection.name(row)
        var layout = req.pageLayout("Delete \(name)", section: "admin")
        layout.title = "Delete \(name) · \(P.title)"
        let preview = try await CRUD.previewDelete(P.Collection.self, row, on: req.db)
        let model = DeleteModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: P.path), noun: P.noun, name: name,
            backURL: PageRoutes.configuration(P.path).url(row.id!), action: PageRoutes.configurationDelete(P.path).url(row.id!),
            consequences: try await P.consequences(row, by: principal, on: req.db), brokenRules: preview.brokenRules,
            refusal: preview.refusal.map { PageErrors.describe($0).message }, feedback: feedback)
        return try await req.renderPage(deleteView, model, status: status)
    }

    /// An API error as the form shows it: each problem beside the form field it is about, and in the summary
    /// under that field's label.
    static func feedback(_ error: TandemError, fields: [Field], formField: (String) -> String) -> FormFeedback {
        guard case .validation(let errors) = error else { return FormFeedback(error) }
        var labels: [String: String] = [:]
        for field in fields {
            labels[field.name] = field.label
            for day in field.days {
                labels["day\(day.weekday)"] = day.label
                labels["start\(day.weekday)"] = "\(day.label) start"
                labels["end\(day.weekday)"] = "\(day.label) end"
            }
        }
        var result = FormFeedback(summary: [])
        for problem in errors {
            let field = formField(problem.field)
            result.summary.append(FormFeedback.sentence(labels[field] ?? FormFeedback.labels[field] ?? field, problem.message))
            let message = FormFeedback.sentence("", problem.message)
            result.fields[field] = result.fields[field].map { "\($0) \(message)" } ?? message
        }
        return result
    }

    /// "1 ticket", "3 tickets".
    static func count(_ count: Int, _ one: String, _ many: String? = nil) -> String {
        "\(count) \(count == 1 ? one : many ?? one + "s")"
    }

    /// An exact number field's text as the API's body (rates, multipliers): empty is null; the text is read as
    /// decimal digits, never through Double; one with too many places goes on for the API to refuse by name.
    static func decimal(_ text: String?, _ field: String, _ validator: inout FieldValidator) -> Patch<Decimal> {
        let trimmed = Whitespace.trim(text ?? "")
        if trimmed.isEmpty { return .null }
        if let exact = BillingDecimal(parsing: trimmed) { return .value(exact.decimal) }
        if BillingDecimal.hasTooManyPlaces(trimmed), let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) { return .value(value) }
        validator.fail(field, "'\(trimmed)' is not a number (such as 120 or 95.50)")
        return .null
    }
}

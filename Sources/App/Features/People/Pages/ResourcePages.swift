import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `/admin/resources`: MSP staff by username, filtered by name and status; a form for a new or stored
/// resource with its security level, client restrictions ("allow use of all customers"), queues and teams;
/// and a deactivation that first shows, on its own page, what it will change. Every change goes through
/// `ResourceService`, as `/api/v1/resources` does. The pages are for those who may change resources.
enum ResourcePages {
    static let path = "resources"
    static let title = "Resources"
    static let noun = "resource"
    static let intro =
        "MSP staff: the security level sets what they may do, client restrictions which customers they may work for, queues and teams which tickets reach them."

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.configurations(path).pathComponents, use: list)
        routes.get(PageRoutes.newConfiguration(path).pathComponents, use: newForm)
        routes.post(PageRoutes.newConfiguration(path).pathComponents, use: create)
        routes.get(PageRoutes.configuration(path).pathComponents, use: edit)
        routes.post(PageRoutes.configuration(path).pathComponents, use: save)
        routes.get(PageRoutes.configurationDelete(path).pathComponents, use: confirmDeactivate)
        routes.post(PageRoutes.configurationDelete(path).pathComponents, use: deactivate)
        routes.post(PageRoutes.resourceReactivate.pathComponents, use: reactivate)
    }

    /// The form as posted. Checkboxes come as `name[]`; "allCustomers" is `yes` or `no`.
    struct Form: Decodable, Sendable {
        var firstName: String?
        var lastName: String?
        var username: String?
        var email: String?
        var password: String?
        var securityLevelId: String?
        var allCustomers: String?
        var clientRestrictions: [String]?
        var queueIds: [String]?
        var teamIds: [String]?
        /// An IANA time zone; empty: UTC.
        var timeZone: String?
    }

    static let notices = [
        "created": "The resource was created.", "saved": "It was saved.", "deactivated": "The resource was deactivated.",
        "reactivated": "The resource was reactivated: they can log in again.",
    ]

    // MARK: Handlers

    /// The principal of a resource page: only those who may change resources have these pages (others read
    /// MSP staff through the people directory, not here).
    static func begin(_ req: Request) throws -> Principal {
        let principal = try req.principal
        try AccessPolicy.authorizeConfiguration(principal, .resources, .edit)
        return principal
    }

    @Sendable static func list(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let filter = Whitespace.trim(req.queryText("q") ?? "")
        let status = req.queryText("status").flatMap { ["active", "inactive", "all"].contains($0) ? $0 : nil } ?? "active"
        let after = req.queryText("after")?.nonEmpty
        var query = Resource.query(on: req.db).filter(AccessPolicy.configurationScope(for: principal, .resources, .view), on: Resource.scopeTable)
        if !filter.isEmpty {
            let pattern = SearchAPI.like(filter)
            query = query.filter(
                .sql(
                    SQLQueryString(
                        "(LOWER(resources.username) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(resources.first_name || ' ' || resources.last_name) LIKE \(bind: pattern) ESCAPE '\\')"
                    )))
        }
        if status != "all" { query = query.filter(\.$active == (status == "active")) }
        if let after { query = query.filter(\.$username > after) }
        let found = try await query.sort(\.$username).limit(ConfigurationPages.pageSize + 1).all()
        let rows = Array(found.prefix(ConfigurationPages.pageSize))
        let levels = try await levelNames(on: req.db)
        let restrictionCounts = try await ResourceClientRestriction.query(on: req.db).filter(\.$resourceId ~~ rows.map { $0.id! }).all()
            .reduce(into: [UUID: Int]()) { $0[$1.resourceId, default: 0] += 1 }
        let queueCounts = try await QueueMember.query(on: req.db).filter(\.$principalId ~~ rows.map { $0.id! }).all()
            .reduce(into: [UUID: Int]()) { $0[$1.principalId, default: 0] += 1 }
        let listURL = PageRoutes.configurations(path).url()
        let items = rows.map { resource in
            let id = resource.id!
            let customers =
                resource.clientRestricted ? "Only \(ConfigurationPages.count(restrictionCounts[id] ?? 0, "organization"))" : "All"
            return ConfigurationPages.Row(
                name: resource.fullName, url: PageRoutes.configuration(path).url(id),
                cells: [
                    resource.username, levels[resource.securityLevelId] ?? "", customers, String(queueCounts[id] ?? 0),
                    resource.active ? "Active" : "Deactivated",
                ],
                deleteURL: resource.active && id != principal.id ? PageRoutes.configurationDelete(path).url(id) : nil)
        }
        let query2: [(String, String?)] = [("q", filter), ("status", status == "active" ? nil : status)]
        let model = ConfigurationPages.ListModel(
            layout: req.pageLayout(title, section: "admin"), tabs: AdminPages.tabs(for: principal, current: path), heading: title, intro: intro, noun: noun,
            listURL: listURL, newURL: (try? ResourceService.authorizeCreate(principal)) != nil ? PageRoutes.newConfiguration(path).url() : nil,
            readOnly: false, filter: filter, columns: ["Username", "Security level", "Customers", "Queues", "Status"], rows: items,
            nextURL: found.count > ConfigurationPages.pageSize ? rows.last.map { PageURL.with(listURL, query: query2 + [("after", $0.username)]) } : nil,
            firstURL: after == nil ? nil : PageURL.with(listURL, query: query2),
            notice: req.queryText("notice").flatMap { notices[$0] },
            selects: [
                ConfigurationPages.Select(
                    name: "status", label: "Status",
                    options: [("active", "Active"), ("inactive", "Deactivated"), ("all", "All")].map {
                        SelectOption(value: $0.0, label: $0.1, selected: $0.0 == status)
                    })
            ],
            rowAction: "Deactivate", filterLabel: "Name or username contains")
        return try await req.renderPage(ConfigurationPages.listView, model)
    }

    @Sendable static func newForm(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        try ResourceService.authorizeCreate(principal)
        return try await renderForm(req, resource: nil, form: Form(allCustomers: "yes"))
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        try ResourceService.authorizeCreate(principal)
        let form = try req.content.decode(Form.self)
        do {
            let input = try await input(form, stored: nil, by: principal, on: req.db)
            let resource = try await ResourceService.create(input, by: principal, on: req.db, passwords: req.password.async)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(resource.id!), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, resource: nil, form: form, error: error)
        }
    }

    @Sendable static func edit(_ req: Request) async throws -> Response {
        _ = try begin(req)
        let resource = try await visible(req)
        return try await renderForm(
            req, resource: resource, form: try await form(resource, on: req.db), notice: req.queryText("notice").flatMap { notices[$0] })
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let resource = try await visible(req)
        let form = try req.content.decode(Form.self)
        do {
            let input = try await input(form, stored: resource, by: principal, on: req.db)
            try await ResourceService.update(resource, input, by: principal, on: req.db, passwords: req.password.async)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(resource.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            // The model may hold some of the refused values; the page shows the stored one.
            return try await renderForm(req, resource: try await visible(req), form: form, error: error)
        }
    }

    @Sendable static func confirmDeactivate(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let resource = try await visible(req)
        try AccessPolicy.authorizeConfiguration(principal, .resources, .delete)
        return try await renderDeactivate(req, resource, feedback: nil)
    }

    @Sendable static func deactivate(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let resource = try await visible(req)
        do {
            guard resource.active else { throw TandemError.conflict("this resource is already deactivated") }
            try await ResourceService.deactivate(resource, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configurations(path).url(), query: [("notice", "deactivated")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderDeactivate(req, try await visible(req), feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// Back to active, as `PATCH {active: true}` does; what deactivation took away stays taken.
    @Sendable static func reactivate(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let resource = try await visible(req)
        guard !resource.active else { return req.seeOther(PageRoutes.configuration(path).url(resource.id!)) }
        var input = ResourceInput()
        input.active = .value(true)
        try await ResourceService.update(resource, input, by: principal, on: req.db, passwords: req.password.async)
        return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(resource.id!), query: [("notice", "reactivated")]))
    }

    // MARK: Form and input

    static func visible(_ req: Request) async throws -> Resource {
        try await Lookup.visible(
            Resource.self, req.id("id", noun), scope: AccessPolicy.configurationScope(for: try req.principal, .resources, .view), table: Resource.scopeTable,
            what: noun, on: req.db)
    }

    /// The form showing a stored resource.
    static func form(_ resource: Resource, on db: any Database) async throws -> Form {
        let dto = try await ResourceService.dto(resource, on: db)
        return Form(
            firstName: dto.firstName, lastName: dto.lastName, username: dto.username, email: dto.email ?? "", password: nil,
            securityLevelId: dto.securityLevelId, allCustomers: dto.clientRestrictions == nil ? "yes" : "no", clientRestrictions: dto.clientRestrictions ?? [],
            queueIds: dto.queueIds, teamIds: try await ResourceService.teamIds(of: resource.id!, on: db).map(\.uuidString), timeZone: dto.timeZone ?? "")
    }

    /// Whether the principal may change which teams a resource is in (the teams' own permission).
    static func mayChangeTeams(_ principal: Principal) -> Bool {
        (try? AccessPolicy.authorizeConfiguration(principal, .teams, .edit)) != nil
    }

    /// The API body the form means. Restrictions to organizations the principal cannot see are kept as stored,
    /// since the form could not show them.
    static func input(_ form: Form, stored: Resource?, by principal: Principal, on db: any Database) async throws -> ResourceInput {
        var input = ResourceInput()
        input.firstName = .value(form.firstName ?? "")
        input.lastName = .value(form.lastName ?? "")
        input.username = .value(form.username ?? "")
        let email = Whitespace.trim(form.email ?? "")
        input.email = email.isEmpty ? .null : .value(email)
        let zone = Whitespace.trim(form.timeZone ?? "")
        input.timeZone = zone.isEmpty ? .null : .value(zone)
        if stored == nil || !(form.password ?? "").isEmpty { input.password = .value(form.password ?? "") }
        if let level = form.securityLevelId { input.securityLevelId = .value(level) }
        switch form.allCustomers {
        case "yes": input.clientRestrictions = .null
        case "no":
            var ids = form.clientRestrictions ?? []
            if let stored {
                let storedIds = try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == stored.id!).all().map(\.organizationId)
                let hidden = try await hiddenOrganizations(storedIds, from: principal, on: db)
                ids += hidden.map(\.uuidString)
            }
            input.clientRestrictions = .value(ids)
        default:
            if stored == nil { input.clientRestrictions = .null }
        }
        input.queueIds = .value(form.queueIds ?? [])
        if mayChangeTeams(principal) { input.teamIds = .value(form.teamIds ?? []) }
        return input
    }

    static func hiddenOrganizations(_ ids: [UUID], from principal: Principal, on db: any Database) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        let seen = try await Organization.query(on: db).filter(\.$id ~~ ids).filter(
            AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable
        ).all(\.$id)
        return Set(ids).subtracting(seen)
    }

    static func levelNames(on db: any Database) async throws -> [UUID: String] {
        Dictionary(try await SecurityLevel.query(on: db).all().map { ($0.id!, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    static func fields(_ form: Form, creating: Bool, problems: [String: String], by principal: Principal, on db: any Database) async throws
        -> [ConfigurationPages.Field]
    {
        typealias Field = ConfigurationPages.Field
        typealias Choice = CoManagedSetupPage.Choice
        let levels = try await SecurityLevel.query(on: db).filter(\.$coManaged == false).sort(\.$name).all()
        let chosenLevel = form.securityLevelId ?? ""
        var levelOptions = levels.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, chosenLevel)) }
        if !levelOptions.contains(where: \.selected) {
            levelOptions.insert(SelectOption(value: "", label: "Choose a security level", selected: true), at: 0)
        }
        let organizations = try await Organization.query(on: db)
            .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable).sort(\.$name).all()
        let restricted = Set((form.clientRestrictions ?? []).compactMap(UUID.init(uuidString:)))
        let queues = try await Queue.query(on: db).sort(\.$name).all()
        let queueIds = Set((form.queueIds ?? []).compactMap(UUID.init(uuidString:)))
        let all = form.allCustomers != "no"
        var fields = [
            Field(name: "firstName", label: "First name", value: form.firstName ?? "", error: problems["firstName"], maxLength: 100),
            Field(name: "lastName", label: "Last name", value: form.lastName ?? "", error: problems["lastName"], maxLength: 100),
            Field(
                name: "username", label: "Username", value: form.username ?? "", hint: "letters, digits, '.', '-' and '_'; at most 32",
                error: problems["username"], maxLength: 32),
            Field(name: "email", label: "Email", kind: "email", value: form.email ?? "", hint: "optional", error: problems["email"], maxLength: 254),
            Field(
                name: "timeZone", label: "Time zone", value: form.timeZone ?? "",
                hint: "IANA, such as America/New_York: their timesheet days, and the times their pages show and read; empty: UTC",
                error: problems["timeZone"], maxLength: 64, suggestions: TimeZone.knownTimeZoneIdentifiers.sorted()),
        ]
        if creating || (try? AccessPolicy.authorizeCredentialChange(principal, .password)) != nil {
            fields.append(
                Field(
                    name: "password", label: creating ? "Password" : "New password", kind: "password",
                    hint: creating ? "at least 10 characters" : "leave empty to keep the current one; a new one ends their sessions",
                    error: problems["password"], maxLength: 200))
        }
        fields += [
            Field(name: "securityLevelId", label: "Security level", kind: "select", error: problems["securityLevelId"], options: levelOptions),
            Field(
                name: "allCustomers", label: "Allow use of all customers", kind: "radio", error: problems["allCustomers"],
                options: [
                    SelectOption(value: "yes", label: "Yes: every organization", selected: all),
                    SelectOption(value: "no", label: "No: only the organizations ticked below (client restrictions)", selected: !all),
                ]),
            Field(
                name: "clientRestrictions", label: "Client restrictions", kind: "choices",
                hint: "used when all customers are not allowed; their tickets, contacts, sites and search reach only these",
                error: problems["clientRestrictions"],
                choices: organizations.map { Choice(value: $0.id!.uuidString, label: $0.name, checked: restricted.contains($0.id!)) }),
            Field(
                name: "queueIds", label: "Queues", kind: "choices", error: problems["queueIds"],
                choices: queues.map { Choice(value: $0.id!.uuidString, label: $0.name, checked: queueIds.contains($0.id!)) }),
        ]
        if mayChangeTeams(principal) {
            let teams = try await Team.query(on: db).sort(\.$name).all()
            let teamIds = Set((form.teamIds ?? []).compactMap(UUID.init(uuidString:)))
            fields.append(
                Field(
                    name: "teamIds", label: "Teams", kind: "choices", hint: "a new member has full access; change it on the team's page",
                    error: problems["teamIds"], choices: teams.map { Choice(value: $0.id!.uuidString, label: $0.name, checked: teamIds.contains($0.id!)) }))
        }
        return fields
    }

    /// An error as the form shows it: each problem beside its field; a taken username beside the username.
    static func feedback(_ error: TandemError, fields: [ConfigurationPages.Field]) -> FormFeedback {
        if case .conflict(let message) = error, message.hasPrefix("the username") {
            return FormFeedback(summary: [FormFeedback.sentence("", message)], fields: ["username": FormFeedback.sentence("", message)])
        }
        return ConfigurationPages.feedback(error, fields: fields) { $0 }
    }

    static func renderForm(_ req: Request, resource: Resource?, form: Form, error: TandemError? = nil, notice: String? = nil) async throws -> Response {
        let principal = try req.principal
        let name = resource?.fullName
        var layout = req.pageLayout(name ?? "New \(noun)", section: "admin")
        layout.title = name.map { "\($0) · \(title)" } ?? "New \(noun)"
        let blank = try await fields(form, creating: resource == nil, problems: [:], by: principal, on: req.db)
        let problems = error.map { feedback($0, fields: blank) }
        let shown = try await fields(form, creating: resource == nil, problems: problems?.fields ?? [:], by: principal, on: req.db)
        let mayDeactivate = resource.map { $0.active && $0.id != principal.id } ?? false
        var heading = name ?? "New \(noun)"
        if let resource, !resource.active { heading += " (deactivated)" }
        let model = ConfigurationPages.FormModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), heading: heading, backURL: PageRoutes.configurations(path).url(),
            backLabel: title, action: resource.map { PageRoutes.configuration(path).url($0.id!) } ?? PageRoutes.newConfiguration(path).url(), fields: shown,
            feedback: problems, readOnly: false, deleteURL: mayDeactivate ? resource.map { PageRoutes.configurationDelete(path).url($0.id!) } : nil,
            members: nil, notice: notice, deleteLabel: "Deactivate…",
            extraAction: resource.flatMap { resource in
                resource.active
                    ? nil
                    : ConfigurationPages.ExtraAction(
                        heading: "Reactivate",
                        hint:
                            "They can log in again with their password (set a new one above first if they need it). The queues, teams and account teams they left are not given back.",
                        url: PageRoutes.resourceReactivate.url(resource.id!), label: "Reactivate \(resource.fullName)")
            })
        return try await req.renderPage(ConfigurationPages.formView, model, status: error?.pageStatus ?? .ok)
    }

    static func renderDeactivate(_ req: Request, _ resource: Resource, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.principal
        let name = resource.fullName
        var layout = req.pageLayout("Deactivate \(name)", section: "admin")
        layout.title = "Deactivate \(name) · \(title)"
        let impact = try await ResourceService.deactivationImpact(resource, shownTo: principal, on: req.db)
        var refusal: String?
        if !resource.active {
            refusal = "This resource is already deactivated."
        } else if resource.id == principal.id {
            refusal = "You cannot deactivate yourself; ask another administrator."
        }
        let tickets =
            impact.tickets == 0
            ? "They are an assignee of no ticket you can see."
            : "Tickets you can see that they are an assignee of: \(impact.tickets); they are taken off them"
                + (impact.ticketsLeftUnassigned > 0
                    ? ", which leaves \(ConfigurationPages.count(impact.ticketsLeftUnassigned, "ticket")) with no assignee." : ".")
        let consequences = [
            "They can no longer log in; their sessions and API tokens end now.",
            tickets,
            impact.queues.isEmpty ? "They are in no queue." : "They leave their queues: \(impact.queues.joined(separator: ", ")).",
            impact.teams.isEmpty ? "They are in no team." : "They leave their teams: \(impact.teams.joined(separator: ", ")).",
            impact.accountTeams.isEmpty
                ? "They are on no organization's account team." : "They leave the account teams of: \(impact.accountTeams.joined(separator: ", ")).",
            impact.accountManaged.isEmpty
                ? "They manage no organization's account."
                : "These organizations are left without an account manager: \(impact.accountManaged.joined(separator: ", ")).",
            "Their notes, time entries and the tickets' history keep their name.",
        ]
        let model = ConfigurationPages.DeleteModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), noun: noun, name: name,
            backURL: PageRoutes.configuration(path).url(resource.id!), action: PageRoutes.configurationDelete(path).url(resource.id!),
            consequences: consequences, brokenRules: impact.brokenRules, refusal: refusal, feedback: feedback,
            heading: "Deactivate the resource “\(name)”?", impactHeading: "What deactivating them changes",
            impactNote: "Worked out now; nothing changes until you confirm below. A deactivated resource keeps its history; its memberships are not restored.",
            confirmLabel: "Deactivate \(name)")
        return try await req.renderPage(ConfigurationPages.deleteView, model, status: status)
    }
}

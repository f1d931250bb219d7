import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `/admin/organization-groups`: organization groups by name, filtered by name; a form with the group's name
/// and its organizations (ticked); a delete that first shows, on its own page, what it will change. Every
/// change goes through `OrganizationGroups`, as `/api/v1/organization-groups` does. MSP staff read the pages;
/// those who manage users change them.
enum OrganizationGroupPages {
    static let path = "organization-groups"
    static let title = "Organization groups"
    static let noun = "organization group"
    static let intro =
        "The co-managing users of the organizations in one group see each other in the people directory (the customer group override); those of an organization in no group see only their own organization's. An organization is in one group at most."

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.configurations(path).pathComponents, use: list)
        routes.get(PageRoutes.newConfiguration(path).pathComponents, use: newForm)
        routes.post(PageRoutes.newConfiguration(path).pathComponents, use: create)
        routes.get(PageRoutes.configuration(path).pathComponents, use: edit)
        routes.post(PageRoutes.configuration(path).pathComponents, use: save)
        routes.get(PageRoutes.configurationDelete(path).pathComponents, use: confirmDelete)
        routes.post(PageRoutes.configurationDelete(path).pathComponents, use: delete)
    }

    struct Form: Decodable, Sendable {
        var name: String?
        var organizationIds: [String]?
    }

    static let notices = ["created": "The group was created.", "saved": "It was saved.", "deleted": "The group was deleted."]

    static func begin(_ req: Request) throws -> Principal {
        let principal = try req.principal
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .view)
        return principal
    }

    static func may(_ principal: Principal, _ operation: AccessOperation) -> Bool {
        (try? AccessPolicy.authorizeConfiguration(principal, .organizationGroups, operation)) != nil
    }

    @Sendable static func list(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let filter = Whitespace.trim(req.queryText("q") ?? "")
        let after = req.queryText("after")?.nonEmpty
        var query = OrganizationGroup.query(on: req.db).filter(OrganizationGroups.scope(for: principal), on: OrganizationGroup.scopeTable)
        if !filter.isEmpty {
            query = query.filter(.sql(SQLQueryString("LOWER(organization_groups.name) LIKE \(bind: SearchAPI.like(filter)) ESCAPE '\\'")))
        }
        if let after { query = query.filter(\.$name > after) }
        let found = try await query.sort(\.$name).limit(ConfigurationPages.pageSize + 1).all()
        let groups = Array(found.prefix(ConfigurationPages.pageSize))
        let members = try await OrganizationGroups.organizationIds(of: groups.compactMap(\.id), on: req.db)
        let seen = try await OrganizationGroups.visibleOrganizations(members.values.reduce(into: Set<UUID>()) { $0.formUnion($1) }, to: principal, on: req.db)
        let names = try await AdminNames.organizations(Array(seen), on: req.db)
        let mayDelete = may(principal, .delete)
        let rows = groups.map { group in
            let shown = (members[group.id!] ?? []).intersection(seen).compactMap { names[$0] }.sorted()
            return ConfigurationPages.Row(
                name: group.name, url: PageRoutes.configuration(path).url(group.id!), cells: [shown.joined(separator: ", ").nonEmpty ?? "None"],
                deleteURL: mayDelete ? PageRoutes.configurationDelete(path).url(group.id!) : nil)
        }
        let listURL = PageRoutes.configurations(path).url()
        let mayCreate = may(principal, .create)
        let model = ConfigurationPages.ListModel(
            layout: req.pageLayout(title, section: "admin"), tabs: AdminPages.tabs(for: principal, current: path), heading: title, intro: intro, noun: noun,
            listURL: listURL, newURL: mayCreate ? PageRoutes.newConfiguration(path).url() : nil, readOnly: !mayCreate, filter: filter,
            columns: ["Organizations"], rows: rows,
            nextURL: found.count > ConfigurationPages.pageSize ? groups.last.map { PageURL.with(listURL, query: [("q", filter), ("after", $0.name)]) } : nil,
            firstURL: after == nil ? nil : PageURL.with(listURL, query: [("q", filter)]), notice: req.queryText("notice").flatMap { notices[$0] })
        return try await req.renderPage(ConfigurationPages.listView, model)
    }

    @Sendable static func newForm(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .create)
        return try await renderForm(req, group: nil, form: Form())
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .create)
        let form = try req.content.decode(Form.self)
        do {
            let dto = try await OrganizationGroups.save(nil, input(form), by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(dto.id), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, group: nil, form: form, error: error)
        }
    }

    @Sendable static func edit(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let group = try await visible(req)
        let dto = try await OrganizationGroups.dto(group, shownTo: principal, on: req.db)
        return try await renderForm(
            req, group: group, form: Form(name: group.name, organizationIds: dto.organizationIds), notice: req.queryText("notice").flatMap { notices[$0] })
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let group = try await visible(req)
        // Refused before the form is read, as the API's PATCH is: a 403 page, not a form.
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .edit)
        let form = try req.content.decode(Form.self)
        do {
            _ = try await OrganizationGroups.save(group, input(form), by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(group.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, group: try await visible(req), form: form, error: error)
        }
    }

    @Sendable static func confirmDelete(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let group = try await visible(req)
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .delete)
        return try await renderDelete(req, group, feedback: nil)
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let group = try await visible(req)
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .delete)
        do {
            try await OrganizationGroups.delete(group, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configurations(path).url(), query: [("notice", "deleted")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderDelete(req, group, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    // MARK: Form

    static func visible(_ req: Request) async throws -> OrganizationGroup {
        try await OrganizationGroups.visible(req.id("id", noun), by: req.principal, on: req.db)
    }

    /// The API body the form means: the organizations ticked (those the principal cannot see are kept by the service).
    static func input(_ form: Form) -> OrganizationGroupInput {
        var input = OrganizationGroupInput()
        input.name = .value(form.name ?? "")
        input.organizationIds = .value(form.organizationIds ?? [])
        return input
    }

    /// The organizations to choose from: those the principal may see (the first `PageOptions.maxOptions` by name,
    /// and any ticked), each with the group it is in now when that is another.
    static func fields(_ form: Form, group: OrganizationGroup?, problems: [String: String], by principal: Principal, on db: any Database) async throws
        -> [ConfigurationPages.Field]
    {
        let ticked = Set((form.organizationIds ?? []).compactMap(UUID.init(uuidString:)))
        let scope = AccessPolicy.organizationScope(for: principal, area: .organizations, .view)
        var organizations: [Organization] = []
        if scope != .none {
            organizations = try await Organization.query(on: db).filter(scope, on: Organization.scopeTable).sort(\.$name).limit(PageOptions.maxOptions).all()
            let missing = ticked.subtracting(organizations.compactMap(\.id))
            if !missing.isEmpty {
                organizations += try await Organization.query(on: db).filter(\.$id ~~ Array(missing)).filter(scope, on: Organization.scopeTable).all()
                organizations.sort { $0.name < $1.name }
            }
        }
        let memberships = try await OrganizationGroupMember.query(on: db).filter(\.$organizationId ~~ organizations.compactMap(\.id)).all()
        let groupNames = try await PageNames.of(OrganizationGroup.self, ids: memberships.map(\.groupId), allowed: true, on: db) { $0.name }
        var elsewhere: [UUID: String] = [:]
        for member in memberships where member.groupId != group?.id { elsewhere[member.organizationId] = groupNames[member.groupId] }
        return [
            ConfigurationPages.Field(name: "name", label: "Name", value: form.name ?? "", error: problems["name"], maxLength: 100),
            ConfigurationPages.Field(
                name: "organizationIds", label: "Organizations", kind: "choices", hint: "an organization is in one group at most",
                error: problems["organizationIds"],
                choices: organizations.map { organization in
                    CoManagedSetupPage.Choice(
                        value: organization.id!.uuidString, label: organization.name,
                        detail: elsewhere[organization.id!].map { "now in \($0)" }, checked: ticked.contains(organization.id!))
                }),
        ]
    }

    static func feedback(_ error: TandemError, fields: [ConfigurationPages.Field]) -> FormFeedback {
        if case .conflict(let message) = error, message.hasPrefix("an organization group named") {
            return FormFeedback(summary: [FormFeedback.sentence("", message)], fields: ["name": FormFeedback.sentence("", message)])
        }
        return ConfigurationPages.feedback(error, fields: fields) { $0.hasPrefix("organizationIds") ? "organizationIds" : $0 }
    }

    static func renderForm(_ req: Request, group: OrganizationGroup?, form: Form, error: TandemError? = nil, notice: String? = nil) async throws -> Response {
        let principal = try req.principal
        var layout = req.pageLayout(group?.name ?? "New \(noun)", section: "admin")
        layout.title = group.map { "\($0.name) · \(title)" } ?? "New \(noun)"
        let blank = try await fields(form, group: group, problems: [:], by: principal, on: req.db)
        let problems = error.map { feedback($0, fields: blank) }
        let shown = try await fields(form, group: group, problems: problems?.fields ?? [:], by: principal, on: req.db)
        let mayEdit = may(principal, group == nil ? .create : .edit)
        let mayDelete = group != nil && may(principal, .delete)
        let model = ConfigurationPages.FormModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), heading: group?.name ?? "New \(noun)",
            backURL: PageRoutes.configurations(path).url(), backLabel: title,
            action: group.map { PageRoutes.configuration(path).url($0.id!) } ?? PageRoutes.newConfiguration(path).url(), fields: shown, feedback: problems,
            readOnly: !mayEdit, deleteURL: mayDelete ? group.map { PageRoutes.configurationDelete(path).url($0.id!) } : nil, members: nil, notice: notice)
        return try await req.renderPage(ConfigurationPages.formView, model, status: error?.pageStatus ?? .ok)
    }

    static func renderDelete(_ req: Request, _ group: OrganizationGroup, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.principal
        var layout = req.pageLayout("Delete \(group.name)", section: "admin")
        layout.title = "Delete \(group.name) · \(title)"
        let stored = try await OrganizationGroups.organizationIds(of: [group.id!], on: req.db)[group.id!] ?? []
        let seen = try await OrganizationGroups.visibleOrganizations(stored, to: principal, on: req.db)
        let names = try await AdminNames.organizations(Array(seen), on: req.db).values.sorted()
        let users = try await PeopleDirectory.visible(
            CoManagingUser.query(on: req.db).filter(\.$organizationId ~~ Array(seen)).filter(\.$erased == false).all(\.$id), kind: .coManagingUser,
            to: principal, on: req.db
        ).count
        var refusal: String?
        do {
            try AccessPolicy.authorizeOrganizationGroupDelete(principal, hiddenOrganizations: stored.count - seen.count)
        } catch {
            refusal = PageErrors.describe(error).message
        }
        let consequences = [
            names.isEmpty ? "The group holds no organization." : "Its organizations leave it: \(names.joined(separator: ", ")).",
            users == 0
                ? "No co-managing user belongs to these organizations."
                : "\(ConfigurationPages.count(users, "co-managing user")) of these organizations then see only the co-managing users of their own organization.",
            "The organizations, their co-managed setup and tickets do not change.",
        ]
        let model = ConfigurationPages.DeleteModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), noun: noun, name: group.name,
            backURL: PageRoutes.configuration(path).url(group.id!), action: PageRoutes.configurationDelete(path).url(group.id!), consequences: consequences,
            brokenRules: [], refusal: refusal, feedback: feedback)
        return try await req.renderPage(ConfigurationPages.deleteView, model, status: status)
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `/admin/co-managing-teams`: co-managing teams by name, filtered by name; a form with the team's name and
/// its members (co-managing users, ticked); the organizations it is associated with (set on the co-managed
/// setup); a delete that first shows, on its own page, what it will change. Every change goes through
/// `CoManagingTeams`, as `/api/v1/co-managing-teams` does. For those who may change co-managing teams.
enum CoManagingTeamPages {
    static let path = "co-managing-teams"
    static let title = "Co-managing teams"
    static let noun = "co-managing team"
    static let intro =
        "A co-managing team associated with an organization gives each of its members (the client's IT staff) access to that organization's shared tickets."

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
        var memberIds: [String]?
    }

    static let notices = ["created": "The team was created.", "saved": "It was saved.", "deleted": "The team was deleted."]

    static func begin(_ req: Request) throws -> Principal {
        let principal = try req.principal
        try AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .edit)
        return principal
    }

    @Sendable static func list(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let filter = Whitespace.trim(req.queryText("q") ?? "")
        let after = req.queryText("after")?.nonEmpty
        var query = CoManagingTeam.query(on: req.db).filter(AccessPolicy.coManagingTeamScope(for: principal), on: CoManagingTeam.scopeTable)
        if !filter.isEmpty {
            query = query.filter(.sql(SQLQueryString("LOWER(co_managing_teams.name) LIKE \(bind: SearchAPI.like(filter)) ESCAPE '\\'")))
        }
        if let after { query = query.filter(\.$name > after) }
        let found = try await query.sort(\.$name).limit(ConfigurationPages.pageSize + 1).all()
        let teams = Array(found.prefix(ConfigurationPages.pageSize))
        let associations = try await CoManagedAssociation.query(on: req.db).filter(\.$teamId ~~ teams.map { $0.id! }).all()
        let mayDelete = (try? AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .delete)) != nil
        // The organizations the principal may see, once for the whole page.
        let seen = Set(try await visibleOrganizations(Array(Set(associations.map(\.organizationId))), to: principal, on: req.db).compactMap(\.id))
        var rows: [ConfigurationPages.Row] = []
        for team in teams {
            let dto = try await CoManagingTeams.dto(team, shownTo: principal, on: req.db)
            let organizations = Set(associations.filter { $0.teamId == team.id && seen.contains($0.organizationId) }.map(\.organizationId))
            rows.append(
                ConfigurationPages.Row(
                    name: team.name, url: PageRoutes.configuration(path).url(team.id!), cells: [String(dto.memberIds.count), String(organizations.count)],
                    deleteURL: mayDelete ? PageRoutes.configurationDelete(path).url(team.id!) : nil))
        }
        let listURL = PageRoutes.configurations(path).url()
        let mayCreate = (try? AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .create)) != nil
        let model = ConfigurationPages.ListModel(
            layout: req.pageLayout(title, section: "admin"), tabs: AdminPages.tabs(for: principal, current: path), heading: title, intro: intro, noun: noun,
            listURL: listURL, newURL: mayCreate ? PageRoutes.newConfiguration(path).url() : nil, readOnly: false, filter: filter,
            columns: ["Members", "Organizations"], rows: rows,
            nextURL: found.count > ConfigurationPages.pageSize ? teams.last.map { PageURL.with(listURL, query: [("q", filter), ("after", $0.name)]) } : nil,
            firstURL: after == nil ? nil : PageURL.with(listURL, query: [("q", filter)]), notice: req.queryText("notice").flatMap { notices[$0] })
        return try await req.renderPage(ConfigurationPages.listView, model)
    }

    @Sendable static func newForm(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        try AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .create)
        return try await renderForm(req, team: nil, form: Form())
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        try AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .create)
        let form = try req.content.decode(Form.self)
        do {
            let dto = try await CoManagingTeams.save(nil, input(form), by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(dto.id), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, team: nil, form: form, error: error)
        }
    }

    @Sendable static func edit(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let team = try await visible(req)
        let dto = try await CoManagingTeams.dto(team, shownTo: principal, on: req.db)
        return try await renderForm(
            req, team: team, form: Form(name: team.name, memberIds: dto.memberIds), notice: req.queryText("notice").flatMap { notices[$0] })
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let team = try await visible(req)
        let form = try req.content.decode(Form.self)
        do {
            _ = try await CoManagingTeams.save(team, input(form), by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(team.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderForm(req, team: try await visible(req), form: form, error: error)
        }
    }

    @Sendable static func confirmDelete(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let team = try await visible(req)
        try AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .delete)
        return try await renderDelete(req, team, feedback: nil)
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let principal = try begin(req)
        let team = try await visible(req)
        do {
            try await CoManagingTeams.delete(team, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.configurations(path).url(), query: [("notice", "deleted")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderDelete(req, team, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    // MARK: Form

    static func visible(_ req: Request) async throws -> CoManagingTeam {
        try await CoManagingTeams.visible(req.id("id", noun), by: req.principal, on: req.db)
    }

    /// The API body the form means: the members ticked (members the principal cannot see are kept by the service).
    static func input(_ form: Form) -> CoManagingTeamInput {
        var input = CoManagingTeamInput()
        input.name = .value(form.name ?? "")
        input.memberIds = .value(form.memberIds ?? [])
        return input
    }

    static func visibleOrganizations(_ ids: [UUID], to principal: Principal, on db: any Database) async throws -> [Organization] {
        guard !ids.isEmpty else { return [] }
        return try await Organization.query(on: db).filter(\.$id ~~ ids)
            .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable).sort(\.$name).all()
    }

    /// The co-managing users a member can be chosen from: those the principal may see, active or already ticked.
    static func fields(_ form: Form, problems: [String: String], by principal: Principal, on db: any Database) async throws -> [ConfigurationPages.Field] {
        let ticked = Set((form.memberIds ?? []).compactMap(UUID.init(uuidString:)))
        let users = try await CoManagingUser.query(on: db).filter(AccessPolicy.peopleScope(for: principal, .coManagingUser), on: CoManagingUser.scopeTable)
            .filter(\.$erased == false).sort(\.$username).all()
            .filter { $0.active || ticked.contains($0.id!) }
        let names = try await AdminNames.users(users.map { $0.id! }, on: db)
        let organizations = try await AdminNames.organizations(users.map(\.organizationId), on: db)
        return [
            ConfigurationPages.Field(name: "name", label: "Name", value: form.name ?? "", error: problems["name"], maxLength: 100),
            ConfigurationPages.Field(
                name: "memberIds", label: "Members", kind: "choices", hint: "co-managing users; a user can be in at most 100 teams",
                error: problems["memberIds"],
                choices: users.map { user in
                    CoManagedSetupPage.Choice(
                        value: user.id!.uuidString, label: names[user.id!]?.label ?? user.username,
                        detail: [organizations[user.organizationId], user.active ? nil : "deactivated"].compactMap { $0 }.joined(separator: ", "),
                        checked: ticked.contains(user.id!))
                }),
        ]
    }

    static func feedback(_ error: TandemError, fields: [ConfigurationPages.Field]) -> FormFeedback {
        if case .conflict(let message) = error, message.hasPrefix("a co-managing team named") {
            return FormFeedback(summary: [FormFeedback.sentence("", message)], fields: ["name": FormFeedback.sentence("", message)])
        }
        // "memberIds[2]" or "memberIds" are both about the members' list.
        return ConfigurationPages.feedback(error, fields: fields) { $0.hasPrefix("memberIds") ? "memberIds" : $0 }
    }

    static func renderForm(_ req: Request, team: CoManagingTeam?, form: Form, error: TandemError? = nil, notice: String? = nil) async throws -> Response {
        let principal = try req.principal
        var layout = req.pageLayout(team?.name ?? "New \(noun)", section: "admin")
        layout.title = team.map { "\($0.name) · \(title)" } ?? "New \(noun)"
        let blank = try await fields(form, problems: [:], by: principal, on: req.db)
        let problems = error.map { feedback($0, fields: blank) }
        let shown = try await fields(form, problems: problems?.fields ?? [:], by: principal, on: req.db)
        var related: ConfigurationPages.Related?
        if let team {
            let ids = try await CoManagedAssociation.query(on: req.db).filter(\.$teamId == team.id!).all().map(\.organizationId)
            let organizations = try await visibleOrganizations(ids, to: principal, on: req.db)
            let maySetUp = (try? AccessPolicy.authorizeAdmin(principal, .activateCoManagement)) != nil
            related = ConfigurationPages.Related(
                heading: "Organizations",
                hint: "The team's members work these organizations' shared tickets. Associations are set on each organization's co-managed setup.",
                rows: organizations.map {
                    CoManagementAdminPage.Row(name: $0.name, url: maySetUp ? PageURL.coManagedOrganization($0.id!).path : PageURL.organization($0.id!).path)
                })
        }
        let mayDelete = team != nil && (try? AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .delete)) != nil
        let model = ConfigurationPages.FormModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), heading: team?.name ?? "New \(noun)",
            backURL: PageRoutes.configurations(path).url(), backLabel: title,
            action: team.map { PageRoutes.configuration(path).url($0.id!) } ?? PageRoutes.newConfiguration(path).url(), fields: shown, feedback: problems,
            readOnly: false, deleteURL: mayDelete ? team.map { PageRoutes.configurationDelete(path).url($0.id!) } : nil, members: nil, notice: notice,
            related: related)
        return try await req.renderPage(ConfigurationPages.formView, model, status: error?.pageStatus ?? .ok)
    }

    static func renderDelete(_ req: Request, _ team: CoManagingTeam, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.principal
        var layout = req.pageLayout("Delete \(team.name)", section: "admin")
        layout.title = "Delete \(team.name) · \(title)"
        let members = try await CoManagingTeams.dto(team, shownTo: principal, on: req.db).memberIds.count
        let ids = try await CoManagedAssociation.query(on: req.db).filter(\.$teamId == team.id!).all().map(\.organizationId)
        let organizations = try await visibleOrganizations(ids, to: principal, on: req.db)
        let consequences = [
            members == 0 ? "The team has no members." : "Its \(ConfigurationPages.count(members, "member")) leave it.",
            organizations.isEmpty
                ? "It is associated with no organization."
                : "Its associations with \(organizations.map(\.name).joined(separator: ", ")) are deleted: its members lose the access to these organizations' tickets that the team gave them (an association of their own stays).",
            "The co-managing users themselves, their tickets and notes do not change.",
        ]
        let model = ConfigurationPages.DeleteModel(
            layout: layout, tabs: AdminPages.tabs(for: principal, current: path), noun: noun, name: team.name,
            backURL: PageRoutes.configuration(path).url(team.id!), action: PageRoutes.configurationDelete(path).url(team.id!), consequences: consequences,
            brokenRules: [], refusal: nil, feedback: feedback)
        return try await req.renderPage(ConfigurationPages.deleteView, model, status: status)
    }
}

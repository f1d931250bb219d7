import Fluent
import Foundation
import TandemCore
import Vapor

/// The organization page's account team: the account manager, the MSP resources on the team (add, remove)
/// and the associated co-managing users, marked co-managed. Every change goes through `AccountTeams.update`,
/// as `PUT /api/v1/organizations/{id}/account-team` does; a refusal is shown beside the field it is about.
enum AccountTeamPanel {
    struct Model: Encodable, Sendable {
        var csrf: String?
        var readOnly: Bool
        var manager: String
        var managerURL: String
        var managerOptions: [SelectOption]
        var rows: [Member]
        var addURL: String
        var people: [SelectOption]
        var feedback: FormFeedback?
    }

    struct Member: Encodable, Sendable {
        var id: String
        var name: String
        var coManaged: Bool
        var manager: Bool
        var removeURL: String?
        var error: String?
    }

    struct ManagerForm: Decodable, Sendable {
        var accountManagerId: String?
    }

    struct AddForm: Decodable, Sendable {
        var resourceId: String?
    }

    static func register(_ routes: any RoutesBuilder) {
        routes.post(PageRoutes.accountManager.pathComponents, use: setManager)
        routes.post(PageRoutes.accountTeam.pathComponents, use: addMember)
        routes.post(PageRoutes.accountTeamMemberRemove.pathComponents, use: removeMember)
    }

    /// The panel, or nil when the principal may not read the organization's account team.
    static func model(
        _ organization: Organization, by principal: Principal, csrf: String?, chosen: String? = nil, memberErrors: [UUID: String] = [:],
        feedback: FormFeedback? = nil, on db: any Database
    ) async throws -> Model? {
        let id = organization.id!
        guard
            try await Organization.query(on: db).filter(\.$id == id).filter(AccessPolicy.accountTeamScope(for: principal, .view), on: Organization.scopeTable)
                .count() > 0
        else { return nil }
        let team = try await AccountTeams.dto(of: organization, shownTo: principal, on: db)
        let mayChange = (try? await AccountTeams.authorizeChange(organization, by: principal, on: db)) != nil
        let resourceIds = team.resourceIds.compactMap(UUID.init(uuidString:))
        let userIds = team.coManagingUserIds.compactMap(UUID.init(uuidString:))
        let resources = try await PageNames.of(Resource.self, ids: resourceIds, allowed: true, on: db) { $0.fullName }
        let users = try await AdminNames.users(userIds, on: db)
        let manager = team.accountManagerId.flatMap(UUID.init(uuidString:))
        var rows = resourceIds.map { resource in
            Member(
                id: resource.uuidString, name: resources[resource] ?? PeopleDirectory.anonymous(.resource), coManaged: false, manager: resource == manager,
                removeURL: mayChange ? PageRoutes.accountTeamMemberRemove.url(id, resource) : nil, error: memberErrors[resource])
        }.sorted { $0.name < $1.name }
        rows += userIds.map { user in
            Member(id: user.uuidString, name: users[user]?.label ?? PeopleDirectory.anonymous(.coManagingUser), coManaged: true, manager: user == manager)
        }.sorted { $0.name < $1.name }
        var managerName = "None"
        if let manager {
            if let row = rows.first(where: { $0.id == manager.uuidString }) {
                managerName = row.coManaged ? "\(row.name) (co-managed)" : row.name
            } else {
                let names = try await PageNames.of(Resource.self, ids: [manager], allowed: true, on: db) { $0.fullName }
                managerName = names[manager] ?? managerName
            }
        }
        let chosenManager = chosen ?? manager?.uuidString ?? ""
        var people: [SelectOption] = []
        if mayChange {
            let candidates = try await Resource.query(on: db).filter(AccessPolicy.peopleScope(for: principal, .resource), on: Resource.scopeTable)
                .filter(\.$active == true).sort(\.$lastName).sort(\.$firstName).all()
                .filter { !resourceIds.contains($0.id!) }
            people =
                [SelectOption(value: "", label: "Choose a person", selected: true)]
                + candidates.map { SelectOption(value: $0.id!.uuidString, label: $0.fullName, selected: false) }
        }
        return Model(
            csrf: csrf, readOnly: !mayChange, manager: managerName, managerURL: PageRoutes.accountManager.url(id),
            managerOptions: [SelectOption(value: "", label: "No account manager", selected: chosenManager.isEmpty)]
                + rows.map {
                    SelectOption(
                        value: $0.id, label: $0.coManaged ? "\($0.name) (co-managed)" : $0.name,
                        selected: PageOptions.sameId(UUID(uuidString: $0.id), chosenManager))
                },
            rows: rows, addURL: PageRoutes.accountTeam.url(id), people: people, feedback: feedback)
    }

    @Sendable static func setManager(_ req: Request) async throws -> Response {
        let form = try req.content.decode(ManagerForm.self)
        var input = AccountTeamInput()
        let chosen = Whitespace.trim(form.accountManagerId ?? "")
        input.accountManagerId = chosen.isEmpty ? .null : .value(chosen)
        return try await change(req, input, notice: "manager", chosen: chosen)
    }

    @Sendable static func addMember(_ req: Request) async throws -> Response {
        let form = try req.content.decode(AddForm.self)
        let organization = try await AccountTeams.visible(req.id("id", "organization"), by: req.principal, on: req.db)
        let current = try await AccountTeams.resourceIds(of: organization.id!, on: req.db).map(\.uuidString)
        var input = AccountTeamInput()
        guard let person = form.resourceId.map(Whitespace.trim)?.nonEmpty else {
            return try await change(req, input, notice: "added") { _ in throw TandemError.invalid("resourceId", "choose a person to add") }
        }
        input.resourceIds = .value(current + [person])
        return try await change(req, input, notice: "added")
    }

    @Sendable static func removeMember(_ req: Request) async throws -> Response {
        let memberId = try req.id("memberId", "account team member")
        let organization = try await AccountTeams.visible(req.id("id", "organization"), by: req.principal, on: req.db)
        let current = try await AccountTeams.resourceIds(of: organization.id!, on: req.db)
        guard current.contains(memberId) else { throw TandemError.notFound("account team member") }
        var input = AccountTeamInput()
        input.resourceIds = .value(current.filter { $0 != memberId }.map(\.uuidString))
        return try await change(req, input, notice: "removed", removing: memberId)
    }

    static let notices = [
        "manager": "The account manager was saved.", "added": "They were added to the account team.", "removed": "They were taken off the account team.",
    ]

    /// Saves `input` through `AccountTeams.update`; a refusal shows the organization page with the problem beside its field.
    static func change(
        _ req: Request, _ input: AccountTeamInput, notice: String, chosen: String? = nil, removing: UUID? = nil,
        check: (AccountTeamInput) throws -> Void = { _ in }
    ) async throws -> Response {
        let principal = try req.principal
        let organization = try await AccountTeams.visible(req.id("id", "organization"), by: principal, on: req.db)
        // Refused before the form is read, as the API's PUT is: a 403 page, not a form.
        try await AccountTeams.authorizeChange(organization, by: principal, on: req.db)
        do {
            try check(input)
            _ = try await AccountTeams.update(organization, input, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.organization(organization.id!).path, query: [("notice", notice)]) + "#account-team")
        } catch let error as TandemError where error.isFormProblem {
            var feedback = FormFeedback(summary: [])
            var memberErrors: [UUID: String] = [:]
            if case .validation(let problems) = error {
                for problem in problems {
                    let message = FormFeedback.sentence("", problem.message)
                    if let removing, problem.field == "resourceIds" {
                        memberErrors[removing] = message
                        feedback.summary.append(message)
                    } else {
                        let field = problem.field == "accountManagerId" ? "accountManagerId" : "resourceId"
                        feedback.fields[field] = message
                        feedback.summary.append(FormFeedback.sentence(field == "accountManagerId" ? "Account manager" : "Person", problem.message))
                    }
                }
            } else {
                feedback = FormFeedback(error)
            }
            let fresh = try await AccountTeams.visible(organization.id!, by: principal, on: req.db)
            return try await OrganizationPage.render(
                req, fresh.id!,
                accountTeam: try await model(
                    fresh, by: principal, csrf: req.pageLayout("").csrf, chosen: chosen, memberErrors: memberErrors, feedback: feedback, on: req.db),
                status: error.pageStatus)
        }
    }
}

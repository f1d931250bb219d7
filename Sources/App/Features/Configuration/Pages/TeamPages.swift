import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/teams`: teams by name; a team's page adds members, changes a member's access (full, own,
/// read-only) and removes members. Each change sends the whole member list through the API's PATCH,
/// as a client of the API would.
enum TeamPages: ConfigurationPage {
    typealias Collection = TeamsCollection
    static let path = "teams"
    static let title = "Teams"
    static let intro = "A team's members see its tickets as their access allows: full (all of them), own (those assigned to them) or read-only."
    static let columns = ["Members"]

    static func cells(_ dto: TeamDTO) -> [String] { [String(dto.members.count)] }

    static func values(_ dto: TeamDTO?) -> [String: String] { ["name": dto?.name ?? ""] }

    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field] {
        [ConfigurationPages.Field(name: "name", label: "Name", value: values["name"] ?? "", error: problems["name"], maxLength: 100)]
    }

    static func input(_ values: [String: String]) throws -> TeamInput {
        var input = TeamInput()
        input.name = .value(values["name"] ?? "")
        return input
    }

    static func consequences(_ row: Team, by principal: Principal, on db: any Database) async throws -> [String] {
        var filter = TicketFilter()
        filter.teamId = row.id
        let tickets = try await TicketService.count(filter, by: principal, on: db)
        let members = try await TeamMember.query(on: db).filter(\.$teamId == row.id!).count()
        return [
            "Tickets you can see that belong to this team: \(tickets).",
            members == 0
                ? "The team has no members."
                : members == 1 ? "Its one member leaves it and loses the team's tickets." : "Its \(members) members leave it and lose the team's tickets.",
        ]
    }

    // MARK: Members

    struct Members: Encodable, Sendable {
        var csrf: String?
        var readOnly: Bool
        var rows: [Member]
        var addURL: String
        var people: [SelectOption]
        var access: [SelectOption]
        var feedback: FormFeedback?
    }

    struct Member: Encodable, Sendable {
        var id: String
        var name: String
        var access: String
        var options: [SelectOption]
        var saveURL: String
        var removeURL: String
        var error: String?
    }

    /// The add form's fields, as posted.
    struct AddForm: Decodable, Sendable {
        var principalId: String?
        var access: String?
    }

    struct AccessForm: Decodable, Sendable {
        var access: String?
    }

    static func registerMembers(_ routes: any RoutesBuilder) {
        routes.post(PageRoutes.teamMembers.pathComponents, use: addMember)
        routes.post(PageRoutes.teamMember.pathComponents, use: changeMember)
        routes.post(PageRoutes.teamMemberRemove.pathComponents, use: removeMember)
    }

    static func label(_ access: TeamAccess) -> String {
        switch access {
        case .full: "Full: all the team's tickets"
        case .own: "Own: the team's tickets assigned to them"
        case .readOnly: "Read-only: sees the team's tickets, changes only their own"
        }
    }

    static func accessOptions(_ chosen: String) -> [SelectOption] {
        TeamAccess.allCases.map { SelectOption(value: $0.rawValue, label: label($0), selected: $0.rawValue == chosen) }
    }

    static func members(_ row: Team, readOnly: Bool, _ req: Request) async throws -> Members? {
        try await membersModel(row, readOnly: readOnly, chosen: AddForm(), req)
    }

    /// The members panel; `chosen` is the add form's choice (kept when it was refused), `errors` a member's problem by id.
    static func membersModel(_ team: Team, readOnly: Bool, chosen: AddForm, errors: [UUID: String] = [:], feedback: FormFeedback? = nil, _ req: Request)
        async throws -> Members
    {
        let principal = try req.principal
        let members = try await TeamsCollection.dto(team, on: req.db).members
        let ids = members.compactMap { UUID(uuidString: $0.principalId) }
        let visible = try await PeopleDirectory.visible(ids, kind: .resource, to: principal, on: req.db)
        let names = try await PageNames.of(Resource.self, ids: Array(visible), allowed: true, on: req.db) { $0.fullName }
        let people = try await Resource.query(on: req.db).filter(AccessPolicy.peopleScope(for: principal, .resource), on: Resource.scopeTable)
            .filter(\.$active == true).sort(\.$lastName).sort(\.$firstName).all()
            .filter { !ids.contains($0.id!) }
        let rows = members.compactMap { member -> Member? in
            guard let id = UUID(uuidString: member.principalId) else { return nil }
            return Member(
                id: id.uuidString, name: names[id] ?? PeopleDirectory.anonymous(.resource),
                access: TeamAccess(rawValue: member.access).map(label) ?? member.access, options: accessOptions(member.access),
                saveURL: PageRoutes.teamMember.url(team.id!, id), removeURL: PageRoutes.teamMemberRemove.url(team.id!, id), error: errors[id])
        }
        return Members(
            csrf: req.pageLayout("").csrf, readOnly: readOnly, rows: rows, addURL: PageRoutes.teamMembers.url(team.id!),
            people: [SelectOption(value: "", label: "Choose a person", selected: (chosen.principalId ?? "").isEmpty)]
                + people.map { SelectOption(value: $0.id!.uuidString, label: $0.fullName, selected: PageOptions.sameId($0.id, chosen.principalId ?? "")) },
            access: accessOptions(chosen.access ?? TeamAccess.full.rawValue), feedback: feedback)
    }

    @Sendable static func addMember(_ req: Request) async throws -> Response {
        let form = try req.content.decode(AddForm.self)
        return try await changeMembers(req, notice: "member-added", chosen: form) { members in
            // The form's own question, before the API's rules: which person.
            guard let person = form.principalId?.nonEmpty else { throw TandemError.invalid("principalId", "choose a person to add") }
            members.append(TeamMemberDTO(principalId: person, access: form.access ?? ""))
        }
    }

    @Sendable static func changeMember(_ req: Request) async throws -> Response {
        let memberId = try req.id("memberId", "team member")
        let access = try req.content.decode(AccessForm.self).access ?? ""
        return try await changeMembers(req, notice: "member-changed", chosen: AddForm()) { members in
            guard let index = members.firstIndex(where: { UUID(uuidString: $0.principalId) == memberId }) else { throw TandemError.notFound("team member") }
            members[index].access = access
        }
    }

    @Sendable static func removeMember(_ req: Request) async throws -> Response {
        let memberId = try req.id("memberId", "team member")
        return try await changeMembers(req, notice: "member-removed", chosen: AddForm()) { members in
            guard members.contains(where: { UUID(uuidString: $0.principalId) == memberId }) else { throw TandemError.notFound("team member") }
            members.removeAll { UUID(uuidString: $0.principalId) == memberId }
        }
    }

    /// Saves the team's member list after `change`, through the API's PATCH; a refusal is shown in the members
    /// panel, beside the member it is about.
    static func changeMembers(_ req: Request, notice: String, chosen: AddForm, _ change: (inout [TeamMemberDTO]) throws -> Void) async throws -> Response {
        let (principal, _, _) = try ConfigurationPages.begin(Self.self, req, title)
        let team = try await TeamsCollection.visible(req)
        try await TeamsCollection.authorize(.edit, team, by: principal, on: req.db)
        let stored = try await TeamsCollection.dto(team, on: req.db)
        var members = stored.members
        do {
            try change(&members)
            var input = TeamInput()
            input.members = .value(members)
            try await CRUD.update(TeamsCollection.self, team, { input }, req)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(team.id!), query: [("notice", notice)]) + "#members")
        } catch let error as TandemError where error.isFormProblem {
            let storedIds = Set(stored.members.compactMap { UUID(uuidString: $0.principalId) })
            var rowErrors: [UUID: String] = [:]
            var feedback = FormFeedback(summary: [])
            if case .validation(let problems) = error {
                for problem in problems {
                    let message = FormFeedback.sentence("", problem.message)
                    // "members[2].access" is about the third member of the list sent: an existing one, or the one being added.
                    let index = problem.field.firstMatch(of: /^members\[(\d+)\]/).flatMap { Int($0.1) }
                    let member = index.flatMap { members.indices.contains($0) ? UUID(uuidString: members[$0].principalId) : nil }
                    if let member, storedIds.contains(member), chosen.principalId.flatMap(UUID.init(uuidString:)) != member {
                        rowErrors[member] = message
                        feedback.summary.append(message)
                    } else {
                        let field = problem.field.hasSuffix(".access") ? "access" : "principalId"
                        feedback.fields[field] = message
                        feedback.summary.append(FormFeedback.sentence(field == "access" ? "Access" : "Person", problem.message))
                    }
                }
            } else {
                feedback = FormFeedback(error)
            }
            let fresh = try await TeamsCollection.visible(req)
            let model = try await membersModel(fresh, readOnly: false, chosen: chosen, errors: rowErrors, feedback: feedback, req)
            return try await ConfigurationPages.renderForm(
                Self.self, req, row: fresh, values: values(stored), members: model, status: error.pageStatus)
        }
    }
}

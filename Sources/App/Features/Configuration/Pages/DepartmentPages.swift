import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/departments`: the MSP's departments and co-managed ones (each of one co-managed organization), by
/// name; a department's page adds and removes members (MSP resources and co-managing users). Each change
/// goes through the API's collection (`DepartmentsCollection`), whose rules say who may join which department.
enum DepartmentPages: ConfigurationPage {
    typealias Collection = DepartmentsCollection
    static let path = "departments"
    static let title = "Departments"
    static let intro =
        "MSP resources and co-managing users belong to the MSP's departments; a co-managed department belongs to one co-managed organization and takes the co-managing users associated with it, for reporting by department."
    static let columns = ["Kind", "Members"]

    static func cells(_ dto: DepartmentDTO) -> [String] { [dto.coManaged ? "Co-managed" : "MSP", String(dto.members.count)] }

    /// A co-managed department names its organization (one the principal sees, as it sees the department).
    static func cells(_ dto: DepartmentDTO, _ req: Request) async throws -> [String] {
        var cells = cells(dto)
        if let id = dto.organizationId.flatMap(UUID.init(uuidString:)), let organization = try await Organization.find(id, on: req.db) {
            cells[0] = "Co-managed: \(organization.name)"
        }
        return cells
    }

    static func values(_ dto: DepartmentDTO?) -> [String: String] {
        [
            "name": dto?.name ?? "", "description": dto?.description ?? "", "kind": dto?.coManaged == true ? "coManaged" : "msp",
            "organizationId": dto?.organizationId ?? "",
        ]
    }

    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field] {
        let kind = values["kind"] == "coManaged" ? "coManaged" : "msp"
        return [
            ConfigurationPages.Field(name: "name", label: "Name", value: values["name"] ?? "", error: problems["name"], maxLength: 100),
            ConfigurationPages.Field(
                name: "description", label: "Description", kind: "lines", value: values["description"] ?? "", hint: "optional",
                error: problems["description"]),
            ConfigurationPages.Field(
                name: "kind", label: "Kind", kind: "radio", hint: "fixed once created", error: problems["kind"],
                options: [
                    SelectOption(value: "msp", label: "MSP department: MSP resources and co-managing users", selected: kind == "msp"),
                    SelectOption(value: "coManaged", label: "Co-managed department of one organization", selected: kind == "coManaged"),
                ]),
            ConfigurationPages.Field(
                name: "organizationId", label: "Organization", kind: "select", value: values["organizationId"] ?? "",
                hint: "a co-managed department's; fixed once created", error: problems["organizationId"]),
        ]
    }

    /// The organizations a new co-managed department may belong to (co-management on, within the principal's
    /// reach); a stored department offers only what it is.
    static func completed(_ fields: [ConfigurationPages.Field], row: Department?, _ req: Request) async throws -> [ConfigurationPages.Field] {
        let principal = try req.principal
        var fields = fields
        guard let index = fields.firstIndex(where: { $0.name == "organizationId" }), let kindIndex = fields.firstIndex(where: { $0.name == "kind" }) else {
            return fields
        }
        let chosen = fields[index].value
        if let row {
            fields[kindIndex].options = fields[kindIndex].options.filter { $0.value == (row.coManaged ? "coManaged" : "msp") }
            var name: String?
            if let organizationId = row.organizationId { name = try await Organization.find(organizationId, on: req.db)?.name }
            fields[index].options = [SelectOption(value: row.organizationId?.uuidString ?? "", label: name ?? "None (the MSP's)", selected: true)]
            return fields
        }
        let organizations = try await Organization.query(on: req.db).filter(\.$coManagementEnabled == true)
            .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable)
            .sort(\.$name).limit(PageOptions.maxOptions).all()
        fields[index].options =
            [SelectOption(value: "", label: "None (an MSP department)", selected: chosen.isEmpty)]
            + organizations.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, chosen)) }
        return fields
    }

    static func input(_ values: [String: String]) throws -> DepartmentInput {
        var input = DepartmentInput()
        input.name = .value(values["name"] ?? "")
        input.description = .value(values["description"] ?? "")
        let coManaged = values["kind"] == "coManaged"
        input.coManaged = .value(coManaged)
        if let organization = values["organizationId"]?.nonEmpty {
            input.organizationId = .value(organization)
        } else if coManaged {
            input.organizationId = .null
        }
        return input
    }

    static func formField(_ field: String, _ values: [String: String]) -> String {
        if field == "coManaged" { return "kind" }
        if field.hasPrefix("members") { return "principalId" }
        return field
    }

    static func consequences(_ row: Department, by principal: Principal, on db: any Database) async throws -> [String] {
        let members = try await DepartmentMember.query(on: db).filter(\.$departmentId == row.id!).count()
        return [
            members == 0
                ? "The department has no members."
                : members == 1 ? "Its one member leaves it." : "Its \(members) members leave it.",
            "No person, ticket or organization is deleted with it.",
        ]
    }

    // MARK: Members

    struct AddForm: Decodable, Sendable {
        var principalId: String?
    }

    static func registerMembers(_ routes: any RoutesBuilder) {
        routes.post(PageRoutes.departmentMembers.pathComponents, use: addMember)
        routes.post(PageRoutes.departmentMemberRemove.pathComponents, use: removeMember)
    }

    static func members(_ row: Department, readOnly: Bool, _ req: Request) async throws -> TeamPages.Members? {
        try await membersModel(row, readOnly: readOnly, chosen: AddForm(), req)
    }

    /// The members the principal may see, and the people it may add: for an MSP department active MSP resources
    /// and co-managing users, for a co-managed one the co-managing users associated with its organization.
    static func membersModel(_ department: Department, readOnly: Bool, chosen: AddForm, feedback: FormFeedback? = nil, _ req: Request) async throws
        -> TeamPages.Members
    {
        let principal = try req.principal
        let db = req.db
        let ids = try await DepartmentsCollection.shownDTO(department, req).members.compactMap(UUID.init(uuidString:))
        let names = try await names(ids, on: db)
        var candidates: [(UUID, String)] = []
        if department.organizationId == nil {
            let resources = try await Resource.query(on: db).filter(AccessPolicy.peopleScope(for: principal, .resource), on: Resource.scopeTable)
                .filter(\.$active == true).sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
            candidates += resources.map { ($0.id!, "\($0.fullName) (MSP resource)") }
        }
        var users = CoManagingUser.query(on: db).filter(\.$erased == false).filter(\.$active == true)
            .filter(AccessPolicy.peopleScope(for: principal, .coManagingUser), on: CoManagingUser.scopeTable)
        if let organizationId = department.organizationId {
            users = users.filter(\.$id ~~ Array(try await associatedUsers(of: organizationId, on: db)))
        }
        let userNames = try await AdminNames.users(try await users.sort(\.$username).limit(PageOptions.maxOptions).all(\.$id), on: db)
        candidates += userNames.sorted { $0.value.label < $1.value.label }.map { ($0.key, "\($0.value.label) (co-managing user)") }
        let rows = ids.map { id in
            TeamPages.Member(
                id: id.uuidString, name: names[id] ?? PeopleDirectory.anonymous(nil), access: "", options: [], saveURL: "",
                removeURL: PageRoutes.departmentMemberRemove.url(department.id!, id), error: nil)
        }
        let chosenId = chosen.principalId ?? ""
        return TeamPages.Members(
            csrf: req.pageLayout("").csrf, readOnly: readOnly, rows: rows.sorted { $0.name < $1.name },
            addURL: PageRoutes.departmentMembers.url(department.id!),
            people: [SelectOption(value: "", label: "Choose a person", selected: chosenId.isEmpty)]
                + candidates.filter { !ids.contains($0.0) }.map {
                    SelectOption(value: $0.0.uuidString, label: $0.1, selected: PageOptions.sameId($0.0, chosenId))
                },
            access: [], feedback: feedback)
    }

    /// Names of members, labelled by kind.
    static func names(_ ids: [UUID], on db: any Database) async throws -> [UUID: String] {
        var names = try await PageNames.of(Resource.self, ids: ids, allowed: true, on: db) { "\($0.fullName) (MSP resource)" }
        for (id, user) in try await AdminNames.users(ids, on: db) { names[id] = "\(user.label) (co-managing user)" }
        return names
    }

    /// Co-managing users associated with the organization, directly or through a co-managing team.
    static func associatedUsers(of organizationId: UUID, on db: any Database) async throws -> Set<UUID> {
        let associations = try await CoManagedAssociation.query(on: db).filter(\.$organizationId == organizationId).all()
        let teams = associations.compactMap(\.teamId)
        let members = teams.isEmpty ? [] : try await CoManagingTeamMember.query(on: db).filter(\.$teamId ~~ teams).all(\.$userId)
        return Set(associations.compactMap(\.userId) + members)
    }

    @Sendable static func addMember(_ req: Request) async throws -> Response {
        let form = try req.content.decode(AddForm.self)
        return try await changeMembers(req, notice: "member-added", chosen: form) { members in
            guard let person = form.principalId?.nonEmpty else { throw TandemError.invalid("principalId", "choose a person to add") }
            members.append(person)
        }
    }

    @Sendable static func removeMember(_ req: Request) async throws -> Response {
        let memberId = try req.id("memberId", "department member")
        return try await changeMembers(req, notice: "member-removed", chosen: AddForm()) { members in
            guard members.contains(where: { UUID(uuidString: $0) == memberId }) else { throw TandemError.notFound("department member") }
            members.removeAll { UUID(uuidString: $0) == memberId }
        }
    }

    /// Saves the member list after `change` through the API's PATCH; a refusal is shown in the members panel.
    static func changeMembers(_ req: Request, notice: String, chosen: AddForm, _ change: (inout [String]) throws -> Void) async throws -> Response {
        let (principal, _, _) = try ConfigurationPages.begin(Self.self, req, title)
        let department = try await DepartmentsCollection.visible(req)
        try await DepartmentsCollection.authorize(.edit, department, by: principal, on: req.db)
        let stored = try await DepartmentsCollection.shownDTO(department, req)
        var members = stored.members
        do {
            try change(&members)
            var input = DepartmentInput()
            input.members = .value(members)
            try await CRUD.update(DepartmentsCollection.self, department, { input }, req)
            return req.seeOther(PageURL.with(PageRoutes.configuration(path).url(department.id!), query: [("notice", notice)]) + "#members")
        } catch let error as TandemError where error.isFormProblem {
            var feedback = FormFeedback(error)
            if case .validation(let problems) = error {
                feedback = FormFeedback(summary: problems.map { FormFeedback.sentence("Person", $0.message) })
                feedback.fields["principalId"] = problems.map { FormFeedback.sentence("", $0.message) }.joined(separator: " ")
            }
            let fresh = try await DepartmentsCollection.visible(req)
            let model = try await membersModel(fresh, readOnly: false, chosen: chosen, feedback: feedback, req)
            return try await ConfigurationPages.renderForm(Self.self, req, row: fresh, values: values(stored), members: model, status: error.pageStatus)
        }
    }
}

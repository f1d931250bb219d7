import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/co-management`: the system switch, the reassignment setting, and before switching off the
/// deactivation impact report (the dry run of SPEC §13) with a confirm button.
enum CoManagementAdminPage {
    static let view = "admin/co-management"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var enabled: Bool
        var cannotReassign: Bool
        var licenses: String
        var impact: Impact?
        var notice: String?
        var feedback: FormFeedback?
    }

    /// The dry run in words and links.
    struct Impact: Encodable, Sendable {
        var blocked: Bool
        var blockingUsers: Rows
        var organizations: Rows
        var tickets: Rows
        var associations: Rows
        var departmentMemberships: Int
        var rules: Rows
        var unchanged: [String]
    }

    /// A list of rows; a struct so the shared template gets it as its whole context.
    struct Rows: Encodable, Sendable {
        var rows: [Row]
        var count: Int { rows.count }

        init(_ rows: [Row]) { self.rows = rows }

        enum CodingKeys: String, CodingKey { case rows, count }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rows, forKey: .rows)
            try container.encode(count, forKey: .count)
        }
    }

    struct Row: Encodable, Sendable {
        var name: String
        var url: String?
        var detail: String?
    }

    struct Form: Decodable, Sendable {
        var confirm: String?
        var coManagingUsersCannotReassign: String?
    }

    static let notices = [
        "activated": "Co-management is on. Enable it for organizations in the co-managed setup.",
        "deactivated": "Co-management is off. The changes listed in the report were made in one step and audited.",
        "settings": "The setting was saved.",
    ]

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        try await render(req, notice: req.queryText("notice").flatMap { notices[$0] }, feedback: nil)
    }

    @Sendable static func activate(_ req: Request) async throws -> Response {
        let principal = try req.principal
        _ = try await CoManagementService.update(CoManagementInput(enabled: .value(true)), by: principal, on: req.db)
        return req.seeOther(PageURL.with(PageURL.coManagement.path, query: [("notice", "activated")]))
    }

    @Sendable static func saveSettings(_ req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        let input = CoManagementInput(coManagingUsersCannotReassign: .value(AdminPages.ticked(form.coManagingUsersCannotReassign)))
        _ = try await CoManagementService.update(input, by: req.principal, on: req.db)
        return req.seeOther(PageURL.with(PageURL.coManagement.path, query: [("notice", "settings")]))
    }

    @Sendable static func deactivate(_ req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        try AccessPolicy.authorizeTenantWide(req.principal, .activateCoManagement)
        guard form.confirm == "yes" else {
            return try await render(
                req, feedback: FormFeedback(message: "Tick the box to confirm that you have read what switching off changes."), status: .unprocessableEntity)
        }
        do {
            _ = try await CoManagementService.update(CoManagementInput(enabled: .value(false)), by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.coManagement.path, query: [("notice", "deactivated")]))
        } catch CoManagementError.activeUsers(let users) {
            let names = users.map(\.username).joined(separator: ", ")
            let feedback = FormFeedback(
                message: "Co-management was not switched off: co-managing users are still active (\(names)). Deactivate them first; nothing was changed.")
            return try await render(req, feedback: feedback, status: .conflict)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(_ req: Request, notice: String? = nil, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let (_, layout, tabs) = try AdminPages.begin(req, "Co-management", tab: "co-management", needs: .activateCoManagement, tenantWide: true)
        var model = try await query(layout: layout, tabs: tabs, on: req.db)
        model.notice = notice
        model.feedback = feedback
        return try await req.renderPage(view, model, status: status)
    }

    // MARK: Query

    static func query(layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database) async throws -> Model {
        let settings = try await CoManagementService.settings(on: db)
        let licenses = try await CoManagementService.licenseCount(on: db)
        return Model(
            layout: layout, tabs: tabs, enabled: settings.enabled, cannotReassign: settings.coManagingUsersCannotReassign,
            licenses: CoManagingUserRules.licenseSummary(licenses),
            impact: settings.enabled ? try await impact(on: db) : nil, notice: nil, feedback: nil)
    }

    static func impact(on db: any Database) async throws -> Impact {
        let dryRun = try await CoManagementService.impact(on: db)
        let userIds =
            dryRun.blockingUsers.compactMap { UUID(uuidString: $0.id) }
            + dryRun.associationsToDelete.compactMap { $0.coManagingUserId.flatMap(UUID.init(uuidString:)) }
            + dryRun.ticketsToUnassign.flatMap { $0.assigneeIds.compactMap(UUID.init(uuidString:)) }
        let users = try await AdminNames.users(userIds, on: db)
        let organizations = try await AdminNames.organizations(
            dryRun.blockingUsers.compactMap { UUID(uuidString: $0.organizationId) }
                + dryRun.associationsToDelete.compactMap { UUID(uuidString: $0.organizationId) }, on: db)
        let teams = try await AdminNames.teams(dryRun.associationsToDelete.compactMap { $0.coManagingTeamId.flatMap(UUID.init(uuidString:)) }, on: db)
        func userName(_ id: String) -> String { UUID(uuidString: id).flatMap { users[$0]?.label } ?? id }

        let associations = dryRun.associationsToDelete.map { association -> Row in
            let organization = UUID(uuidString: association.organizationId).flatMap { organizations[$0] } ?? association.organizationId
            if let teamId = association.coManagingTeamId {
                return Row(name: organization, url: nil, detail: "co-managing team " + (UUID(uuidString: teamId).flatMap { teams[$0] } ?? teamId))
            }
            return Row(name: organization, url: nil, detail: "co-managing user " + userName(association.coManagingUserId ?? ""))
        }
        return Impact(
            blocked: !dryRun.blockingUsers.isEmpty,
            blockingUsers: Rows(
                dryRun.blockingUsers.map {
                    Row(
                        name: userName($0.id), url: UUID(uuidString: $0.id).map { PageURL.coManagingUser($0, tab: "status").path },
                        detail: UUID(uuidString: $0.organizationId).flatMap { organizations[$0] })
                }),
            organizations: Rows(
                dryRun.organizationsToDisable.map { Row(name: $0.name, url: UUID(uuidString: $0.id).map { PageURL.organization($0).path }, detail: nil) }),
            tickets: Rows(
                dryRun.ticketsToUnassign.map {
                    Row(
                        name: "#\($0.number) \($0.title)", url: UUID(uuidString: $0.id).map { PageURL.ticket($0).path },
                        detail: "assigned to " + $0.assigneeIds.map(userName).joined(separator: ", "))
                }),
            associations: Rows(associations), departmentMemberships: dryRun.departmentMembershipsToDelete,
            rules: Rows(dryRun.rulesToBreak.map { Row(name: $0.name, url: nil, detail: nil) }),
            unchanged: dryRun.unchanged.map { $0.prefix(1).uppercased() + $0.dropFirst() })
    }
}

/// `/admin/co-management/organizations`: each organization's switch and its co-managing users and teams.
enum CoManagedSetupPage {
    static let view = "admin/co-managed-setup"
    static let editView = "admin/co-managed-organization"
    static let pageSize = 50

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var systemEnabled: Bool
        var organizations: [Row]
        var nextURL: String?
        var firstURL: String?
        var notice: String?
    }

    struct Row: Encodable, Sendable {
        var name: String
        var url: String
        var enabled: Bool
        var users: String
        var teams: String
    }

    struct EditModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var id: String
        var name: String
        var systemEnabled: Bool
        var enabled: Bool
        var users: [Choice]
        var teams: [Choice]
        var feedback: FormFeedback?
    }

    /// A checkbox in the edit form.
    struct Choice: Encodable, Sendable {
        var value: String
        var label: String
        var detail: String?
        var checked: Bool
    }

    struct Form: Decodable, Sendable {
        var enabled: String?
        var coManagingUserIds: [String]?
        var coManagingTeamIds: [String]?
    }

    // MARK: Handlers

    @Sendable static func list(_ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managed setup", tab: "setup", needs: .activateCoManagement)
        let after = req.queryText("after").flatMap { $0.isEmpty ? nil : $0 }
        var model = try await query(after: after, principal: principal, layout: layout, tabs: tabs, on: req.db)
        if let saved = req.queryText("saved") { model.notice = "The co-managed setup of \(saved) was saved." }
        return try await req.renderPage(view, model)
    }

    @Sendable static func edit(_ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managed setup", tab: "setup", needs: .activateCoManagement)
        let id = try req.id("id", "organization")
        let setup = try await CoManagementService.organizationSetup(id, by: principal, on: req.db)
        let model = try await editModel(
            id, enabled: setup.enabled, userIds: setup.coManagingUserIds, teamIds: setup.coManagingTeamIds,
            layout: layout, tabs: tabs, feedback: nil, by: principal, on: req.db)
        return try await req.renderPage(editView, model)
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managed setup", tab: "setup", needs: .activateCoManagement)
        let id = try req.id("id", "organization")
        let form = try req.content.decode(Form.self)
        let enabled = AdminPages.ticked(form.enabled)
        let input = OrganizationCoManagementInput(
            enabled: .value(enabled), coManagingUserIds: .value(form.coManagingUserIds ?? []),
            coManagingTeamIds: .value(form.coManagingTeamIds ?? []))
        do {
            _ = try await CoManagementService.updateOrganizationSetup(id, input, by: principal, on: req.db)
            let name = try await Organization.find(id, on: req.db)?.name ?? ""
            return req.seeOther(PageURL.with(PageURL.coManagedSetup.path, query: [("saved", name)]))
        } catch let error as TandemError where error.isFormProblem {
            let model = try await editModel(
                id, enabled: enabled, userIds: form.coManagingUserIds ?? [], teamIds: form.coManagingTeamIds ?? [],
                layout: layout, tabs: tabs, feedback: FormFeedback(error), by: principal, on: req.db)
            return try await req.renderPage(editView, model, status: error.pageStatus)
        }
    }

    // MARK: Query

    static func query(after: String?, principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database) async throws -> Model {
        let scope = AccessPolicy.organizationScope(for: principal, area: .organizations, .view)
        var rows: [Organization] = []
        if scope != .none {
            var query = Organization.query(on: db).filter(scope, on: Organization.scopeTable)
            if let after { query = query.filter(\.$name > after) }
            rows = try await query.sort(\.$name).limit(pageSize + 1).all()
        }
        let organizations = Array(rows.prefix(pageSize))
        let ids = organizations.compactMap(\.id)
        let associations = ids.isEmpty ? [] : try await CoManagedAssociation.query(on: db).filter(\.$organizationId ~~ ids).all()
        // Names only what the API's setup would name to this principal.
        let users = try await AdminNames.users(
            Array(PeopleDirectory.visible(associations.compactMap(\.userId), kind: .coManagingUser, to: principal, on: db)), on: db)
        let teams = try await AdminNames.teams(Array(CoManagingTeams.visibleIds(associations.compactMap(\.teamId), to: principal, on: db)), on: db)
        func names(_ list: [String]) -> String { list.isEmpty ? "None" : list.sorted().joined(separator: ", ") }
        return Model(
            layout: layout, tabs: tabs, systemEnabled: try await Setting.flag(Setting.coManagementEnabled, on: db),
            organizations: organizations.map { organization in
                let mine = associations.filter { $0.organizationId == organization.id }
                return Row(
                    name: organization.name, url: PageURL.coManagedOrganization(organization.id!).path, enabled: organization.coManagementEnabled,
                    users: names(mine.compactMap { $0.userId.flatMap { users[$0]?.label } }),
                    teams: names(mine.compactMap { $0.teamId.flatMap { teams[$0] } }))
            },
            nextURL: rows.count > pageSize ? organizations.last.map { PageURL.with(PageURL.coManagedSetup.path, query: [("after", $0.name)]) } : nil,
            firstURL: after == nil ? nil : PageURL.coManagedSetup.path, notice: nil)
    }

    static func editModel(
        _ id: UUID, enabled: Bool, userIds: [String], teamIds: [String], layout: PageLayout, tabs: [AdminPages.Tab],
        feedback: FormFeedback?, by principal: Principal, on db: any Database
    ) async throws -> EditModel {
        let organization = try await Organization.find(id, on: db)
        // The choices are what the API accepts from this principal: users and teams in its scope.
        let users = try await CoManagingUser.query(on: db).filter(\.$erased == false)
            .filter(AccessPolicy.peopleScope(for: principal, .coManagingUser), on: CoManagingUser.scopeTable).sort(\.$username).limit(PageOptions.maxOptions)
            .all()
        let names = try await AdminNames.users(users.compactMap(\.id), on: db)
        let homes = try await AdminNames.organizations(users.map(\.organizationId), on: db)
        let teams = try await CoManagingTeam.query(on: db).filter(AccessPolicy.coManagingTeamScope(for: principal), on: CoManagingTeam.scopeTable)
            .sort(\.$name).limit(PageOptions.maxOptions).all()
        let members = teams.isEmpty ? [] : try await CoManagingTeamMember.query(on: db).filter(\.$teamId ~~ teams.compactMap(\.id)).all()
        var layout = layout
        layout.title = "Co-managed setup of \(organization?.name ?? "")"
        return EditModel(
            layout: layout, tabs: tabs, id: id.uuidString, name: organization?.name ?? "",
            systemEnabled: try await Setting.flag(Setting.coManagementEnabled, on: db), enabled: enabled,
            users: users.map { user in
                Choice(
                    value: user.id!.uuidString, label: names[user.id!]?.label ?? user.username,
                    detail: [homes[user.organizationId], user.active ? nil : "inactive"].compactMap { $0 }.joined(separator: " · "),
                    checked: userIds.contains { PageOptions.sameId(user.id, $0) })
            },
            teams: teams.map { team in
                let count = members.filter { $0.teamId == team.id }.count
                return Choice(
                    value: team.id!.uuidString, label: team.name, detail: count == 1 ? "1 member" : "\(count) members",
                    checked: teamIds.contains { PageOptions.sameId(team.id, $0) })
            },
            feedback: feedback)
    }
}

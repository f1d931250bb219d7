import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/co-managing-users`: every co-managing user with organization, level, two-factor state and status.
enum CoManagingUserListPage {
    static let view = "admin/co-managing-users"
    static let pageSize = 50

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var licenses: String
        var users: [Row]
        var nextURL: String?
        var firstURL: String?
        var notice: String?
    }

    struct Row: Encodable, Sendable {
        var name: String
        var username: String
        var url: String
        var organization: String
        var level: String
        var twoFactor: String
        var status: String
        var statusKey: String
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managing users", tab: "users", needs: .manageUsers)
        let after = req.queryText("after").flatMap { $0.isEmpty ? nil : $0 }
        var model = try await query(after: after, principal: principal, layout: layout, tabs: tabs, on: req.db)
        if req.queryText("notice") == "erased" { model.notice = "The co-managing user was erased." }
        return try await req.renderPage(view, model)
    }

    static func query(after: String?, principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database) async throws -> Model {
        var query = CoManagingUser.query(on: db).filter(AccessPolicy.coManagingUserScope(for: principal), on: CoManagingUser.scopeTable)
        if let after { query = query.filter(\.$username > after) }
        let rows = try await query.sort(\.$username).limit(pageSize + 1).all()
        let users = Array(rows.prefix(pageSize))
        let names = try await AdminNames.users(users.compactMap(\.id), on: db)
        let organizations = try await AdminNames.organizations(users.map(\.organizationId), on: db)
        let levels = try await PageNames.of(SecurityLevel.self, ids: users.map(\.securityLevelId), allowed: true, on: db) { $0.name }
        let licenses = try await CoManagementService.licenseCount(on: db)
        return Model(
            layout: layout, tabs: tabs,
            licenses: CoManagingUserRules.licenseSummary(licenses),
            users: users.map { user in
                let (status, key) = CoManagingUserPage.status(user)
                return Row(
                    name: names[user.id!]?.name ?? user.username, username: user.username, url: PageURL.coManagingUser(user.id!, tab: nil).path,
                    organization: organizations[user.organizationId] ?? "", level: levels[user.securityLevelId] ?? "",
                    twoFactor: CoManagingUserPage.twoFactorState(user, zone: layout.zone), status: status, statusKey: key)
            },
            nextURL: rows.count > pageSize ? users.last.map { PageURL.with(PageURL.coManagingUsers.path, query: [("after", $0.username)]) } : nil,
            firstURL: after == nil ? nil : PageURL.coManagingUsers.path, notice: nil)
    }
}

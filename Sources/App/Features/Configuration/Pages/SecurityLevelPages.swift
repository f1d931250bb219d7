import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/security-levels`: the system and custom levels, marked co-managed or not, a copy form, and each
/// level's permissions. System levels cannot be edited: custom levels start as copies.
enum SecurityLevelPages {
    static let listView = "admin/security-levels"
    static let detailView = "admin/security-level"

    struct ListModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var levels: [Row]
        var copy: CopyForm
    }

    struct Row: Encodable, Sendable {
        var name: String
        var url: String
        var system: Bool
        var coManaged: Bool
        var ticketScope: String
        var users: Int
    }

    /// The copy form: which level to start from and the new level's name.
    struct CopyForm: Encodable, Sendable {
        var csrf: String?
        var sourceOptions: [SelectOption]
        var name: String
        var feedback: FormFeedback?
    }

    struct DetailModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var name: String
        var system: Bool
        var coManaged: Bool
        var ticketScope: String
        var areas: [Fact]
        var admin: [String]
        var savedFilters: Bool
        var users: Int
        var copy: CopyForm
        var notice: String?
        /// Custom levels only: system levels are copied, never edited.
        var editURL: String?
    }

    struct Fact: Encodable, Sendable {
        var label: String
        var value: String
        var key: String
    }

    struct Form: Decodable, Sendable {
        var copyOf: String?
        var name: String?
    }

    // MARK: Handlers

    @Sendable static func list(_ req: Request) async throws -> Response {
        let (_, layout, tabs) = try AdminPages.begin(req, "Security levels", tab: "levels", needs: .configureSecurityLevels)
        let model = try await listModel(layout: layout, tabs: tabs, form: Form(), feedback: nil, on: req.db)
        return try await req.renderPage(listView, model)
    }

    @Sendable static func copy(_ req: Request) async throws -> Response {
        let (_, layout, tabs) = try AdminPages.begin(req, "Security levels", tab: "levels", needs: .configureSecurityLevels)
        let form = try req.content.decode(Form.self)
        var input = SecurityLevelInput()
        input.copyOf = .value(form.copyOf ?? "")
        input.name = .value(form.name ?? "")
        do {
            let level = try await CRUD.create(SecurityLevelsCollection.self, { input }, req)
            return req.seeOther(PageURL.with(PageURL.securityLevel(level.id!).path, query: [("notice", "copied")]))
        } catch let error as TandemError where error.isFormProblem {
            let model = try await listModel(layout: layout, tabs: tabs, form: form, feedback: FormFeedback(error), on: req.db)
            return try await req.renderPage(listView, model, status: error.pageStatus)
        }
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let (_, adminLayout, tabs) = try AdminPages.begin(req, "Security level", tab: "levels", needs: .configureSecurityLevels)
        let id = try req.id("id", "security level")
        guard let level = try await SecurityLevel.find(id, on: req.db) else { throw TandemError.notFound("security level") }
        let users = try await usage(on: req.db)[id] ?? 0
        var layout = adminLayout
        layout.title = level.name
        let permissions = level.permissions
        let model = DetailModel(
            layout: layout, tabs: tabs, name: level.name, system: level.systemKey != nil, coManaged: level.coManaged,
            ticketScope: label(permissions.ticketScope),
            areas: Area.allCases.map { Fact(label: label($0), value: label(permissions[$0]), key: permissions[$0].rawValue) },
            admin: permissions.admin.sorted().map(label), savedFilters: permissions.savedFilters, users: users,
            copy: try await copyForm(Form(copyOf: id.uuidString, name: "\(level.name) (copy)"), csrf: layout.csrf, feedback: nil, on: req.db),
            notice: notices[req.queryText("notice") ?? ""], editURL: level.systemKey == nil ? PageRoutes.securityLevelEdit.url(id) : nil)
        return try await req.renderPage(detailView, model)
    }

    static let notices = [
        "copied": "The level was created as a copy. Its permissions are those of the level it copies. Edit them below.",
        "saved": "The level's permissions were saved; they apply to its users' next request.",
    ]

    // MARK: Query

    static func listModel(layout: PageLayout, tabs: [AdminPages.Tab], form: Form, feedback: FormFeedback?, on db: any Database) async throws -> ListModel {
        let levels = try await SecurityLevel.query(on: db).sort(\.$name).all()
        let users = try await usage(on: db)
        // System levels first, as the products list them; then custom levels by name.
        let order = SystemSecurityLevel.allCases.map(\.rawValue)
        let sorted = levels.sorted { a, b in
            let (x, y) = (a.systemKey.flatMap(order.firstIndex(of:)) ?? order.count, b.systemKey.flatMap(order.firstIndex(of:)) ?? order.count)
            return x != y ? x < y : a.name < b.name
        }
        return ListModel(
            layout: layout, tabs: tabs,
            levels: sorted.map {
                Row(
                    name: $0.name, url: PageURL.securityLevel($0.id!).path, system: $0.systemKey != nil, coManaged: $0.coManaged,
                    ticketScope: label($0.permissions.ticketScope), users: users[$0.id!] ?? 0)
            },
            copy: try await copyForm(form, csrf: layout.csrf, feedback: feedback, on: db))
    }

    static func copyForm(_ form: Form, csrf: String?, feedback: FormFeedback?, on db: any Database) async throws -> CopyForm {
        let levels = try await SecurityLevel.query(on: db).sort(\.$name).all()
        return CopyForm(
            csrf: csrf,
            sourceOptions: [SelectOption(value: "", label: "Choose a level to copy", selected: (form.copyOf ?? "").isEmpty)]
                + levels.map {
                    SelectOption(
                        value: $0.id!.uuidString, label: $0.name + ($0.coManaged ? " (co-managed)" : ""), selected: PageOptions.sameId($0.id, form.copyOf ?? "")
                    )
                },
            name: form.name ?? "", feedback: feedback)
    }

    /// How many resources and co-managing users hold each level.
    static func usage(on db: any Database) async throws -> [UUID: Int] {
        var counts: [UUID: Int] = [:]
        for resource in try await Resource.query(on: db).filter(\.$active == true).all() { counts[resource.securityLevelId, default: 0] += 1 }
        for user in try await CoManagingUser.query(on: db).filter(\.$active == true).filter(\.$erased == false).all() {
            counts[user.securityLevelId, default: 0] += 1
        }
        return counts
    }

    static func label(_ scope: TicketScope) -> String {
        switch scope {
        case .all: "All tickets in scope"
        case .myQueues: "Tickets in my queues"
        case .assignedToMe: "Tickets assigned to me"
        case .none: "None"
        }
    }

    static func label(_ area: Area) -> String {
        switch area {
        case .timeEntries: "Time entries"
        default: area.rawValue.prefix(1).uppercased() + area.rawValue.dropFirst()
        }
    }

    static func label(_ level: AccessLevel) -> String {
        switch level {
        case .none: "None"
        case .view: "View"
        case .add: "View and add"
        case .edit: "View, add and edit"
        case .full: "Full (also delete)"
        }
    }

    static func label(_ permission: AdminPermission) -> String {
        switch permission {
        case .configureSecurityLevels: "Configure security levels"
        case .manageUsers: "Manage users"
        case .manageRules: "Manage rules"
        case .manageVaultKeys: "Manage vault keys"
        case .activateCoManagement: "Activate co-management"
        case .manageSettings: "Manage settings"
        case .manageCredentials: "Manage credentials (passwords, portal logins, login names, two-factor)"
        case .receiveMail: "Post mail for intake (a mail server's token)"
        }
    }
}

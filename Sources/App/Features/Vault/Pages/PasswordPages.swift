import Fluent
import Foundation
import TandemCore
import Vapor

/// The site's "Passwords" tab (SPEC §9): the vault's entries without their secrets, a form to add
/// one, an edit form, a "Reveal" button that posts and shows the secret once on the response page
/// (audited, rate-limited), and a delete confirmation. Everything goes through `SiteCredentials`.
enum PasswordPages {
    static let listView = "vault/passwords", editView = "vault/credential", revealView = "vault/revealed", deleteView = "vault/delete"

    struct Row: Encodable, Sendable {
        var id: String
        var kind: String
        var name: String
        var username: String?
        var url: String?
        var device: String?
        var editURL: String
        var revealURL: String
    }

    struct Option: Encodable, Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    /// The form's values (as typed back after a validation problem).
    struct FormValues: Encodable, Sendable {
        var kind = SiteCredential.Kind.server.rawValue
        var name = ""
        var username = ""
        var url = ""
        var notes = ""
        var deviceId = ""
    }

    struct ListModel: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var siteURL: String
        var rows: [Row]
        var canAdd: Bool
        var canReveal: Bool
        var action: String
        var form: FormValues
        var kinds: [Option]
        var devices: [Option]
        var notice: String?
        var feedback: FormFeedback?
        var editing = false
    }

    struct EditModel: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var passwordsURL: String
        var name: String
        var action: String
        var form: FormValues
        var kinds: [Option]
        var devices: [Option]
        var canEdit: Bool
        var canDelete: Bool
        var canReveal: Bool
        var revealURL: String
        var deleteURL: String
        var notice: String?
        var feedback: FormFeedback?
        var editing = true
    }

    struct RevealModel: Encodable, Sendable {
        var layout: PageLayout
        var name: String
        var username: String?
        var secret: String
        var passwordsURL: String
    }

    struct DeleteModel: Encodable, Sendable {
        var layout: PageLayout
        var name: String
        var siteName: String
        var passwordsURL: String
        var action: String
    }

    struct Form: Decodable, Sendable {
        var kind: String?
        var name: String?
        var username: String?
        var secret: String?
        var url: String?
        var notes: String?
        var deviceId: String?

        var values: FormValues {
            FormValues(
                kind: kind ?? SiteCredential.Kind.server.rawValue, name: name ?? "", username: username ?? "", url: url ?? "", notes: notes ?? "",
                deviceId: deviceId ?? "")
        }

        /// The body as the API takes it; an empty secret on an edit keeps the stored one.
        func input(creating: Bool) -> SiteCredentialInput {
            SiteCredentialInput(
                kind: .value(kind ?? ""), name: .value(name ?? ""), username: .value(username ?? ""),
                secret: creating || !(secret ?? "").isEmpty ? .value(secret ?? "") : .absent, url: .value(url ?? ""), notes: .value(notes ?? ""),
                deviceId: .value(deviceId ?? ""))
        }
    }

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.sitePasswords.pathComponents, use: list)
        routes.post(PageRoutes.sitePasswords.pathComponents, use: add)
        routes.get(PageRoutes.credential.pathComponents, use: edit)
        routes.post(PageRoutes.credential.pathComponents, use: save)
        routes.post(PageRoutes.credentialReveal.pathComponents, use: reveal)
        routes.get(PageRoutes.credentialDelete.pathComponents, use: confirmDelete)
        routes.post(PageRoutes.credentialDelete.pathComponents, use: delete)
    }

    @Sendable static func list(_ req: Request) async throws -> Response {
        let site = try await SitesCollection.visible(req)
        let notice = req.queryText("notice") == "deleted" ? "The entry was deleted." : nil
        return try await renderList(req, site, form: FormValues(), notice: notice)
    }

    @Sendable static func add(_ req: Request) async throws -> Response {
        let site = try await SitesCollection.visible(req)
        let form = try req.content.decode(Form.self)
        do {
            let row = try await SiteCredentials.create(site: site, form.input(creating: true), by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.credential.url(row.id!), query: [("notice", "added")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderList(req, site, form: form.values, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    @Sendable static func edit(_ req: Request) async throws -> Response {
        let row = try await visible(req)
        let notice: String? =
            switch req.queryText("notice") {
            case "added": "The entry was added."
            case "saved": "The entry was saved."
            default: nil
            }
        return try await renderEdit(req, row, form: values(of: row), notice: notice)
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let row = try await visible(req)
        let form = try req.content.decode(Form.self)
        do {
            try await SiteCredentials.update(row, form.input(creating: false), by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.credential.url(row.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderEdit(req, row, form: form.values, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// Shows the secret once, on the answer to the POST (never in a URL, never cached: pages are no-store).
    @Sendable static func reveal(_ req: Request) async throws -> Response {
        let row = try await visible(req)
        let secret = try await SiteCredentials.reveal(row, by: req.principal, on: req.db)
        var layout = req.pageLayout("Password", section: "organizations")
        layout.title = "Password: \(row.name)"
        return try await req.renderPage(
            revealView,
            RevealModel(layout: layout, name: row.name, username: row.username, secret: secret, passwordsURL: PageRoutes.sitePasswords.url(row.siteId)))
    }

    @Sendable static func confirmDelete(_ req: Request) async throws -> Response {
        let row = try await visible(req)
        try SiteCredentials.require(.delete, organizationId: row.organizationId, by: req.principal)
        let site = try await Site.find(row.siteId, on: req.db)
        var layout = req.pageLayout("Delete password", section: "organizations")
        layout.title = "Delete \(row.name)?"
        return try await req.renderPage(
            deleteView,
            DeleteModel(
                layout: layout, name: row.name, siteName: site?.name ?? "", passwordsURL: PageRoutes.sitePasswords.url(row.siteId),
                action: PageRoutes.credentialDelete.url(row.id!)))
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let row = try await visible(req)
        try await SiteCredentials.delete(row, by: req.principal, on: req.db)
        return req.seeOther(PageURL.with(PageRoutes.sitePasswords.url(row.siteId), query: [("notice", "deleted")]))
    }

    private static func visible(_ req: Request) async throws -> SiteCredential {
        try await SiteCredentials.visible(req.id("id", SiteCredentials.what), by: req.principal, on: req.db)
    }

    private static func values(of row: SiteCredential) -> FormValues {
        FormValues(
            kind: row.kind, name: row.name, username: row.username ?? "", url: row.url ?? "", notes: row.notes ?? "", deviceId: row.deviceId?.uuidString ?? "")
    }

    private static func kinds(_ selected: String) -> [Option] {
        SiteCredential.Kind.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0.rawValue == selected) }
    }

    private static func devices(of siteId: UUID, selected: String, on db: any Database) async throws -> [SiteDevice] {
        try await SiteDevice.query(on: db).filter(\.$siteId == siteId).sort(\.$name).limit(500).all()
    }

    private static func deviceOptions(_ devices: [SiteDevice], selected: String) -> [Option] {
        [Option(value: "", label: "None", selected: selected.isEmpty)]
            + devices.map { Option(value: $0.id!.uuidString, label: $0.name, selected: $0.id!.uuidString == selected) }
    }

    static func renderList(
        _ req: Request, _ site: Site, form: FormValues, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        try SiteCredentials.requireVault(of: site, by: principal)
        let rows = try await SiteCredentials.all(site: site, by: principal, on: req.db)
        let devices = try await devices(of: site.id!, selected: form.deviceId, on: req.db)
        let names = Dictionary(uniqueKeysWithValues: devices.map { ($0.id!, $0.name) })
        var layout = req.pageLayout("Passwords", section: "organizations")
        layout.title = "Passwords: \(site.name)"
        let model = ListModel(
            layout: layout, siteName: site.name, siteURL: PageURL.site(site.id!).path,
            rows: rows.map { row in
                Row(
                    id: row.id!.uuidString, kind: SiteCredential.Kind(rawValue: row.kind)?.label ?? row.kind, name: row.name, username: row.username,
                    url: row.url, device: row.deviceId.flatMap { names[$0] }, editURL: PageRoutes.credential.url(row.id!),
                    revealURL: PageRoutes.credentialReveal.url(row.id!))
            },
            canAdd: (try? SiteCredentials.require(.create, organizationId: site.organizationId, by: principal)) != nil,
            canReveal: AccessPolicy.mayRevealVault(principal), action: PageRoutes.sitePasswords.url(site.id!), form: form, kinds: kinds(form.kind),
            devices: deviceOptions(devices, selected: form.deviceId), notice: notice, feedback: feedback)
        return try await req.renderPage(listView, model, status: status)
    }

    static func renderEdit(
        _ req: Request, _ row: SiteCredential, form: FormValues, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let site = try await Site.find(row.siteId, on: req.db)
        let devices = try await devices(of: row.siteId, selected: form.deviceId, on: req.db)
        var layout = req.pageLayout("Password", section: "organizations")
        layout.title = "Password: \(row.name)"
        func may(_ operation: AccessOperation) -> Bool { (try? SiteCredentials.require(operation, organizationId: row.organizationId, by: principal)) != nil }
        let model = EditModel(
            layout: layout, siteName: site?.name ?? "", passwordsURL: PageRoutes.sitePasswords.url(row.siteId), name: row.name,
            action: PageRoutes.credential.url(row.id!), form: form, kinds: kinds(form.kind), devices: deviceOptions(devices, selected: form.deviceId),
            canEdit: may(.edit), canDelete: may(.delete), canReveal: AccessPolicy.mayRevealVault(principal),
            revealURL: PageRoutes.credentialReveal.url(row.id!), deleteURL: PageRoutes.credentialDelete.url(row.id!), notice: notice, feedback: feedback)
        return try await req.renderPage(editView, model, status: status)
    }
}

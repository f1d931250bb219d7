import Fluent
import Foundation
import TandemCore
import Vapor

/// References (SPEC §9): the list of every reference the reader may read (`/references?tag=`, where
/// global ones are added), a site's "References" tab (its own and the global ones, where the site's are
/// added), one reference rendered from Markdown to safe HTML with its edit form, and a delete
/// confirmation. Everything goes through `ReferencesCollection`, as the API does.
enum ReferencePages {
    static let listView = "documentation/references", showView = "documentation/reference", deleteView = "documentation/reference_delete"

    struct Row: Encodable, Sendable {
        var title: String
        var url: String
        var site: String
        var tags: [TagLink]
        var updated: String
    }

    struct TagLink: Encodable, Sendable {
        var name: String
        var url: String
    }

    struct FormValues: Encodable, Sendable {
        var title = ""
        var body = ""
        var tags = ""
        var version = 0
    }

    struct ListModel: Encodable, Sendable {
        var layout: PageLayout
        var heading: String
        var subtitle: String
        var backURL: String?
        var backName: String?
        var tag: String?
        var allURL: String
        var rows: [Row]
        var canAdd: Bool
        var action: String
        var form: FormValues
        var notice: String?
        var feedback: FormFeedback?
    }

    struct ShowModel: Encodable, Sendable {
        var layout: PageLayout
        var title: String
        var site: String
        var backURL: String
        var backName: String
        var html: String
        var tags: [TagLink]
        var updated: String
        var canEdit: Bool
        var canDelete: Bool
        var action: String
        var deleteURL: String
        var form: FormValues
        var notice: String?
        var feedback: FormFeedback?
    }

    struct DeleteModel: Encodable, Sendable {
        var layout: PageLayout
        var title: String
        var backURL: String
        var action: String
    }

    struct Form: Decodable, Sendable {
        var title: String?
        var body: String?
        var tags: String?
        var version: Int?

        var values: FormValues { FormValues(title: title ?? "", body: body ?? "", tags: tags ?? "", version: version ?? 0) }

        /// The body as the API takes it: tags separated by commas.
        func input(siteId: UUID?) -> ReferenceInput {
            let tags = (tags ?? "").split(separator: ",").map { Whitespace.trim(String($0)) }.filter { !$0.isEmpty }
            return ReferenceInput(
                siteId: siteId.map { .value($0.uuidString) } ?? .absent, title: .value(title ?? ""), body: .value(body ?? ""), tags: .value(tags),
                version: version.map { .value($0) } ?? .absent)
        }
    }

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.references.pathComponents, use: list)
        routes.post(PageRoutes.references.pathComponents, use: addGlobal)
        routes.get(PageRoutes.siteReferences.pathComponents, use: siteList)
        routes.post(PageRoutes.siteReferences.pathComponents, use: addToSite)
        routes.get(PageRoutes.reference.pathComponents, use: show)
        routes.post(PageRoutes.reference.pathComponents, use: save)
        routes.get(PageRoutes.referenceDelete.pathComponents, use: confirmDelete)
        routes.post(PageRoutes.referenceDelete.pathComponents, use: delete)
    }

    // MARK: Lists

    @Sendable static func list(_ req: Request) async throws -> Response {
        try await renderList(req, site: nil, form: FormValues(), notice: req.queryText("notice") == "deleted" ? "The reference was deleted." : nil)
    }

    @Sendable static func siteList(_ req: Request) async throws -> Response {
        try await renderList(
            req, site: SiteDocumentation.site(req), form: FormValues(), notice: req.queryText("notice") == "deleted" ? "The reference was deleted." : nil)
    }

    @Sendable static func addGlobal(_ req: Request) async throws -> Response {
        try await add(req, site: nil)
    }

    @Sendable static func addToSite(_ req: Request) async throws -> Response {
        try await add(req, site: SiteDocumentation.site(req))
    }

    private static func add(_ req: Request, site: Site?) async throws -> Response {
        let principal = try req.principal
        // Refused before the form is read, as the API's POST is.
        try ReferencesCollection.require(.create, organizationId: site?.organizationId, by: principal)
        let form = try req.content.decode(Form.self)
        do {
            let row = try await CRUD.create(ReferencesCollection.self, { form.input(siteId: site?.id) }, req)
            return req.seeOther(PageURL.with(PageRoutes.reference.url(row.id!), query: [("notice", "added")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await renderList(req, site: site, form: form.values, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func renderList(
        _ req: Request, site: Site?, form: FormValues, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let tag = req.queryText("tag").flatMap(ReferenceContent.Tag.normalize)
        let listURL = site.map { PageRoutes.siteReferences.url($0.id!) } ?? PageRoutes.references.url()
        let rows: [Reference]
        if let site {
            rows = try await ReferencesCollection.forSite(site.id!, tag: tag, by: principal, on: req.db)
        } else {
            var query = CRUD.visibleRows(ReferencesCollection.self, for: principal, on: req.db)
            if let tag { query = query.filter(ReferencesCollection.tagged(tag)) }
            rows = try await query.sort(\.$title).sort(\.$id).limit(500).all()
        }
        let siteNames = try await Dictionary(
            uniqueKeysWithValues: Site.query(on: req.db).filter(\.$id ~~ Set(rows.compactMap(\.siteId))).all().map { ($0.id!, $0.name) })
        var layout = req.pageLayout("References", section: site == nil ? "references" : "organizations")
        layout.title = site.map { "References · \($0.name)" } ?? "References"
        let model = ListModel(
            layout: layout, heading: "References",
            subtitle: site.map { "Documents of \($0.name), and the global ones every site shares." }
                ?? "Documents for every site (global) and of each site you can see. Tag them to find them again: the security request panel shows those tagged “\(ReferenceContent.Tag.securityRelatedRequests)”.",
            backURL: site.map { PageURL.site($0.id!).path }, backName: site?.name, tag: tag, allURL: listURL,
            rows: rows.map { row(of: $0, siteName: $0.siteId.flatMap { siteNames[$0] }, listURL: listURL, zone: req.pageZone) },
            canAdd: (try? ReferencesCollection.require(.create, organizationId: site?.organizationId, by: principal)) != nil,
            action: listURL, form: form, notice: notice, feedback: feedback)
        return try await req.renderPage(listView, model, status: status)
    }

    static func row(of reference: Reference, siteName: String?, listURL: String, zone: PageZone) -> Row {
        Row(
            title: reference.title, url: PageRoutes.reference.url(reference.id!), site: siteName ?? "Global", tags: tagLinks(reference.tags, listURL: listURL),
            updated: PageFormat.date(reference.updatedAt ?? reference.createdAt, in: zone))
    }

    static func tagLinks(_ tags: [String], listURL: String) -> [TagLink] {
        tags.map { TagLink(name: $0, url: PageURL.with(listURL, query: [("tag", $0)])) }
    }

    // MARK: One reference

    @Sendable static func show(_ req: Request) async throws -> Response {
        let row = try await ReferencesCollection.visible(req)
        let notice: String? =
            switch req.queryText("notice") {
            case "added": "The reference was added."
            case "saved": "The reference was saved."
            default: nil
            }
        return try await renderShow(req, row, form: values(of: row), notice: notice)
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let row = try await ReferencesCollection.visible(req)
        try ReferencesCollection.require(.edit, organizationId: row.organizationId, by: req.principal)
        let form = try req.content.decode(Form.self)
        do {
            try await CRUD.update(ReferencesCollection.self, row, { form.input(siteId: nil) }, req)
            return req.seeOther(PageURL.with(PageRoutes.reference.url(row.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            // The stored reference again (a stale form's version is not the stored one), with the user's words kept.
            let stored = try await ReferencesCollection.visible(req)
            var values = form.values
            values.version = stored.version
            return try await renderShow(req, stored, form: values, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func renderShow(
        _ req: Request, _ row: Reference, form: FormValues, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        var site: Site?
        if let siteId = row.siteId { site = try await Site.find(siteId, on: req.db) }
        let backURL = site.map { PageRoutes.siteReferences.url($0.id!) } ?? PageRoutes.references.url()
        var layout = req.pageLayout("Reference", section: site == nil ? "references" : "organizations")
        layout.title = row.title
        let model = ShowModel(
            layout: layout, title: row.title, site: site?.name ?? "Global", backURL: backURL,
            backName: site.map { "References of \($0.name)" } ?? "References", html: Markdown.html(row.body), tags: tagLinks(row.tags, listURL: backURL),
            updated: PageFormat.date(row.updatedAt ?? row.createdAt, in: layout.zone),
            canEdit: (try? ReferencesCollection.require(.edit, organizationId: row.organizationId, by: principal)) != nil,
            canDelete: (try? ReferencesCollection.require(.delete, organizationId: row.organizationId, by: principal)) != nil,
            action: PageRoutes.reference.url(row.id!), deleteURL: PageRoutes.referenceDelete.url(row.id!), form: form, notice: notice, feedback: feedback)
        return try await req.renderPage(showView, model, status: status)
    }

    static func values(of row: Reference) -> FormValues {
        FormValues(title: row.title, body: row.body, tags: row.tags.joined(separator: ", "), version: row.version)
    }

    // MARK: Delete

    @Sendable static func confirmDelete(_ req: Request) async throws -> Response {
        let row = try await ReferencesCollection.visible(req)
        try ReferencesCollection.require(.delete, organizationId: row.organizationId, by: req.principal)
        var layout = req.pageLayout("Delete reference", section: row.siteId == nil ? "references" : "organizations")
        layout.title = "Delete \(row.title)?"
        return try await req.renderPage(
            deleteView,
            DeleteModel(layout: layout, title: row.title, backURL: PageRoutes.reference.url(row.id!), action: PageRoutes.referenceDelete.url(row.id!)))
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let row = try await ReferencesCollection.visible(req)
        try await CRUD.remove(ReferencesCollection.self, row, req)
        let back = row.siteId.map { PageRoutes.siteReferences.url($0) } ?? PageRoutes.references.url()
        return req.seeOther(PageURL.with(back, query: [("notice", "deleted")]))
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/view-as`: an administrator picks a principal and sees the pages as they would
/// (`ViewAs`); `POST /admin/view-as` starts a view, audited; `POST /view-as/stop` ends it.
enum ViewAsPages {
    static let view = "access/view-as"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var q: String
        var kindOptions: [SelectOption]
        var candidates: [PeoplePage.Person]
        var searched: Bool
    }

    struct StartForm: Decodable, Sendable {
        var kind: String?
        var id: String?
    }

    static func register(_ session: any RoutesBuilder) {
        session.get(PageRoutes.viewAs.pathComponents, use: show)
        session.post(PageRoutes.viewAs.pathComponents, use: start)
        session.post(PageRoutes.viewAsStop.pathComponents, use: stop)
    }

    /// The viewer, after the policy's check (a 403 page otherwise).
    static func viewer(_ req: Request) throws -> Principal {
        let principal = try req.principal
        guard AccessPolicy.mayViewAs(principal) else { throw TandemError.forbidden("view as is for administrators without client restrictions") }
        return principal
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try viewer(req)
        let q = (req.queryText("q") ?? "").trimmingCharacters(in: .whitespaces)
        let kind = PrincipalKind(rawValue: req.queryText("kind") ?? "")
        let model = Model(
            layout: req.pageLayout("View as", section: "admin"), tabs: AdminPages.tabs(for: principal, current: "view-as"), q: q,
            kindOptions: PeoplePage.kindOptions(kind),
            candidates: q.isEmpty && kind == nil ? [] : try await PeoplePage.people(q, kind: kind, for: principal, on: req.db),
            searched: !q.isEmpty || kind != nil)
        return try await req.renderPage(view, model)
    }

    @Sendable static func start(_ req: Request) async throws -> Response {
        let principal = try viewer(req)
        guard let authenticated = req.authenticated else { throw TandemError.unauthorized("log in first") }
        let form = try req.content.decode(StartForm.self)
        guard let kind = PrincipalKind(rawValue: form.kind ?? ""), let id = UUID(uuidString: form.id ?? "") else {
            throw TandemError.invalid("id", "pick someone to view as")
        }
        // The same loader as their own session: an inactive or erased principal, or a contact who logs in
        // as a co-managing user, has no session and so no view.
        guard let viewed = try await PrincipalLoader.load(id: id, kind: kind, on: req.db) else {
            throw TandemError.notFound("person who can log in")
        }
        try AccessPolicy.authorizeViewAs(principal, as: viewed)
        try await req.db.write { db in
            try await Audit.record(
                ViewAs.startAction, kind.auditEntity, id: id, by: principal, organizationId: viewed.organizationId,
                after: ViewAs.AuditRecord(viewer: principal, viewed: viewed), on: db)
        }
        let response = req.seeOther(PageURL.tickets.path)
        response.cookies[ViewAs.cookie] = HTTPCookies.Value(
            string: ViewAs.value(kind: kind, id: id, secret: authenticated.secret), maxAge: ViewAs.lifetime, path: "/",
            isSecure: req.settings.options.secureCookies, isHTTPOnly: true, sameSite: .lax)
        return response
    }

    @Sendable static func stop(_ req: Request) async throws -> Response {
        if let state = req.viewAs {
            try await req.db.write { db in
                try await Audit.record(
                    ViewAs.endAction, state.viewed.kind.auditEntity, id: state.viewed.id, by: state.viewer, organizationId: state.viewed.organizationId,
                    after: ViewAs.AuditRecord(viewer: state.viewer, viewed: state.viewed), on: db)
            }
        }
        let response = req.seeOther(PageRoutes.viewAs.url())
        response.cookies[ViewAs.cookie] = LoginPage.expired()
        return response
    }
}

import Crypto
import Fluent
import Foundation
import TandemCore
import Vapor

/// "View as" (issue 18): an administrator sees the ticket list, tickets, organizations and the people
/// directory exactly as another principal would, read-only, under a banner.
///
/// The choice is a cookie naming the viewed principal, signed with the page session's secret (it dies
/// with the session). On each page request `ViewAsMiddleware` checks the signature, the audit event
/// of its start by this viewer within the hour (so no view goes unaudited), and again the policy
/// (`AccessPolicy.authorizeViewAs`), loads the viewed principal with `PrincipalLoader.load` (as their
/// own session would) and puts it in the request's place: the pages then run unchanged, through the
/// same services and scopes, so they show exactly what that principal's own session shows.
/// `AccessPolicy.authorizeViewAsRequest` refuses every request that is not a GET of a page that only shows.
enum ViewAs {
    static let cookie = "tandem_view_as"
    /// A view lasts at most this long (and never past the session).
    static let lifetime = 3600

    /// Who is viewing and who is viewed, for the banner.
    struct State: Sendable {
        let viewer: Principal
        let viewed: Principal
    }

    /// The pages a view shows: they read and change nothing (no exports, which audit, no forms).
    static let readOnlyRoutes: [PageRoute] = [
        PageRoute(), PageRoutes.tickets, PageRoutes.ticket, PageRoutes.people, PageRoutes.organizations, PageRoutes.organization, PageRoutes.site,
    ]
    /// The forms a view may post: ending it, or the session.
    static let endingRoutes: [PageRoute] = [PageRoutes.viewAsStop, PageRoutes.logout]

    static func value(kind: PrincipalKind, id: UUID, secret: String) -> String {
        "\(kind.rawValue).\(id.uuidString).\(signature(kind: kind, id: id, secret: secret))"
    }

    /// The principal a cookie names, when this session signed it.
    static func parse(_ value: String, secret: String) -> (kind: PrincipalKind, id: UUID)? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let kind = PrincipalKind(rawValue: parts[0]), let id = UUID(uuidString: parts[1]),
            ConstantTime.equals(parts[2], signature(kind: kind, id: id, secret: secret))
        else { return nil }
        return (kind, id)
    }

    private static func signature(kind: PrincipalKind, id: UUID, secret: String) -> String {
        let key = SymmetricKey(data: SHA256.hash(data: Data(("view-as:" + secret).utf8)))
        return Data(HMAC<SHA256>.authenticationCode(for: Data("\(kind.rawValue):\(id.uuidString)".utf8), using: key)).hex
    }

    /// Whether the audit log holds this viewer's start of a view as `viewed` within the lifetime: the
    /// session's secret is the viewer's own, so the signature alone could be made without
    /// `ViewAsPages.start`; the audit event cannot.
    static func audited(viewer: Principal, viewed: Principal, on db: any Database) async throws -> Bool {
        try await AuditEvent.query(on: db).filter(\.$entityId == viewed.id).filter(\.$action == startAction).filter(\.$actorId == viewer.id)
            .filter(\.$at >= db.now.addingTimeInterval(-Double(lifetime))).count() > 0
    }

    static let startAction = "viewedAs", endAction = "viewAsEnded"

    static func matches(_ route: Route?, _ routes: [PageRoute]) -> Bool {
        guard let path = route?.path.map(\.description) else { return false }
        return routes.contains { $0.segments == path }
    }

    /// What the audit log keeps of a view: who looked, as whom.
    struct AuditRecord: Codable, Sendable {
        var viewerId: String
        var viewerName: String
        var viewedId: String
        var viewedKind: String
        var viewedName: String

        init(viewer: Principal, viewed: Principal) {
            viewerId = viewer.id.uuidString
            viewerName = viewer.displayName
            viewedId = viewed.id.uuidString
            viewedKind = viewed.kind.rawValue
            viewedName = viewed.displayName
        }
    }
}

extension Request {
    private struct ViewAsKey: StorageKey { typealias Value = ViewAs.State }

    /// Set while an administrator views the page as someone else.
    var viewAs: ViewAs.State? {
        get { storage[ViewAsKey.self] }
        set { storage[ViewAsKey.self] = newValue }
    }
}

/// Puts the viewed principal in the request's place for a view-as session, and refuses what it may not do.
struct ViewAsMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let value = request.cookies[ViewAs.cookie]?.string, !value.isEmpty, let authenticated = request.authenticated else {
            return try await next.respond(to: request)
        }
        guard let named = ViewAs.parse(value, secret: authenticated.secret),
            let viewed = try await PrincipalLoader.load(id: named.id, kind: named.kind, on: request.db),
            (try? AccessPolicy.authorizeViewAs(authenticated.principal, as: viewed)) != nil,
            try await ViewAs.audited(viewer: authenticated.principal, viewed: viewed, on: request.db)
        else {
            // Another session's, no longer viewable, or a viewer who lost the right: the page is their own again.
            let response = try await next.respond(to: request)
            response.cookies[ViewAs.cookie] = LoginPage.expired()
            return response
        }
        // In the viewed principal's place first, so a refusal's page shows the banner too.
        request.viewAs = ViewAs.State(viewer: authenticated.principal, viewed: viewed)
        request.authenticated = Authenticated(
            principal: viewed, tokenId: authenticated.tokenId, tokenKind: authenticated.tokenKind, secret: authenticated.secret)
        try AccessPolicy.authorizeViewAsRequest(
            method: request.method.rawValue, readOnlyPage: ViewAs.matches(request.route, ViewAs.readOnlyRoutes),
            endsView: ViewAs.matches(request.route, ViewAs.endingRoutes))
        return try await next.respond(to: request)
    }
}

// TrieRouter predates Sendable; this one is only read after `init`, as Vapor's own router is.
@preconcurrency import RoutingKit
import Vapor

/// A known path asked with a method it was not registered for answers 405 with `Allow`, not 404
/// (RFC 9110 §15.5.6). The table mirrors Vapor's router, so it agrees with it on every path.
struct AllowedMethods: Sendable {
    private let router: TrieRouter<Set<String>>
    private let methods: [String]

    init(_ routes: Routes) {
        let router = TrieRouter(Set<String>.self, options: routes.caseInsensitive ? [.caseInsensitive] : [])
        var methods: [String] = []
        for route in routes.all where route.userInfo["tandem.refuses"] == nil {
            let method = route.method.rawValue
            if !methods.contains(method) { methods.append(method) }
            let path = route.path.filter { if case .constant("") = $0 { false } else { true } }
            router.register([method], at: [.constant(method)] + path)
        }
        self.router = router
        self.methods = methods
    }

    /// The methods registered for `path`, in a stable order; empty for an unknown path.
    func allowed(for path: String) -> [String] {
        let components = path.split(separator: "/").map(String.init)
        return methods.filter { method in
            var parameters = Parameters()
            return router.route(path: [method] + components, parameters: &parameters) != nil
        }.sorted { Self.order($0) < Self.order($1) }
    }

    private static func order(_ method: String) -> Int {
        ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].firstIndex(of: method) ?? 99
    }
}

/// Turns "no route" into 405 when the path is known under other methods; unknown paths stay 404.
/// Future-based, like every middleware on the hot path: an async middleware costs a task per request.
struct MethodNotAllowedMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        if request.route == nil, let table = request.application.allowedMethods {
            let allowed = table.allowed(for: request.url.path)
            if !allowed.isEmpty {
                return request.eventLoop.makeFailedFuture(
                    Abort(
                        .methodNotAllowed, headers: ["Allow": allowed.joined(separator: ", ")],
                        reason: "\(request.url.path) does not accept \(request.method.rawValue); it accepts \(allowed.joined(separator: ", "))."))
            }
        }
        return next.respond(to: request)
    }
}

extension Application {
    private struct AllowedMethodsKey: StorageKey { typealias Value = AllowedMethods }

    /// Built once the routes are registered (`configure`).
    var allowedMethods: AllowedMethods? {
        get { storage[AllowedMethodsKey.self] }
        set { storage[AllowedMethodsKey.self] = newValue }
    }
}

extension Route {
    /// Marks a route that exists only to refuse its method (the audit log's PATCH), so `Allow` does not list it.
    @discardableResult
    func refusing() -> Route {
        userInfo["tandem.refuses"] = true
        return self
    }
}

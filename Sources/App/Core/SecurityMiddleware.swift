import Foundation
import TandemCore
import Vapor

/// The API accepts the page session cookie, so a browser would send it with a request another site
/// makes it send. A cookie-authenticated API write therefore needs proof it came from Tandem's own
/// pages: the session's CSRF token in `X-CSRF-Token`, or a JSON body (which another site can only send
/// after a CORS preflight Tandem never answers) with an `Origin` of this very host. Bearer tokens
/// need neither: no browser adds them on its own.
enum CookieAPIWrites {
    static let header = "X-CSRF-Token"

    static func authorize(_ request: Request, session: Authenticated) throws {
        guard request.url.path.hasPrefix("/api/"), ![.GET, .HEAD, .OPTIONS].contains(request.method) else { return }
        if CSRF.matches(request.headers.first(name: header), CSRF.token(forSession: session.secret)) { return }
        if request.headers.contentType == .json, let origin = request.headers.first(name: .origin), sameOrigin(origin, request) { return }
        throw TandemError.forbidden(
            "an API write with the page session cookie needs the \(header) header, or a JSON body sent from this site; API clients use a bearer token")
    }

    /// The `Origin` names the host the request was sent to (scheme aside: TLS may end at a proxy).
    static func sameOrigin(_ origin: String, _ request: Request) -> Bool {
        guard let host = request.headers.first(name: .host), let url = URLComponents(string: origin), let originHost = url.host else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }
}

/// `/metrics` can be limited to a bearer token (`TANDEM_METRICS_TOKEN`) and to addresses
/// (`TANDEM_METRICS_ALLOW`, comma-separated); with neither set it is open, as Prometheus expects.
enum MetricsAccess {
    static func authorize(_ request: Request, _ options: AppOptions) throws {
        if let allowed = options.metricsAllowedAddresses {
            guard let address = request.clientAddress, allowed.contains(address) else {
                throw TandemError.forbidden("metrics are not served to this address")
            }
        }
        if let token = options.metricsToken {
            guard CSRF.matches(request.headers.bearerAuthorization?.token, token) else {
                throw TandemError.unauthorized("metrics need the configured bearer token")
            }
        }
    }
}

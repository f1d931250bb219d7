import Foundation
import TandemCore
import Vapor

/// An error page: what went wrong, in words for a person rather than a program.
struct ErrorPage: Encodable, Sendable {
    var layout: PageLayout
    var heading: String
    var message: String
    var status: Int
}

enum PageErrors {
    /// The page's status, heading and message for any error a page handler lets through.
    static func describe(_ error: any Error) -> (status: HTTPStatus, heading: String, message: String) {
        switch error {
        case let error as TandemError:
            switch error {
            case .notFound(let what):
                return (.notFound, "Not found", "There is no \(what) at this address, or you do not have access to it.")
            case .validation(let errors):
                return (
                    .badRequest, "That did not work",
                    errors.map { FormFeedback.sentence(FormFeedback.labels[$0.field] ?? $0.field, $0.message) }.joined(separator: " ")
                )
            case .badRequest(let detail):
                return (.badRequest, "That did not work", FormFeedback.sentence("", detail))
            case .forbidden(let detail):
                return (.forbidden, "Not allowed", FormFeedback.sentence("", detail))
            case .conflict(let detail):
                return (.conflict, "That did not work", FormFeedback.sentence("", detail))
            case .preconditionFailed, .preconditionRequired:
                return (.conflict, "Changed since you loaded it", "Someone changed this since you loaded it. Reload the page and apply your change again.")
            case .unauthorized(let detail), .totpRequired(let detail):
                return (.unauthorized, "Please log in", FormFeedback.sentence("", detail))
            case .totpEnrolmentRequired:
                return (.unauthorized, "Set up two-factor authentication", "Your account needs two-factor authentication before you can log in.")
            case .rateLimited(let seconds):
                return (
                    .tooManyRequests, "Too many attempts",
                    "Too many attempts (failed logins, or secrets revealed). Try again in \(max(1, seconds / 60)) minutes."
                )
            case .payloadTooLarge(let detail), .unsupportedMediaType(let detail):
                return (.payloadTooLarge, "That did not work", FormFeedback.sentence("", detail))
            }
        case let error as CoManagementError:
            switch error {
            case .activeUsers(let users):
                return (
                    .conflict, "Co-managing users are active",
                    "Co-management cannot be switched off while co-managing users are active: deactivate \(users.map(\.username).joined(separator: ", ")) first."
                )
            case .licenseConfirmationRequired(let current):
                return (
                    .conflict, "Confirm the license",
                    "Each active co-managing user is a billable license. This makes \(current + 1) licenses (now \(current)); confirm the additional license."
                )
            }
        case let error as QueryProblem:
            return (
                .badRequest, "That did not work",
                error.errors.map { FormFeedback.sentence(FormFeedback.labels[$0.field] ?? $0.field, $0.message) }.joined(separator: " ")
            )
        case is DecodingError:
            return (.badRequest, "That did not work", "The form was incomplete. Go back, reload the page and try again.")
        case let abort as any AbortError:
            if abort.status == .notFound { return (.notFound, "Not found", "There is no page at this address.") }
            if abort.status == .payloadTooLarge { return (.payloadTooLarge, "Too large", "What you sent is larger than Tandem accepts here.") }
            if abort.status.code < 500 { return (abort.status, "That did not work", abort.reason) }
            return (.internalServerError, "Something went wrong", "Something went wrong on our side; nothing was saved. Please try again.")
        default:
            return (.internalServerError, "Something went wrong", "Something went wrong on our side; nothing was saved. Please try again.")
        }
    }
}

/// Wraps every page: errors become HTML pages (never problem+json), and responses get the
/// headers that keep pages out of frames and caches.
struct PageResponseMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            response = await Self.errorPage(for: error, request: request)
        }
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        response.headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        return response
    }

    static func errorPage(for error: any Error, request: Request) async -> Response {
        if case TandemError.unauthorized = error { return PageSessionMiddleware.toLogin(request) }
        let (status, heading, message) = PageErrors.describe(error)
        if status.code >= 500 { request.logger.report(error: error) }
        let page = ErrorPage(layout: request.pageLayout(heading), heading: heading, message: message, status: Int(status.code))
        do {
            return try await request.renderPage("error", page, status: status)
        } catch {
            request.logger.report(error: error)
            let body = "<!doctype html><title>Tandem</title><h1>\(Self.escape(heading))</h1><p>\(Self.escape(message))</p>"
            return Response(status: status, headers: ["Content-Type": "text/html; charset=utf-8"], body: .init(string: body))
        }
    }
}

extension PageResponseMiddleware {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Pages that need someone logged in: without a page session, go to the login page and come back.
struct PageSessionMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let authenticated = request.authenticated, authenticated.tokenKind == .session else {
            return Self.toLogin(request)
        }
        request.pageZone = try await PageZone.of(authenticated.principal, on: request.db)
        return try await next.respond(to: request)
    }

    static func toLogin(_ request: Request) -> Response {
        // Only a GET is worth coming back to; a form post would be lost anyway.
        let back = request.method == .GET ? request.url.string : nil
        return request.seeOther(PageURL.with(PageURL.login.path, query: [("next", back)]))
    }
}

/// Every POST of a logged-in page carries `_csrf`, derived from the session secret.
struct CSRFMiddleware: AsyncMiddleware {
    static let maxFormBytes = 1 << 20
    static let bodyLimitKey = "tandem.formBodyLimit"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.method == .POST else { return try await next.respond(to: request) }
        guard let authenticated = request.authenticated else { return PageSessionMiddleware.toLogin(request) }
        // Collecting here keeps the bytes for the handler's own decoding; upload forms allow their own size.
        _ = try await request.body.collect(max: request.route?.userInfo[Self.bodyLimitKey] as? Int ?? Self.maxFormBytes).get()
        let given = try? request.content.get(String.self, at: CSRF.field)
        guard CSRF.matches(given, CSRF.token(forSession: authenticated.secret)) else {
            throw TandemError.forbidden("this form has expired or did not come from Tandem. Go back, reload the page and try again")
        }
        return try await next.respond(to: request)
    }
}

extension Route {
    /// A page form that uploads a file: the CSRF check collects its body up to `bytes`, the limit its
    /// route collects to (the token is inside the multipart body), not a plain form's 1 MB.
    @discardableResult
    func uploadForm(maxBytes bytes: Int) -> Route {
        userInfo[CSRFMiddleware.bodyLimitKey] = bytes
        return self
    }
}

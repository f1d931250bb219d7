import Fluent
import Foundation
import TandemCore
import Vapor

/// `/login` and `/logout`: a page session is a `.session` token in an HttpOnly cookie.
enum LoginPage {
    static let view = "auth/login"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var username: String
        var next: String?
        var csrf: String
        var feedback: FormFeedback?
        var notice: String?
        /// Shown once the server has said this account needs a two-factor code.
        var askCode: Bool
    }

    struct Form: Decodable, Sendable {
        var username: String?
        var password: String?
        var totp: String?
        var next: String?
        var _csrf: String?
    }

    static let notices = [
        "loggedOut": "You have logged out.",
        "enrolled": "Two-factor authentication is set up. Log in with your password and the next code your app shows.",
        "enrolmentExpired": "Your two-factor setup expired or was already finished. Log in again to continue.",
    ]

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        if req.authenticated?.tokenKind == .session { return req.seeOther(safeNext(req.queryText("next"))) }
        let notice = notices.first { req.queryText($0.key) != nil }?.value
        let askCode = req.queryText("enrolled") != nil
        return try await render(
            req, username: req.queryText("username") ?? "", next: req.queryText("next"), feedback: nil,
            notice: notice, askCode: askCode, status: .ok)
    }

    @Sendable static func submit(_ req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        let username = form.username ?? ""
        // Double-submit: the hidden field must repeat the cookie only this site can set.
        guard let cookie = req.cookies[CSRF.loginCookie]?.string, CSRF.matches(form._csrf, cookie) else {
            return try await render(
                req, username: username, next: form.next,
                feedback: FormFeedback(message: "Your login form expired. Please enter your password again."), status: .forbidden)
        }
        guard !username.trimmingCharacters(in: .whitespaces).isEmpty, let password = form.password, !password.isEmpty else {
            return try await render(
                req, username: username, next: form.next,
                feedback: FormFeedback(message: "Enter your username and password."), status: .unprocessableEntity)
        }
        let code = form.totp.map { $0.filter { !$0.isWhitespace } }.flatMap { $0.isEmpty ? nil : $0 }
        do {
            let found = try await Login.verify(
                username: username, password: password, totp: code, address: req.clientAddress ?? "unknown",
                on: req.db, passwords: req.password.async)
            // A new session id at every login: a session the browser already held (perhaps one planted in it) ends.
            if let presented = req.cookies[Tokens.sessionCookie]?.string, !presented.isEmpty {
                try await req.db.write { db in try await APIToken.query(on: db).filter(\.$tokenHash == Tokens.hash(presented)).delete() }
            }
            let (secret, token) = try await Tokens.issue(for: found, kind: .session, lifetime: Login.lifetime, on: req.db)
            let response = req.seeOther(safeNext(form.next))
            response.cookies[Tokens.sessionCookie] = HTTPCookies.Value(
                string: secret, expires: token.expiresAt, maxAge: Int(Login.lifetime), path: "/",
                isSecure: req.settings.options.secureCookies, isHTTPOnly: true, sameSite: .lax)
            response.cookies[CSRF.loginCookie] = expired()
            return response
        } catch TandemError.totpRequired {
            // The password was right; the form asks again with the code field (the password is never sent back).
            let message =
                code == nil
                ? "Enter your password again with the 6-digit code from your authenticator app."
                : "That two-factor code is wrong, expired or already used. Enter your password and the current code."
            return try await render(
                req, username: username, next: form.next, feedback: FormFeedback(summary: [message], fields: code == nil ? [:] : ["totp": message]),
                askCode: true, status: .unauthorized)
        } catch TandemError.totpEnrolmentRequired(let token) {
            let response = req.seeOther(PageURL.with(PageURL.twoFactorSetup.path, query: [("next", form.next.map(safeNext))]))
            response.cookies[TwoFactorSetupPage.cookie] = HTTPCookies.Value(
                string: token, maxAge: Int(TwoFactor.enrolmentLifetime), path: PageURL.twoFactorSetup.path,
                isSecure: req.settings.options.secureCookies, isHTTPOnly: true, sameSite: .strict)
            return response
        } catch let error as TandemError {
            let status: HTTPStatus = if case .rateLimited = error { .tooManyRequests } else { .unauthorized }
            return try await render(req, username: username, next: form.next, feedback: FormFeedback(error), status: status)
        }
    }

    @Sendable static func logout(_ req: Request) async throws -> Response {
        if let authenticated = req.authenticated {
            try await Tokens.end(authenticated.tokenId, on: req.db)
        }
        let response = req.seeOther(PageURL.with(PageURL.login.path, query: [("loggedOut", "1")]))
        response.cookies[Tokens.sessionCookie] = expired()
        return response
    }

    // MARK: View

    private static func render(
        _ req: Request, username: String, next: String?, feedback: FormFeedback?, notice: String? = nil, askCode: Bool = false,
        status: HTTPStatus
    ) async throws -> Response {
        var layout = req.pageLayout("Log in")
        layout.user = nil
        let token = loginCSRF(req)
        let model = Model(layout: layout, username: username, next: next.map(safeNext), csrf: token, feedback: feedback, notice: notice, askCode: askCode)
        let response = try await req.renderPage(view, model, status: status)
        setLoginCSRF(token, on: response, req)
        return response
    }

    /// The double-submit token of the forms shown before a session exists (login, two-factor setup).
    static func loginCSRF(_ req: Request) -> String {
        (req.cookies[CSRF.loginCookie]?.string).flatMap { $0.count == 64 ? $0 : nil } ?? CSRF.random()
    }

    static func setLoginCSRF(_ token: String, on response: Response, _ req: Request) {
        response.cookies[CSRF.loginCookie] = HTTPCookies.Value(
            string: token, path: "/", isSecure: req.settings.options.secureCookies, isHTTPOnly: true, sameSite: .lax)
    }

    /// Only a path on this site (`SafeRedirect`), so the login cannot be used to send people elsewhere.
    static func safeNext(_ next: String?) -> String {
        guard let path = SafeRedirect.path(next), !path.hasPrefix(PageURL.login.path) else { return PageURL.tickets.path }
        return path
    }

    static func expired(path: String = "/") -> HTTPCookies.Value {
        HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: path, isHTTPOnly: true, sameSite: .lax)
    }
}

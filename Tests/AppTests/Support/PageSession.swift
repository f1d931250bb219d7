import Foundation
import Testing
import VaporTesting

@testable import App

/// Logging in through the login page, as a browser does: the form's CSRF token and cookie, then the
/// session cookie the answer sets.
extension TestApp {
    struct LoginForm: Sendable {
        var csrf: String
        var cookie: String
    }

    /// The login page's double-submit token and its cookie.
    func loginForm() async throws -> LoginForm {
        let page = try await get("/login", as: "")
        guard let csrf = page.text.firstMatch(of: /name="_csrf" value="([0-9a-f]{64})"/)?.1,
            let cookie = page.headers.setCookie?[CSRF.loginCookie]?.string
        else {
            throw TestSetupError("the login page has no CSRF token: \(page)")
        }
        return LoginForm(csrf: String(csrf), cookie: cookie)
    }

    /// Posts the login form; `session` is a session cookie the browser already holds.
    func submitLogin(
        _ username: String, _ password: String, next: String? = nil, totp: String? = nil, form: LoginForm? = nil,
        session: String? = nil
    ) async throws -> Reply {
        let form = if let form { form } else { try await loginForm() }
        var fields = [("username", username), ("password", password), ("_csrf", form.csrf)]
        if let next { fields.append(("next", next)) }
        if let totp { fields.append(("totp", totp)) }
        var cookies = "\(CSRF.loginCookie)=\(form.cookie)"
        if let session { cookies += "; \(Tokens.sessionCookie)=\(session)" }
        return try await send(
            .POST, "/login", as: "", raw: Self.formEncoded(fields),
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies])
    }

    /// A page session of this user; the cookie's value.
    func pageSession(_ username: String, _ password: String) async throws -> String {
        let reply = try await submitLogin(username, password)
        guard reply.status == .seeOther, let session = reply.headers.setCookie?[Tokens.sessionCookie]?.string, !session.isEmpty else {
            throw TestSetupError("page login as \(username) answered \(reply)")
        }
        return session
    }

    static func formEncoded(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }
}

/// Pages as a logged-in browser sees them: the session cookie, and the session's CSRF token in every form.
extension TestApp {
    func page(_ path: String, session: String) async throws -> Reply {
        try await get(path, as: "", headers: ["Cookie": "\(Tokens.sessionCookie)=\(session)"])
    }

    func submitForm(_ path: String, _ fields: [(String, String)], session: String) async throws -> Reply {
        try await send(
            .POST, path, as: "", raw: Self.formEncoded(fields + [(CSRF.field, CSRF.token(forSession: session))]),
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": "\(Tokens.sessionCookie)=\(session)"])
    }
}

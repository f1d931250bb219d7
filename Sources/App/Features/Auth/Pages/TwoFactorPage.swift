import Fluent
import Foundation
import TandemCore
import Vapor

/// `/login/two-factor`: first-login enrolment of a co-managing user (Appendix A) on the pages. The enrolment
/// token from the login lives in a short-lived HttpOnly cookie; the page shows the secret and the otpauth URI
/// as text, and a correct code confirms the enrolment before the user logs in again with a code.
enum TwoFactorSetupPage {
    static let view = "auth/two-factor"
    static let cookie = "tandem_enrolment"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var name: String
        var account: String
        var secret: String
        var secretGroups: String
        var uri: String
        var csrf: String
        var next: String?
        var feedback: FormFeedback?
    }

    struct Form: Decodable, Sendable {
        var code: String?
        var next: String?
        var _csrf: String?
    }

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        guard let enrolling = try await enrolling(req) else { return expired(req) }
        return try await render(req, enrolling.principal, next: req.queryText("next"), feedback: nil, status: .ok)
    }

    @Sendable static func submit(_ req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        guard let enrolling = try await enrolling(req) else { return expired(req) }
        guard let cookie = req.cookies[CSRF.loginCookie]?.string, CSRF.matches(form._csrf, cookie) else {
            return try await render(
                req, enrolling.principal, next: form.next,
                feedback: FormFeedback(message: "This form expired. Enter the current code again."), status: .forbidden)
        }
        let code = (form.code ?? "").filter { !$0.isWhitespace }
        guard code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else {
            return try await render(
                req, enrolling.principal, next: form.next,
                feedback: FormFeedback(summary: ["Enter the 6-digit code your authenticator app shows."], fields: ["code": "Enter 6 digits."]),
                status: .unprocessableEntity)
        }
        do {
            try await TwoFactor.confirm(enrolling.principal, code: code, on: req.db)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, enrolling.principal, next: form.next, feedback: FormFeedback(error), status: error.pageStatus)
        }
        let username = try await CoManagingUser.find(enrolling.principal.id, on: req.db)?.username
        let response = req.seeOther(
            PageURL.with(PageURL.login.path, query: [("enrolled", "1"), ("username", username), ("next", form.next.map(LoginPage.safeNext))]))
        response.cookies[cookie] = LoginPage.expired(path: PageURL.twoFactorSetup.path)
        return response
    }

    // MARK: Support

    /// The co-managing user the enrolment cookie stands for, while the token is valid.
    static func enrolling(_ req: Request) async throws -> Authenticated? {
        guard let secret = req.cookies[cookie]?.string, !secret.isEmpty,
            let authenticated = try await Tokens.resolve(secret, on: req.db),
            authenticated.tokenKind == .enrolment, AccessPolicy.requiresTwoFactor(authenticated.principal.kind)
        else { return nil }
        return authenticated
    }

    static func expired(_ req: Request) -> Response {
        let response = req.seeOther(PageURL.with(PageURL.login.path, query: [("enrolmentExpired", "1")]))
        response.cookies[cookie] = LoginPage.expired(path: PageURL.twoFactorSetup.path)
        return response
    }

    static func render(_ req: Request, _ principal: Principal, next: String?, feedback: FormFeedback?, status: HTTPStatus) async throws -> Response {
        let (secret, uri, account) = try await pendingEnrolment(principal, on: req.db)
        var layout = req.pageLayout("Set up two-factor authentication")
        layout.user = nil
        let token = LoginPage.loginCSRF(req)
        let groups = stride(from: 0, to: secret.count, by: 4).map { offset -> String in
            let start = secret.index(secret.startIndex, offsetBy: offset)
            return String(secret[start..<(secret.index(start, offsetBy: 4, limitedBy: secret.endIndex) ?? secret.endIndex)])
        }.joined(separator: " ")
        let model = Model(
            layout: layout, name: principal.displayName, account: account, secret: secret, secretGroups: groups, uri: uri,
            csrf: token, next: next.map(LoginPage.safeNext), feedback: feedback)
        let response = try await req.renderPage(view, model, status: status)
        LoginPage.setLoginCSRF(token, on: response, req)
        return response
    }

    /// The secret being set up: the one already shown if enrolment was started and not confirmed (so a reload
    /// does not invalidate what the user scanned), otherwise a new one from `TwoFactor.enrol`.
    static func pendingEnrolment(_ principal: Principal, on db: any Database) async throws -> (secret: String, uri: String, account: String) {
        guard let user = try await CoManagingUser.find(principal.id, on: db) else { throw TandemError.notFound("co-managing user") }
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value ?? "tandem.local"
        let account = "\(user.username)@\(domain)"
        if !user.totpConfirmed, let secret = try TOTPSecrets.read(user, on: db), let bytes = Base32.decode(secret) {
            return (secret, TOTP(secret: bytes).provisioningURI(account: account, issuer: TwoFactor.issuer), account)
        }
        let (secret, uri) = try await TwoFactor.enrol(principal, on: db)
        return (secret, uri, account)
    }
}

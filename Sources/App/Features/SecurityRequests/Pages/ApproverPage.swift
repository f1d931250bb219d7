import Fluent
import Foundation
import TandemCore
import Vapor

/// `/approvals/:id`: where an approver enters the one-time code they were sent and approves or denies.
/// No session: the code is the approver's proof, checked like any other try (`SecurityRequests.verify`
/// with no principal takes only an approver's code). Nothing about the request is shown before a right
/// code; the form is protected by the double-submit cookie of the pages shown before a login.
enum ApproverPage {
    static let view = "securityrequests/approver"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var action: String
        var csrf: String
        var feedback: FormFeedback?
        /// After a right code: what was decided.
        var done: String?
        var evidence: String?
    }

    struct Form: Decodable, Sendable {
        var code: String?
        var decision: String?
        var _csrf: String?
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let id = try req.id("id", SecurityRequests.what)
        return try await render(req, id: id, feedback: nil, status: .ok)
    }

    @Sendable static func submit(_ req: Request) async throws -> Response {
        let id = try req.id("id", SecurityRequests.what)
        let form = try req.content.decode(Form.self)
        guard let cookie = req.cookies[CSRF.loginCookie]?.string, CSRF.matches(form._csrf, cookie) else {
            return try await render(req, id: id, feedback: FormFeedback(message: "This form expired. Please enter your code again."), status: .forbidden)
        }
        guard let decision = form.decision, ["approve", "deny"].contains(decision) else {
            return try await render(req, id: id, feedback: FormFeedback(message: "Choose Approve or Deny."), status: .unprocessableEntity)
        }
        do {
            let request = try await SecurityRequests.verify(
                id, code: form.code ?? "", approve: decision == "approve", by: nil, settings: req.settings, on: req.db)
            let done = "You \(decision == "approve" ? "approved" : "denied") the request: \(request.categoryTitle). The help desk has been told."
            let evidence = request.evidence.map {
                "Recorded \(PageFormat.date($0.at, in: req.pageZone)) as \($0.approver.name ?? "the approver"), with your one-time code."
            }
            return try await render(req, id: id, feedback: nil, done: done, evidence: evidence, status: .ok)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, id: id, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(
        _ req: Request, id: UUID, feedback: FormFeedback?, done: String? = nil, evidence: String? = nil, status: HTTPStatus
    ) async throws -> Response {
        var layout = req.pageLayout("Approve or deny a request")
        layout.user = nil
        let token = LoginPage.loginCSRF(req)
        let model = Model(layout: layout, action: PageRoutes.approval.url(id), csrf: token, feedback: feedback, done: done, evidence: evidence)
        let response = try await req.renderPage(view, model, status: status)
        LoginPage.setLoginCSRF(token, on: response, req)
        return response
    }
}

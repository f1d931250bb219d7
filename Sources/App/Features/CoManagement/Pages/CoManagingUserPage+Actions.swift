import Fluent
import Foundation
import TandemCore
import Vapor

/// The detail page's forms (general, security, queues and roles, status, two-factor pause, erasure), each one service call.
extension CoManagingUserPage {
    @Sendable static func show(_ req: Request) async throws -> Response {
        let section = req.queryText("tab").flatMap { tab in sections.contains { $0.0 == tab } ? tab : nil } ?? "general"
        let notice = req.queryText("notice").flatMap { notices[$0] }
        return try await render(req, section: section, notice: notice, feedback: nil)
    }

    @Sendable static func saveGeneral(_ req: Request) async throws -> Response {
        let form = try req.content.decode(General.self)
        var input = CoManagingUserInput()
        input.username = .value(form.username ?? "")
        if let password = form.password, !password.isEmpty { input.password = .value(password) }
        input.internalLocationId = (form.internalLocationId ?? "").isEmpty ? .null : .value(form.internalLocationId!)
        input.timesheetStart = (form.timesheetStart ?? "").isEmpty ? .null : .value(form.timesheetStart!)
        return try await apply(req, section: "general", input, draft: form)
    }

    @Sendable static func saveSecurity(_ req: Request) async throws -> Response {
        let form = try req.content.decode(SecurityForm.self)
        var input = CoManagingUserInput()
        input.securityLevelId = .value(form.securityLevelId ?? "")
        return try await apply(req, section: "security", input)
    }

    @Sendable static func saveGroupOverride(_ req: Request) async throws -> Response {
        let form = try req.content.decode(GroupOverrideForm.self)
        var input = CoManagingUserInput()
        input.customerGroupOverride = .value(AdminPages.ticked(form.customerGroupOverride))
        return try await apply(req, section: "security", input)
    }

    @Sendable static func saveAccess(_ req: Request) async throws -> Response {
        let form = try req.content.decode(AccessForm.self)
        var input = CoManagingUserInput()
        input.queueIds = .value(form.queueIds ?? [])
        input.roleIds = .value(form.roleIds ?? [])
        input.departmentIds = .value(form.departmentIds ?? [])
        return try await apply(req, section: "access", input)
    }

    @Sendable static func saveStatus(_ req: Request) async throws -> Response {
        let form = try req.content.decode(StatusForm.self)
        var input = CoManagingUserInput()
        let active = form.active == "true"
        input.active = .value(active)
        if AdminPages.ticked(form.confirmLicense) { input.confirmLicense = .value(true) }
        return try await apply(req, section: "status", input, notice: active ? "activated" : "deactivated")
    }

    @Sendable static func pause(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        _ = try await CoManagingUsers.visible(id, by: principal, on: req.db)
        let form = try req.content.decode(PauseForm.self)
        guard let pause = form.for.flatMap(TwoFactor.Pause.init(rawValue:)) else {
            throw TandemError.badRequest("choose to pause for the next login or for 24 hours")
        }
        _ = try await TwoFactor.pause(userId: id, pause, by: principal, on: req.db)
        return req.seeOther(PageURL.with(PageURL.coManagingUser(id, tab: nil).path, query: [("tab", "security"), ("notice", pause.rawValue)]))
    }

    @Sendable static func erase(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        let form = try req.content.decode(StatusForm.self)
        guard form.confirm == "yes" else {
            return try await render(
                req, section: "status", feedback: FormFeedback(message: "Tick the box to confirm the erasure; it cannot be undone."),
                status: .unprocessableEntity)
        }
        do {
            try await CoManagingUsers.erase(id, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.coManagingUsers.path, query: [("notice", "erased")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, section: "status", feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// One update through the service; its refusals are shown on the tab, with the user's words kept.
    static func apply(_ req: Request, section: String, _ input: CoManagingUserInput, draft: General? = nil, notice: String = "saved") async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        do {
            _ = try await CoManagingUsers.update(id, input, by: principal, on: req.db, passwords: req.password.async)
            return req.seeOther(PageURL.with(PageURL.coManagingUser(id, tab: nil).path, query: [("tab", section), ("notice", notice)]))
        } catch CoManagementError.licenseConfirmationRequired(let current) {
            let feedback = FormFeedback(
                message: "Reactivating makes \(current + 1) co-managed licenses (now \(current)). Tick the box to confirm the additional license.")
            return try await render(req, section: section, feedback: feedback, status: .unprocessableEntity)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, section: section, draft: draft, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(_ req: Request, section: String, draft: General? = nil, notice: String? = nil, feedback: FormFeedback?, status: HTTPStatus = .ok)
        async throws -> Response
    {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managing user", tab: "users", needs: .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        var model = try await query(id, section: section, draft: draft, principal: principal, layout: layout, tabs: tabs, on: req.db)
        model.notice = notice
        model.feedback = feedback
        return try await req.renderPage(view, model, status: status)
    }
}

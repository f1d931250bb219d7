import Foundation
import TandemCore
import Vapor

/// `/admin/templates`: the notification template of each kind (subject, text, HTML), built-in or
/// the administrators' own, saved or reset through the API's functions (`NotificationsAPI`).
enum TemplatePages {
    static let view = "admin/templates"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var templates: [Template]
        var placeholders: String
        var notice: String?
    }

    struct Template: Encodable, Sendable {
        var kind: String
        var label: String
        var subject: String
        var body: String
        var htmlBody: String
        var isDefault: Bool
        var saveURL: String
        var resetURL: String
        var feedback: FormFeedback?
    }

    struct Form: Decodable, Sendable {
        var subject: String?
        var body: String?
        var htmlBody: String?
    }

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.templates.pathComponents, use: show)
        routes.post(PageRoutes.template.pathComponents, use: save)
        routes.post(PageRoutes.templateReset.pathComponents, use: reset)
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let notice = ["saved": "The template was saved.", "reset": "The template is the built-in one again."][req.queryText("notice") ?? ""]
        return try await render(req, notice: notice)
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let kind = try kind(req)
        let form = try req.content.decode(Form.self)
        let input = NotificationTemplateInput(
            subject: form.subject ?? "", body: form.body ?? "", htmlBody: form.htmlBody.flatMap { $0.isEmpty ? nil : $0 })
        do {
            _ = try await NotificationsAPI.saveTemplate(kind, input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.templates.url(), query: [("notice", "saved")]) + "#template-\(kind.rawValue)")
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, failed: (kind, form, FormFeedback(error)), status: error.pageStatus)
        }
    }

    @Sendable static func reset(_ req: Request) async throws -> Response {
        let kind = try kind(req)
        _ = try await NotificationsAPI.resetTemplate(kind, by: req.principal, on: req.db)
        return req.seeOther(PageURL.with(PageRoutes.templates.url(), query: [("notice", "reset")]) + "#template-\(kind.rawValue)")
    }

    static func render(_ req: Request, notice: String? = nil, failed: (NotificationKind, Form, FormFeedback)? = nil, status: HTTPStatus = .ok)
        async throws -> Response
    {
        let (_, layout, tabs) = try AdminPages.begin(req, "Notification templates", tab: "templates", needs: .manageRules)
        let stored = Set(try await StoredTemplate.query(on: req.db).all().compactMap(\.id))
        let all = try await StoredTemplate.all(on: req.db)
        let templates = NotificationKind.allCases.map { kind in
            let template = all[kind] ?? NotificationTemplate.builtIn(kind)
            var row = Template(
                kind: kind.rawValue, label: NotificationSettingsPage.labels[kind] ?? kind.rawValue, subject: template.subject, body: template.body,
                htmlBody: template.htmlBody ?? "", isDefault: !stored.contains(kind.rawValue), saveURL: PageRoutes.template.url(texts: [kind.rawValue]),
                resetURL: PageRoutes.templateReset.url(texts: [kind.rawValue]))
            if let (failedKind, form, feedback) = failed, failedKind == kind {
                row.subject = form.subject ?? ""
                row.body = form.body ?? ""
                row.htmlBody = form.htmlBody ?? ""
                row.feedback = feedback
            }
            return row
        }
        let placeholders = TemplatePlaceholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: " ")
        return try await req.renderPage(
            view, Model(layout: layout, tabs: tabs, templates: templates, placeholders: placeholders, notice: notice), status: status)
    }

    private static func kind(_ req: Request) throws -> NotificationKind {
        guard let text = req.parameters.get("kind"), let kind = NotificationKind(rawValue: text) else { throw TandemError.notFound("template") }
        return kind
    }
}

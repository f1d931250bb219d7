import Fluent
import Foundation
import TandemCore
import Vapor

/// `/sites/:id/notification-rule`: the site's notification rule (whom the help desk escalates to, in
/// order and when; whom to call first) as JSON, with the organization's contacts to pick from; saved
/// through the API's function (`SiteNotificationRulesAPI.save`).
enum SiteNotificationRulePage {
    static let view = "organizations/notification-rule"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var siteURL: String
        var action: String
        var definition: String
        var contacts: [ContactChoice]
        var notice: String?
        var feedback: FormFeedback?
    }

    struct ContactChoice: Encodable, Sendable {
        var id: String
        var name: String
    }

    struct Form: Decodable, Sendable {
        var definition: String?
    }

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.siteNotificationRule.pathComponents, use: show)
        routes.post(PageRoutes.siteNotificationRule.pathComponents, use: save)
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let site = try await SitesCollection.visible(req)
        guard AccessPolicy.readsSiteRunbook(try req.principal) else { throw TandemError.notFound("notification rule") }
        let stored = try await StoredSiteNotificationRule.find(site.id, on: req.db)?.rule
        let notice = req.queryText("notice") == "saved" ? "The notification rule was saved." : nil
        return try await render(req, site, definition: try pretty(stored ?? SiteNotificationRule()), notice: notice)
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let site = try await SitesCollection.visible(req)
        let text = try req.content.decode(Form.self).definition ?? ""
        do {
            let rule: SiteNotificationRule
            do {
                rule = try JSONDecoder().decode(SiteNotificationRule.self, from: Data(text.utf8))
            } catch {
                throw TandemError.invalid("definition", "is not a notification rule in JSON: \(error.localizedDescription)")
            }
            _ = try await SiteNotificationRulesAPI.save(site, rule, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.siteNotificationRule.url(site.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, site, definition: text, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(
        _ req: Request, _ site: Site, definition: String, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let contacts = try await Contact.query(on: req.db).filter(\.$organizationId == site.organizationId)
            .filter(ContactsCollection.scope(for: req.principal, .view), on: Contact.scopeTable).sort(\.$lastName).sort(\.$firstName).limit(500).all()
        var layout = req.pageLayout("Notification rule", section: "organizations")
        layout.title = "Notification rule: \(site.name)"
        let model = Model(
            layout: layout, siteName: site.name, siteURL: PageURL.site(site.id!).path, action: PageRoutes.siteNotificationRule.url(site.id!),
            definition: definition, contacts: contacts.map { ContactChoice(id: $0.id!.uuidString, name: $0.fullName) }, notice: notice,
            feedback: feedback)
        return try await req.renderPage(view, model, status: status)
    }

    static func pretty(_ rule: SiteNotificationRule) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(rule), as: UTF8.self)
    }
}

import Foundation
import TandemCore
import Vapor

/// `/identify`: the technician taking a call types the number and sees who it is, what to say and
/// what to know, through the API's function (`IdentifyAPI.identify`); one click opens a ticket for
/// the caller (the new ticket form, filled in).
enum IdentifyPage {
    static let view = "intake/identify"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var phone: String
        var country: String
        var answer: Answer?
        var feedback: FormFeedback?
    }

    struct Answer: Encodable, Sendable {
        var phone: String
        var greeting: String?
        var siteMessage: String?
        var ambiguityReason: String?
        var callers: [Caller]
        var site: Caller?
        var callBeforeEscalating: [String]
        var unknown: Bool
    }

    /// A caller (or the site alone) with what tells them apart and the link that opens their ticket.
    struct Caller: Encodable, Sendable {
        var name: String
        var detail: String
        var newTicketURL: String
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        guard AccessPolicy.takesCalls(principal) else { throw TandemError.notFound("page") }
        let phone = req.queryText("phone") ?? "", country = req.queryText("country") ?? ""
        var model = Model(layout: req.pageLayout("Identify a caller", section: "identify"), phone: phone, country: country)
        guard !phone.isEmpty else { return try await req.renderPage(view, model) }
        do {
            model.answer = answer(try await IdentifyAPI.identify(IdentifyAPI.phone(phone, country: country), by: principal, on: req.db))
            return try await req.renderPage(view, model)
        } catch let error as TandemError where error.isFormProblem {
            model.feedback = FormFeedback(error)
            return try await req.renderPage(view, model, status: error.pageStatus)
        }
    }

    static func answer(_ found: IdentifyAnswer) -> Answer {
        func newTicket(_ organizationId: UUID, _ siteId: UUID?, _ contactId: UUID?) -> String {
            PageURL.with(
                "/tickets/new",
                query: [("organizationId", organizationId.uuidString)] + (siteId.map { [("siteId", $0.uuidString)] } ?? [])
                    + (contactId.map { [("contactId", $0.uuidString)] } ?? []))
        }
        let callers = found.callers.map { caller in
            Caller(
                name: "\(caller.firstName) \(caller.lastName)",
                detail: [caller.organizationName, caller.siteName, caller.email, caller.phoneKind.map { "\($0.rawValue) number" }].compactMap { $0 }
                    .joined(separator: " · "),
                newTicketURL: newTicket(caller.organizationId, caller.siteId, caller.contactId))
        }
        let site = found.site.map { site in
            Caller(name: site.siteName, detail: site.organizationName, newTicketURL: newTicket(site.organizationId, site.siteId, nil))
        }
        return Answer(
            phone: found.phone, greeting: found.greeting, siteMessage: found.siteMessage, ambiguityReason: found.ambiguityReason, callers: callers,
            site: site, callBeforeEscalating: found.callBeforeEscalating.map { [$0.name, $0.phone].compactMap { $0 }.joined(separator: " · ") },
            unknown: found.callers.isEmpty && found.site == nil)
    }
}

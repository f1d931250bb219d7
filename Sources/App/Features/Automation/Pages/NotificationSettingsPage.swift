import Foundation
import TandemCore
import Vapor

/// `/settings/notifications`: how the signed-in person hears of each kind of notification (email, SMS or
/// none), read and saved through the API's functions (`NotificationsAPI`).
enum NotificationSettingsPage {
    static let view = "settings/notifications"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var kinds: [Kind]
        var notice: String?
        var feedback: FormFeedback?
    }

    struct Kind: Encodable, Sendable {
        var key: String
        var label: String
        var options: [SelectOption]
        var error: String?
    }

    static let labels: [NotificationKind: String] = [
        .ticketAcknowledgement: "A new ticket of mine was received", .noteToContact: "A note for me on my ticket",
        .assignment: "A ticket was assigned to me", .noteToCoManaged: "A note for my organization's IT team",
        .ticketUpdated: "A ticket was updated", .statusChanged: "A ticket's status changed", .timeEntryAdded: "Time was logged on a ticket",
        .dueDateApproaching: "A ticket's due date is near", .slaApproaching: "A ticket is close to missing its SLA", .slaBreached: "A ticket breached its SLA",
    ]

    static let channels = [("email", "Email"), ("sms", "SMS (text message)"), ("none", "None")]

    @Sendable static func show(_ req: Request) async throws -> Response {
        let settings = try await NotificationsAPI.settings(of: req.principal, on: req.db)
        let notice = req.queryText("notice") == "saved" ? "Your notification settings were saved." : nil
        return try await req.renderPage(view, model(req, chosen: settings.channels, notice: notice, feedback: nil))
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        var input = try req.content.decode([String: String].self)
        input[CSRF.field] = nil
        do {
            _ = try await NotificationsAPI.saveSettings(input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.notificationSettings.path, query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await req.renderPage(view, model(req, chosen: input, notice: nil, feedback: FormFeedback(error)), status: error.pageStatus)
        }
    }

    static func model(_ req: Request, chosen: [String: String], notice: String?, feedback: FormFeedback?) -> Model {
        Model(
            layout: req.pageLayout("Notification settings", section: "settings"),
            kinds: NotificationKind.allCases.map { kind in
                let current = chosen[kind.rawValue] ?? DeliveryChannel.email.rawValue
                return Kind(
                    key: kind.rawValue, label: labels[kind] ?? kind.rawValue,
                    options: channels.map { SelectOption(value: $0.0, label: $0.1, selected: $0.0 == current) },
                    error: feedback?.fields[kind.rawValue])
            },
            notice: notice, feedback: feedback)
    }
}

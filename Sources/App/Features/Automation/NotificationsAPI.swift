import Fluent
import Foundation
import TandemCore
import Vapor

/// `GET|PUT /api/v1/me/notification-settings` (each person's channel per kind) and
/// `/api/v1/notification-templates` (the administrators' templates; `DELETE` goes back to the default).
enum NotificationsAPI {
    static func register(_ api: any RoutesBuilder) {
        let mine = api.grouped("me", "notification-settings")
        mine.get { req async throws -> NotificationSettingsDTO in
            try await settings(of: req.principal, on: req.db)
        }
        mine.put { req async throws -> NotificationSettingsDTO in
            try await saveSettings(req.content.decode([String: String].self), by: req.principal, on: req.db)
        }

        let templates = api.grouped("notification-templates")
        templates.get { req async throws -> [NotificationTemplateDTO] in
            try AccessPolicy.authorizeAdmin(try req.principal, .manageRules)
            let stored = Set(try await StoredTemplate.query(on: req.db).all().compactMap(\.id))
            return try await StoredTemplate.all(on: req.db).values.sorted { $0.kind.rawValue < $1.kind.rawValue }.map {
                NotificationTemplateDTO($0, isDefault: !stored.contains($0.kind.rawValue))
            }
        }
        templates.put(":kind") { req async throws -> NotificationTemplateDTO in
            try await saveTemplate(kind(req), req.content.decode(NotificationTemplateInput.self), by: req.principal, on: req.db)
        }
        templates.delete(":kind") { req async throws -> NotificationTemplateDTO in
            try await resetTemplate(kind(req), by: req.principal, on: req.db)
        }
    }

    /// A person's channel per kind (email where they have not chosen).
    /// Keeps an own template for a kind (the API's PUT and the templates page).
    static func saveTemplate(_ kind: NotificationKind, _ input: NotificationTemplateInput, by principal: Principal, on db: any Database) async throws
        -> NotificationTemplateDTO
    {
        try AccessPolicy.authorizeAdmin(principal, .manageRules)
        let template = NotificationTemplate(kind: kind, subject: input.subject, body: input.body, htmlBody: input.htmlBody)
        try template.validate()
        try await db.write { db in
            let row = try await StoredTemplate.find(kind.rawValue, on: db) ?? StoredTemplate()
            let before = row.template.map { NotificationTemplateDTO($0, isDefault: false) }
            row.id = kind.rawValue
            row.subject = template.subject
            row.body = template.body
            row.htmlBody = template.htmlBody
            row.updatedAt = db.now
            try await row.save(on: db)
            try await Audit.record(
                "updated", StoredTemplate.schema, id: nil, by: principal, before: before, after: NotificationTemplateDTO(template, isDefault: false), on: db)
        }
        return NotificationTemplateDTO(template, isDefault: false)
    }

    /// Goes back to the built-in template of a kind (the API's DELETE and the templates page).
    static func resetTemplate(_ kind: NotificationKind, by principal: Principal, on db: any Database) async throws -> NotificationTemplateDTO {
        try AccessPolicy.authorizeAdmin(principal, .manageRules)
        try await db.write { db in
            guard let row = try await StoredTemplate.find(kind.rawValue, on: db) else { return }
            try await row.delete(on: db)
            try await Audit.record(
                "deleted", StoredTemplate.schema, id: nil, by: principal, before: row.template.map { NotificationTemplateDTO($0, isDefault: false) }, on: db)
        }
        return NotificationTemplateDTO(NotificationTemplate.builtIn(kind), isDefault: true)
    }

    static func settings(of principal: Principal, on db: any Database) async throws -> NotificationSettingsDTO {
        NotificationSettingsDTO(try await NotificationPreference.find(principal.id, on: db)?.settings ?? NotificationSettings())
    }

    /// Saves a person's channels, kind → `email`, `sms` or `none`; kinds not given go back to email.
    static func saveSettings(_ input: [String: String], by principal: Principal, on db: any Database) async throws -> NotificationSettingsDTO {
        var validator = FieldValidator()
        var settings = NotificationSettings()
        for (key, value) in input {
            guard let kind = NotificationKind(rawValue: key) else {
                validator.fail(key, "not a notification kind; the kinds are \(NotificationKind.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            guard let channel = DeliveryChannel(rawValue: value) else { validator.fail(key, "must be email, sms or none"); continue }
            settings.channels[kind] = channel
        }
        try validator.check()
        let chosen = settings
        try await db.write { db in
            let row = try await NotificationPreference.find(principal.id, on: db) ?? NotificationPreference()
            let before = row.id == nil ? nil : NotificationSettingsDTO(row.settings)
            row.id = principal.id
            row.principalKind = principal.kind
            row.settings = chosen
            row.updatedAt = db.now
            try await row.save(on: db)
            try await Audit.record(
                "updated", NotificationPreference.schema, id: principal.id, by: principal, before: before, after: NotificationSettingsDTO(chosen), on: db)
        }
        return NotificationSettingsDTO(chosen)
    }

    private static func kind(_ req: Request) throws -> NotificationKind {
        guard let text = req.parameters.get("kind"), let kind = NotificationKind(rawValue: text) else { throw TandemError.notFound("notification template") }
        return kind
    }
}

/// A person's channels, every kind listed (email where not chosen).
struct NotificationSettingsDTO: Content, Equatable {
    var channels: [String: String]

    init(_ settings: NotificationSettings) {
        channels = Dictionary(uniqueKeysWithValues: NotificationKind.allCases.map { ($0.rawValue, settings.channel(for: $0).rawValue) })
    }

    func encode(to encoder: any Encoder) throws { try channels.encode(to: encoder) }
    init(from decoder: any Decoder) throws { channels = try [String: String](from: decoder) }
}

struct NotificationTemplateInput: Content {
    var subject: String
    var body: String
    var htmlBody: String?
}

struct NotificationTemplateDTO: Content, Equatable {
    var kind: String
    var subject: String
    var body: String
    var htmlBody: String?
    /// Whether this is the built-in template (no administrator's own).
    var isDefault: Bool

    init(_ template: NotificationTemplate, isDefault: Bool) {
        kind = template.kind.rawValue
        subject = template.subject
        body = template.body
        htmlBody = template.htmlBody
        self.isDefault = isDefault
    }
}

import Fluent
import Foundation
import TandemCore

/// A person's notification choices (`NotificationSettings`); the row's id is the principal's.
final class NotificationPreference: Model, @unchecked Sendable {
    static let schema = "notification_settings"

    @ID(custom: .id, generatedBy: .user) var id: UUID?
    @Field(key: "principal_kind") var principalKind: PrincipalKind
    /// JSON object: notification kind → email, sms or none.
    @Field(key: "channels") var channelsJSON: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var settings: NotificationSettings {
        get { JSONColumn.decode(channelsJSON, default: NotificationSettings()) }
        set { channelsJSON = JSONColumn.encode(newValue) }
    }
}

/// An administrator's template for one notification kind.
final class StoredTemplate: Model, @unchecked Sendable {
    static let schema = "notification_templates"

    @ID(custom: "kind", generatedBy: .user) var id: String?
    @Field(key: "subject") var subject: String
    @Field(key: "body") var body: String
    @OptionalField(key: "html_body") var htmlBody: String?
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var template: NotificationTemplate? {
        id.flatMap(NotificationKind.init(rawValue:)).map { NotificationTemplate(kind: $0, subject: subject, body: body, htmlBody: htmlBody) }
    }

    /// Every kind's template: the stored one, else the built-in default.
    static func all(on db: any Database) async throws -> [NotificationKind: NotificationTemplate] {
        var templates = Dictionary(uniqueKeysWithValues: NotificationTemplate.defaults.map { ($0.kind, $0) })
        for stored in try await StoredTemplate.query(on: db).all() {
            if let template = stored.template { templates[template.kind] = template }
        }
        return templates
    }
}

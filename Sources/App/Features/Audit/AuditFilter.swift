import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// The audit log's filters, as the page and the export read them, applied in SQL. Every query starts
/// from a policy scope (`AccessPolicy.auditScope` or `auditExport`); the filters only narrow it.
struct AuditFilter: Sendable {
    var organizationId: UUID?
    /// An actor's id, or text of their name (case-insensitive).
    var actorId: UUID?
    var actorName: String?
    var entityType: String?
    var action: String?
    var period = AuditPeriod()

    func apply(to query: QueryBuilder<AuditEvent>) -> QueryBuilder<AuditEvent> {
        var query = query
        if let organizationId { query = query.filter(\.$organizationId == organizationId) }
        if let actorId { query = query.filter(\.$actorId == actorId) }
        if let actorName {
            query = query.filter(.sql(SQLQueryString("LOWER(audit_events.actor_name) LIKE \(bind: SearchAPI.like(actorName)) ESCAPE '\\'")))
        }
        if let entityType { query = query.filter(\.$entityType == entityType) }
        if let action { query = query.filter(\.$action == action) }
        return period.apply(to: query)
    }

    /// The kinds of object the log records, by the `entityType` it stores, for the page's select.
    static let kinds: [(entityType: String, label: String)] = [
        (Ticket.schema, "Tickets"), (Note.schema, "Notes"), (TimeEntry.schema, "Time entries"), (Attachment.schema, "Attachments"),
        (Organization.schema, "Organizations"), (Site.schema, "Sites"), (Contact.schema, "Contacts"), ("client_profiles", "Client profile imports"),
        (CoManagingUser.schema, "Co-managing users"), (CoManagingTeam.schema, "Co-managing teams"), ("co_management", "Co-management"),
        (Resource.schema, "Resources"), (SecurityLevel.schema, "Security levels"), (Queue.schema, "Queues"), (Team.schema, "Teams"),
        (Role.schema, "Roles"), (InternalLocation.schema, "Internal locations"), (AutomationRule.schema, "Rules"),
        (StoredTemplate.schema, "Notification templates"), (StoredSiteNotificationRule.schema, "Site notification rules"),
        (NotificationPreference.schema, "Notification settings"), (Webhook.schema, "Webhooks"), (OutboxMessage.schema, "Outbox"),
        (InboundMail.schema, "Inbound mail"), (SavedFilter.schema, "Saved filters"), ("api_token", "API tokens"),
        (SiteCredential.schema, "Site passwords"), ("vault", "Credential vault"), (BlockHourContract.schema, "Block-hour contracts"),
        (Timesheet.schema, "Timesheets"), (TimesheetViewer.schema, "Timesheet viewers"),
    ]

    /// Actions the log records most, offered beside the free field; any one-word action is accepted.
    static let commonActions = [
        "created", "updated", "deleted", "exported", "imported", "passwordSet", "passwordChanged", "activated", "deactivated", "viewedAs",
        "revealed", "submitted", "approved", "rejected", "thresholdReached",
    ]

    /// An action as the log stores it: one word of letters.
    static func isAction(_ text: String) -> Bool {
        (1...40).contains(text.count) && text.allSatisfy { $0.isASCII && $0.isLetter }
    }
}

/// `from` and `to` of the log's filters and the export: a day (`2026-11-23`, UTC, `to` through its end) or a
/// date and time (RFC 3339, `to` up to and including that instant).
struct AuditPeriod: Sendable, Equatable {
    var from: Date?
    var to: Date?
    /// Whether `to` is the start of the day after the one given, so the bound is exclusive.
    var toIsNextDay = false

    /// Reads the two texts; a failure of `validator` names the field (`from` or `to`) and what is wrong.
    static func parse(from: String?, to: String?, _ validator: inout FieldValidator) -> AuditPeriod {
        var period = AuditPeriod()
        if let from, !from.isEmpty { period.from = read(from, "from", &validator)?.date }
        if let to, !to.isEmpty, let bound = read(to, "to", &validator) {
            period.to = bound.isDay ? bound.date.addingTimeInterval(86_400) : bound.date
            period.toIsNextDay = bound.isDay
        }
        if let start = period.from, let end = period.to, period.toIsNextDay ? end <= start : end < start {
            validator.fail("to", "must not be before from")
        }
        return period
    }

    static let shape = "must be a date such as 2026-11-23 or a date and time such as \(ISO8601.example)"

    private static func read(_ text: String, _ field: String, _ validator: inout FieldValidator) -> (date: Date, isDay: Bool)? {
        if text.utf8.count == 10 {
            switch ISO8601.day(from: text) {
            case .success(let date): return (date, true)
            case .failure(let refusal):
                // A day that is not on the calendar says why; anything else gets the shapes it may take.
                validator.fail(field, refusal == ISO8601.dayFormat ? shape : refusal.message)
                return nil
            }
        }
        switch ISO8601.date(from: text) {
        case .success(let date): return (date, false)
        case .failure(let refusal):
            validator.fail(field, refusal.message.hasPrefix("'") ? refusal.message : shape)
            return nil
        }
    }

    func apply(to query: QueryBuilder<AuditEvent>) -> QueryBuilder<AuditEvent> {
        var query = query
        if let from { query = query.filter(\.$at >= from) }
        if let to { query = toIsNextDay ? query.filter(\.$at < to) : query.filter(\.$at <= to) }
        return query
    }

    /// The period in the export's own audit event.
    var summary: [String: String] {
        var summary: [String: String] = [:]
        if let from { summary["from"] = ISO8601.string(from: from) }
        if let to { summary[toIsNextDay ? "before" : "to"] = ISO8601.string(from: to) }
        return summary
    }
}

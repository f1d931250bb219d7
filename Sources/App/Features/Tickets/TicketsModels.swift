import Fluent
import Foundation
import TandemCore

final class Ticket: Model, @unchecked Sendable {
    static let schema = "tickets"
    static let scopeTable = ScopeTable(
        name: schema,
        columns: [.id: "id", .organization: "organization_id", .site: "site_id", .queue: "queue_id", .team: "team_id", .contact: "contact_id"],
        coManagedVisible: "co_managed_visible",
        ticketId: "id")

    @ID(key: .id) var id: UUID?
    @Field(key: "number") var number: Int
    @Field(key: "title") var title: String
    @Field(key: "description") var description: String
    @Field(key: "organization_id") var organizationId: UUID
    @OptionalField(key: "site_id") var siteId: UUID?
    @OptionalField(key: "contact_id") var contactId: UUID?
    @OptionalField(key: "queue_id") var queueId: UUID?
    @OptionalField(key: "team_id") var teamId: UUID?
    @Field(key: "status") var status: String
    @Field(key: "priority") var priority: String
    @Field(key: "source") var source: String
    @Field(key: "co_managed_visible") var coManagedVisible: Bool
    @OptionalField(key: "due_at") var dueAt: Date?
    /// Bumped on every change; the ETag.
    @Field(key: "version") var version: Int
    @OptionalField(key: "created_by_id") var createdById: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    /// Which side holds the ticket (`ResponsibleSide`): the MSP until a handoff (`TicketPipeline.handOff`).
    @Field(key: "responsible_side") var responsibleSide: String

    init() {}

    /// A new ticket: held by the MSP, as the column's default says.
    static func new() -> Ticket {
        let ticket = Ticket()
        ticket.responsibleSide = ResponsibleSide.msp.rawValue
        return ticket
    }

    var etag: String { "\"\(version)\"" }
}

/// Primary and secondary assignees; `position` 0 is the primary.
final class TicketAssignee: Model, @unchecked Sendable {
    static let schema = "ticket_assignees"

    @ID(key: .id) var id: UUID?
    @Field(key: "ticket_id") var ticketId: UUID
    @Field(key: "principal_id") var principalId: UUID
    @Field(key: "principal_kind") var principalKind: String
    @Field(key: "position") var position: Int

    init() {}

    init(ticketId: UUID, principalId: UUID, kind: PrincipalKind, position: Int) {
        self.id = .v7()
        self.ticketId = ticketId
        self.principalId = principalId
        self.principalKind = kind.rawValue
        self.position = position
    }
}

final class Note: Model, @unchecked Sendable {
    static let schema = "notes"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id"], publishTo: "publish_to")

    @ID(key: .id) var id: UUID?
    @Field(key: "ticket_id") var ticketId: UUID
    @Field(key: "body") var body: String
    @Field(key: "publish_to") var publishTo: String
    @Field(key: "author_id") var authorId: UUID
    @Field(key: "author_kind") var authorKind: String
    @Field(key: "author_name") var authorName: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}
}

final class TimeEntry: Model, @unchecked Sendable {
    static let schema = "time_entries"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id"], publishTo: "publish_to")

    @ID(key: .id) var id: UUID?
    @Field(key: "ticket_id") var ticketId: UUID
    @OptionalField(key: "role_id") var roleId: UUID?
    @Field(key: "minutes") var minutes: Int
    @Field(key: "summary") var summary: String
    @Field(key: "publish_to") var publishTo: String
    @Field(key: "author_id") var authorId: UUID
    @Field(key: "author_name") var authorName: String
    /// Billable time bills its role's rate and uses block hours; time without a role is never billable.
    @Field(key: "billable") var billable: Bool
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "ended_at") var endedAt: Date?
    /// The moment the time counts on (timesheet week, contract period): its start, else when it was logged.
    @Field(key: "worked_at") var workedAt: Date
    /// The role's rate and multiplier when the entry was last saved, and its amount (`TimeEntryBilling`).
    @Field(key: "hourly_rate_units") var hourlyRateUnits: Int64
    @Field(key: "block_hour_multiplier_units") var blockHourMultiplierUnits: Int64
    @Field(key: "amount_cents") var amountCents: Int64
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var amount: Money { Money(cents: amountCents) }

    /// Bills the entry under `role` (nil: no role), as it stands.
    func bill(under role: BillingRole?) {
        let billing = TimeEntryBilling.of(minutes: minutes, role: role, billable: billable)
        hourlyRateUnits = role?.hourlyRate.units ?? 0
        blockHourMultiplierUnits = role?.blockHourMultiplier.units ?? 0
        amountCents = billing.amount.cents
    }
}

final class Attachment: Model, @unchecked Sendable {
    static let schema = "attachments"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id"], publishTo: "publish_to")

    @ID(key: .id) var id: UUID?
    @Field(key: "ticket_id") var ticketId: UUID
    @Field(key: "filename") var filename: String
    @Field(key: "content_type") var contentType: String
    @Field(key: "size") var size: Int
    @Field(key: "sha256") var sha256: String
    @Field(key: "blob_key") var blobKey: String
    @Field(key: "publish_to") var publishTo: String
    @Field(key: "author_id") var authorId: UUID
    @Field(key: "author_name") var authorName: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

import Fluent
import Foundation
import TandemCore

/// A block-hour contract (Autotask): hours an organization bought for a period (`starts_on` to `ends_on`,
/// inclusive UTC days; no end: open-ended), and the percentage of them at which it warns.
final class BlockHourContract: Model, VersionedRow, @unchecked Sendable {
    static let schema = "block_hour_contracts"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "name") var name: String
    @Field(key: "hours_bought_units") var hoursBoughtUnits: Int64
    /// `YYYY-MM-DD`.
    @Field(key: "starts_on") var startsOn: String
    @OptionalField(key: "ends_on") var endsOn: String?
    @Field(key: "threshold_percent") var thresholdPercent: Int
    /// Increases with every change (migration 066).
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var hoursBought: BillingDecimal {
        get { BillingDecimal(units: hoursBoughtUnits) }
        set { hoursBoughtUnits = newValue.units }
    }
}

/// A person's timesheet week that left the open state (a week without a row is open).
final class Timesheet: Model, @unchecked Sendable {
    static let schema = "timesheets"

    @ID(key: .id) var id: UUID?
    @Field(key: "person_id") var personId: UUID
    /// `2026-W49`.
    @Field(key: "week") var week: String
    @Field(key: "status") var status: String
    @OptionalField(key: "submitted_at") var submittedAt: Date?
    @OptionalField(key: "decided_at") var decidedAt: Date?
    @OptionalField(key: "decided_by_id") var decidedById: UUID?
    @OptionalField(key: "decided_by_name") var decidedByName: String?
    /// Why it was rejected.
    @OptionalField(key: "reason") var reason: String?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var state: TimesheetStatus { TimesheetStatus(rawValue: status) ?? .open }
}

/// An MSP resource who views a co-managing user's timesheets.
final class TimesheetViewer: Model, @unchecked Sendable {
    static let schema = "timesheet_viewers"

    @ID(key: .id) var id: UUID?
    @Field(key: "co_managing_user_id") var coManagingUserId: UUID
    @Field(key: "resource_id") var resourceId: UUID

    init() {}

    init(coManagingUserId: UUID, resourceId: UUID) {
        self.id = .v7()
        self.coManagingUserId = coManagingUserId
        self.resourceId = resourceId
    }
}

import Fluent
import Foundation
import TandemCore

final class Queue: Model, @unchecked Sendable {
    static let schema = "queues"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

/// A principal's membership of a queue.
final class QueueMember: Model, @unchecked Sendable {
    static let schema = "queue_members"

    @ID(key: .id) var id: UUID?
    @Field(key: "queue_id") var queueId: UUID
    @Field(key: "principal_id") var principalId: UUID

    init() {}

    init(queueId: UUID, principalId: UUID) {
        self.id = .v7()
        self.queueId = queueId
        self.principalId = principalId
    }
}

final class Team: Model, @unchecked Sendable {
    static let schema = "teams"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

final class TeamMember: Model, @unchecked Sendable {
    static let schema = "team_members"

    @ID(key: .id) var id: UUID?
    @Field(key: "team_id") var teamId: UUID
    @Field(key: "principal_id") var principalId: UUID
    @Field(key: "access") var access: String

    init() {}

    init(teamId: UUID, principalId: UUID, access: TeamAccess) {
        self.id = .v7()
        self.teamId = teamId
        self.principalId = principalId
        self.access = access.rawValue
    }
}

/// A billing role: hourly rate and block-hour multiplier, exact (`BillingDecimal`'s ten-thousandths).
final class Role: Model, @unchecked Sendable {
    static let schema = "roles"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "hourly_rate_units") var hourlyRateUnits: Int64
    @Field(key: "block_hour_multiplier_units") var blockHourMultiplierUnits: Int64
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    var hourlyRate: BillingDecimal {
        get { BillingDecimal(units: hourlyRateUnits) }
        set { hourlyRateUnits = newValue.units }
    }

    var blockHourMultiplier: BillingDecimal {
        get { BillingDecimal(units: blockHourMultiplierUnits) }
        set { blockHourMultiplierUnits = newValue.units }
    }

    var billing: BillingRole { BillingRole(hourlyRate: hourlyRate, blockHourMultiplier: blockHourMultiplier) }
}

/// Business hours of one weekday, minutes after midnight.
final class InternalLocation: Model, @unchecked Sendable {
    static let schema = "internal_locations"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "time_zone") var timeZone: String
    @Field(key: "business_hours") var businessHoursJSON: String
    /// ISO dates (yyyy-mm-dd) on which no business hours count.
    @Field(key: "holidays") var holidaysJSON: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    /// Its working time, nil when the stored time zone is not one the system knows.
    var calendar: BusinessCalendar? { BusinessCalendar(timeZone: timeZone, days: businessHours, holidays: holidays) }

    var businessHours: [BusinessDay] {
        get { JSONColumn.decode(businessHoursJSON, default: []) }
        set { businessHoursJSON = JSONColumn.encode(newValue) }
    }

    var holidays: [String] {
        get { JSONColumn.decode(holidaysJSON, default: []) }
        set { holidaysJSON = JSONColumn.encode(newValue) }
    }
}

/// System settings (tenant domain and the like), one row per key.
final class Setting: Model, @unchecked Sendable {
    static let schema = "settings"

    @ID(custom: "key", generatedBy: .user) var id: String?
    @Field(key: "value") var value: String

    init() {}

    init(key: String, value: String) {
        self.id = key
        self.value = value
    }

    static let tenantDomain = "tenantDomain"
}

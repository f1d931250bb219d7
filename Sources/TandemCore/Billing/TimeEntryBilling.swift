import Foundation

/// A billing role's terms as a time entry is billed under them (SPEC §4: hourly rate, block-hour multiplier).
public struct BillingRole: Sendable, Equatable {
    public var hourlyRate: BillingDecimal
    public var blockHourMultiplier: BillingDecimal

    public init(hourlyRate: BillingDecimal, blockHourMultiplier: BillingDecimal) {
        self.hourlyRate = hourlyRate
        self.blockHourMultiplier = blockHourMultiplier
    }

    /// What the API accepts: a rate of 0 to 100 000 and a multiplier of 0 to 100, each with at most four places.
    public static let rateRange = BillingDecimal(0)...BillingDecimal(100_000)
    public static let multiplierRange = BillingDecimal(0)...BillingDecimal(100)
}

/// What a time entry bills and how much of a block-hour contract it uses (Autotask's roles).
///
/// - The amount is rate × hours, rounded to the cent half up, once per entry (`Money`'s rule).
/// - Block hours are hours × multiplier, kept exact as *block minutes* in ten-thousandths
///   (minutes × multiplier is exact with four places): a contract adds them up without rounding,
///   and only its display rounds hours to two places.
/// - Only billable time bills and uses block hours; time without a role is not billable (no rate bills it).
public struct TimeEntryBilling: Sendable, Equatable {
    public var amount: Money
    /// Minutes × multiplier, in ten-thousandths of a minute.
    public var blockMinuteUnits: Int64

    public init(amount: Money, blockMinuteUnits: Int64) {
        self.amount = amount
        self.blockMinuteUnits = blockMinuteUnits
    }

    public static let none = TimeEntryBilling(amount: .zero, blockMinuteUnits: 0)

    public static func of(minutes: Int, role: BillingRole?, billable: Bool) -> TimeEntryBilling {
        guard billable, let role, minutes > 0 else { return .none }
        // rate (ten-thousandths per hour) × minutes / 60 minutes / 100 (ten-thousandths per cent) = cents.
        let amount = Money.rounded(numerator: role.hourlyRate.units * Int64(minutes), denominator: 60 * 100)
        return TimeEntryBilling(amount: amount, blockMinuteUnits: role.blockHourMultiplier.units * Int64(minutes))
    }
}

/// A time entry's span: minutes alone, or a start and an end (the minutes between them), or a start and minutes.
/// Answers the minutes, the end, and the moment the work counts on (its start, else when it was logged).
public struct TimeEntrySpan: Sendable, Equatable {
    public var minutes: Int
    public var startedAt: Date?
    public var endedAt: Date?

    public static let maxMinutes = 1440

    public init(minutes: Int, startedAt: Date?, endedAt: Date?) {
        self.minutes = minutes
        self.startedAt = startedAt
        self.endedAt = endedAt
    }

    /// Checks the parts given; every problem is named by its field.
    public static func resolve(minutes: Int?, startedAt: Date?, endedAt: Date?, validator: inout FieldValidator) -> TimeEntrySpan? {
        if endedAt != nil, startedAt == nil {
            validator.fail("startedAt", "is required with endedAt")
            return nil
        }
        guard let startedAt else {
            guard let minutes = validator.range(minutes, "minutes", 1...maxMinutes) else { return nil }
            return TimeEntrySpan(minutes: minutes, startedAt: nil, endedAt: nil)
        }
        guard let endedAt else {
            guard let minutes = validator.range(minutes, "minutes", 1...maxMinutes) else { return nil }
            return TimeEntrySpan(minutes: minutes, startedAt: startedAt, endedAt: startedAt.addingTimeInterval(Double(minutes) * 60))
        }
        let seconds = endedAt.timeIntervalSince(startedAt)
        guard seconds > 0 else {
            validator.fail("endedAt", "must be after startedAt")
            return nil
        }
        guard seconds.truncatingRemainder(dividingBy: 60) == 0 else {
            validator.fail("endedAt", "must be a whole number of minutes after startedAt")
            return nil
        }
        let between = Int(seconds / 60)
        guard between <= maxMinutes else {
            validator.fail("endedAt", "must be at most \(maxMinutes) minutes (a day) after startedAt")
            return nil
        }
        if let minutes, minutes != between {
            validator.fail("minutes", "must be the \(between) minutes between startedAt and endedAt, or left out")
            return nil
        }
        return TimeEntrySpan(minutes: between, startedAt: startedAt, endedAt: endedAt)
    }
}

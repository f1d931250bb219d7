import Foundation

/// A block-hour contract's state (Autotask): hours an organization bought in advance, the block hours its
/// billable time used (`TimeEntryBilling.blockMinuteUnits`), what is left, and whether the warning threshold
/// (a percentage of the hours bought) is reached.
///
/// Used hours are exact (block minutes in ten-thousandths); `hoursUsed` shows them rounded to the hundredth of
/// an hour, half up, and `hoursLeft` is `hoursBought − hoursUsed` so the two shown figures add up to the hours
/// bought. `hoursLeft` goes below zero when more was used than bought: the contract is overdrawn, never capped.
public struct BlockHourState: Sendable, Equatable {
    public var hoursBought: BillingDecimal
    /// Block minutes used, in ten-thousandths of a minute (exact).
    public var usedMinuteUnits: Int64
    /// Warn when this percentage of the hours bought is used (1–100).
    public var thresholdPercent: Int

    public init(hoursBought: BillingDecimal, usedMinuteUnits: Int64, thresholdPercent: Int) {
        self.hoursBought = hoursBought
        self.usedMinuteUnits = usedMinuteUnits
        self.thresholdPercent = thresholdPercent
    }

    /// Exact minutes used, as a number with four places.
    public var minutesUsed: BillingDecimal { BillingDecimal(units: usedMinuteUnits) }

    /// Hours used, rounded to 0.01 h half up: minute units / 60 / 100 (to hundredths of an hour).
    public var hoursUsed: BillingDecimal {
        let hundredths = Money.rounded(numerator: usedMinuteUnits, denominator: 60 * 100).cents
        return BillingDecimal(units: hundredths * 100)
    }

    public var hoursLeft: BillingDecimal { BillingDecimal(units: hoursBought.units - hoursUsed.units) }

    /// Exact: used × 100 ≥ bought × percent, both in minute units (no rounding decides a warning).
    public var thresholdReached: Bool {
        guard hoursBought.units > 0 else { return usedMinuteUnits > 0 }
        return usedMinuteUnits * 100 >= hoursBought.units * 60 * Int64(thresholdPercent)
    }

    public var exhausted: Bool { usedMinuteUnits >= hoursBought.units * 60 }

    public static let thresholdRange = 1...100
    public static let hoursRange = BillingDecimal(units: 1)...BillingDecimal(1_000_000)
}

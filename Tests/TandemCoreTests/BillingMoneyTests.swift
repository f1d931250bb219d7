import Foundation
import TandemCore
import Testing

/// Exact money: rates, multipliers and amounts in decimal arithmetic, and the rounding rule of README
/// "Time and billing" (each entry to the cent, half up; totals are sums of rounded entries).
@Suite struct BillingMoneyTests {
    func rate(_ text: String) -> BillingDecimal { BillingDecimal(parsing: text)! }
    func role(_ rate: String, _ multiplier: String = "1") -> BillingRole {
        BillingRole(hourlyRate: self.rate(rate), blockHourMultiplier: self.rate(multiplier))
    }

    @Test func readsDecimalTextExactlyAndRefusesTheRest() {
        #expect(rate("0.1").units == 1_000)
        #expect(rate("120").units == 1_200_000)
        #expect(rate("95.50").units == 955_000)
        #expect(rate("95.5000").units == 955_000, "trailing zeros are not places")
        #expect(rate(".5").units == 5_000)
        #expect(rate("0.0001").units == 1)
        #expect(rate("-2.25").units == -22_500)
        for bad in ["", "-", ".", "5.", "1e2", "abc", "1.00005", "12,5", " 1", "1 ", "١٢", "0x10", "999999999999999"] {
            #expect(BillingDecimal(parsing: bad) == nil, "\(bad)")
        }
        #expect(BillingDecimal.hasTooManyPlaces("1.00005") && !BillingDecimal.hasTooManyPlaces("1.50000"))
        #expect(rate("95.5").description == "95.5" && rate("120").description == "120" && rate("0.0125").description == "0.0125")
        #expect(rate("-0.5").description == "-0.5")
        #expect(rate("0.1").decimal == Decimal(string: "0.1")!)
    }

    /// The JSON API takes rates as JSON numbers. If `JSONDecoder` read a `Decimal` through `Double`, a number with
    /// more significant digits than a Double holds would come back changed; it must arrive digit for digit.
    @Test func jsonDecoderReadsDecimalsFromTheText() throws {
        struct Body: Decodable { var value: Decimal }
        for text in ["0.1", "12345678901234.5678", "0.3", "99999.9999"] {
            let body = try JSONDecoder().decode(Body.self, from: Data("{\"value\": \(text)}".utf8))
            #expect(BillingDecimal(exactly: body.value) == BillingDecimal(parsing: text), "\(text)")
        }
        let tooFine = try JSONDecoder().decode(Body.self, from: Data("{\"value\": 0.00001}".utf8))
        #expect(BillingDecimal(exactly: tooFine.value) == nil)
        struct Out: Encodable { var value: Decimal }
        #expect(String(decoding: try JSONEncoder().encode(Out(value: rate("0.1").decimal)), as: UTF8.self) == "{\"value\":0.1}")
        #expect(String(decoding: try JSONEncoder().encode(Out(value: Money(cents: 30).decimal)), as: UTF8.self) == "{\"value\":0.3}")
    }

    @Test func tenthsAddUpExactlyWhereDoublesDoNot() {
        // Ten hours at 0.1 an hour: 1.00, exactly.
        let entries = (0..<10).map { _ in TimeEntryBilling.of(minutes: 60, role: role("0.1"), billable: true).amount }
        #expect(Money.sum(entries) == Money(cents: 100))
        #expect(Money.sum(entries).description == "1.00")
        // The trap the type avoids: the same sum in binary floating point is not 1.
        #expect((0..<10).reduce(0.0) { sum, _ in sum + 0.1 } != 1.0)
        // 0.1 + 0.2 is 0.3 in money.
        let a = TimeEntryBilling.of(minutes: 60, role: role("0.1"), billable: true).amount
        let b = TimeEntryBilling.of(minutes: 60, role: role("0.2"), billable: true).amount
        #expect(a + b == Money(cents: 30))
    }

    @Test func eachEntryIsRoundedToTheCentHalfUpAndTotalsSumTheRoundedEntries() {
        // 0.3 an hour for 5 minutes is 0.025: half up gives 0.03 (banker's rounding would give 0.02).
        #expect(TimeEntryBilling.of(minutes: 5, role: role("0.3"), billable: true).amount == Money(cents: 3))
        // 0.1 an hour for 7 minutes is 0.01166…: 0.01.
        #expect(TimeEntryBilling.of(minutes: 7, role: role("0.1"), billable: true).amount == Money(cents: 1))
        // 120 an hour for 1 minute is 2.00; 95.5 for 50 minutes is 79.58333…: 79.58.
        #expect(TimeEntryBilling.of(minutes: 1, role: role("120"), billable: true).amount == Money(cents: 200))
        #expect(TimeEntryBilling.of(minutes: 50, role: role("95.5"), billable: true).amount == Money(cents: 7958))
        // Three entries of 0.025 each are 0.09 on the timesheet (3 × 0.03), not 0.075 rounded once (0.08).
        let lines = (0..<3).map { _ in TimeEntryBilling.of(minutes: 5, role: role("0.3"), billable: true).amount }
        #expect(Money.sum(lines) == Money(cents: 9))
        // Half up at every cent boundary: n/2 cents exactly.
        #expect(Money.rounded(numerator: 5, denominator: 10) == Money(cents: 1))
        #expect(Money.rounded(numerator: 4, denominator: 10) == Money(cents: 0))
        #expect(Money.rounded(numerator: 15, denominator: 10) == Money(cents: 2))
        #expect(Money.rounded(numerator: 25, denominator: 10) == Money(cents: 3))
    }

    @Test func blockHoursAreHoursTimesTheMultiplierExactly() {
        let billing = TimeEntryBilling.of(minutes: 30, role: role("120", "1.5"), billable: true)
        #expect(billing.blockMinuteUnits == 45 * 10_000)
        #expect(billing.amount == Money(cents: 6000))
        // Non-billable time and time without a role bill nothing and use no block hours.
        #expect(TimeEntryBilling.of(minutes: 30, role: role("120", "1.5"), billable: false) == .none)
        #expect(TimeEntryBilling.of(minutes: 30, role: nil, billable: true) == .none)
        // A multiplier of 0 (Autotask's advice for co-managing roles) uses none.
        #expect(TimeEntryBilling.of(minutes: 30, role: role("0", "0"), billable: true) == .none)
        // 1.5 × 1 minute, ten times, is exactly 15 block minutes (0.25 h).
        let used = (0..<10).reduce(Int64(0)) { sum, _ in sum + TimeEntryBilling.of(minutes: 1, role: role("1", "1.5"), billable: true).blockMinuteUnits }
        #expect(used == 15 * 10_000)
        #expect(BlockHourState(hoursBought: rate("1"), usedMinuteUnits: used, thresholdPercent: 80).hoursUsed == rate("0.25"))
    }

    @Test func aContractCountsBoughtUsedAndLeftAndWarnsAtItsThreshold() {
        let bought = rate("10")
        func state(minutes: Int64) -> BlockHourState { BlockHourState(hoursBought: bought, usedMinuteUnits: minutes * 10_000, thresholdPercent: 80) }
        #expect(!state(minutes: 479).thresholdReached, "7.98 h of 10 is under 80%")
        #expect(state(minutes: 480).thresholdReached, "8 h of 10 is 80%")
        #expect(state(minutes: 480).hoursUsed == rate("8") && state(minutes: 480).hoursLeft == rate("2"))
        #expect(!state(minutes: 599).exhausted && state(minutes: 600).exhausted)
        // Overdrawn: left goes below zero.
        #expect(state(minutes: 660).hoursLeft == rate("-1"))
        // One minute is 0.0166… h: shown as 0.02, and left is 9.98 so the two add up to the hours bought.
        let one = state(minutes: 1)
        #expect(one.hoursUsed == rate("0.02") && one.hoursLeft == rate("9.98"))
        #expect(one.hoursUsed.units + one.hoursLeft.units == bought.units)
        #expect(one.minutesUsed == rate("1"))
        // Exact threshold: 80% of 0.1 h is 4.8 minutes; 4.8 block minutes (3.2 min at 1.5) reach it, 4.7999 do not.
        let small = BlockHourState(hoursBought: rate("0.1"), usedMinuteUnits: 48_000, thresholdPercent: 80)
        #expect(small.thresholdReached)
        #expect(!BlockHourState(hoursBought: rate("0.1"), usedMinuteUnits: 47_999, thresholdPercent: 80).thresholdReached)
    }
}

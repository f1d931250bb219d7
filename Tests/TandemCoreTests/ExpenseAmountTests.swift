import Foundation
import TandemCore
import Testing

/// Expense amounts (issue 21): exact money with at most two places, mileage as distance × rate rounded to the cent
/// half up once, the fields named in every refusal.
@Suite struct ExpenseAmountTests {
    func resolve(_ category: ExpenseCategory?, amount: String? = nil, distance: String? = nil, rate: String? = nil) -> (ExpenseAmount?, [String: String]) {
        var validator = FieldValidator()
        let result = ExpenseAmount.resolve(
            category: category, amount: amount.flatMap { Decimal(string: $0) }, distance: distance.flatMap { Decimal(string: $0) },
            mileageRate: rate.flatMap { Decimal(string: $0) }, validator: &validator)
        return (result, Dictionary(validator.errors.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a }))
    }

    @Test func amountsAreExactCents() {
        #expect(resolve(.meals, amount: "12.5").0 == ExpenseAmount(amount: Money(cents: 1250)))
        #expect(resolve(.meals, amount: "0.1").0?.amount == Money(cents: 10))
        #expect(resolve(.meals, amount: "1000000").0?.amount == Money(cents: 100_000_000))
        #expect(resolve(.lodging, amount: "12.500").0?.amount == Money(cents: 1250), "trailing zeros carry no value")
        // Ten expenses of 0.10 sum to exactly 1.00.
        let tenth = resolve(.materials, amount: "0.1").0!.amount
        #expect(Money.sum(Array(repeating: tenth, count: 10)) == Money(cents: 100))
    }

    @Test func badAmountsAreRefusedByName() {
        #expect(resolve(.meals, amount: "0").1["amount"] == "must be between 0.01 and 1000000.00")
        #expect(resolve(.meals, amount: "-5").1["amount"] == "must be between 0.01 and 1000000.00")
        #expect(resolve(.meals, amount: "1000000.01").1["amount"] == "must be between 0.01 and 1000000.00")
        #expect(resolve(.meals, amount: "12.345").1["amount"] == "must have at most two decimal places (cents; more is not rounded)")
        #expect(resolve(.meals, amount: "0.001").1["amount"] == "must have at most two decimal places (cents; more is not rounded)")
        #expect(resolve(.meals).1["amount"] == "is required")
        #expect(resolve(.mileage).1["amount"] == "is required (or give distance and mileageRate)")
        #expect(resolve(.meals, distance: "10", rate: "0.5").1["distance"] == "is only for mileage")
        #expect(resolve(.mileage, distance: "10").1["mileageRate"] == "is required with distance")
        #expect(resolve(.mileage, rate: "0.5").1["distance"] == "is required with mileageRate")
        #expect(resolve(.mileage, distance: "10.12345", rate: "0.5").1["distance"] == "must have at most four decimal places (more is not rounded)")
        #expect(resolve(.mileage, distance: "0", rate: "0.5").1["distance"] == "must be between 0.0001 and 100000")
    }

    @Test func mileageIsDistanceTimesRateRoundedHalfUpOnce() {
        // 12.5 × 0.585 = 7.3125 → 7.31; 10 × 0.6725 = 6.725 → 6.73 (half up); 3 × 0.335 = 1.005 → 1.01.
        #expect(
            resolve(.mileage, distance: "12.5", rate: "0.585").0
                == ExpenseAmount(amount: Money(cents: 731), distance: BillingDecimal(parsing: "12.5"), mileageRate: BillingDecimal(parsing: "0.585")))
        #expect(resolve(.mileage, distance: "10", rate: "0.6725").0?.amount == Money(cents: 673))
        #expect(resolve(.mileage, distance: "3", rate: "0.335").0?.amount == Money(cents: 101))
        #expect(ExpenseAmount.mileage(distance: BillingDecimal(parsing: "100000")!, rate: BillingDecimal(parsing: "1000")!) == Money(cents: 10_000_000_000))
        // The amount may be given too; it must be the product.
        #expect(resolve(.mileage, amount: "6.73", distance: "10", rate: "0.6725").0?.amount == Money(cents: 673))
        #expect(resolve(.mileage, amount: "6.72", distance: "10", rate: "0.6725").1["amount"] == "must be distance × mileageRate (6.73), or left out")
        // A product beyond the largest amount is refused; one below a cent too.
        #expect(resolve(.mileage, distance: "100000", rate: "1000").1["amount"] == "distance × mileageRate must come to between 0.01 and 1000000.00")
        #expect(resolve(.mileage, distance: "0.001", rate: "0.001").1["amount"] == "distance × mileageRate must come to between 0.01 and 1000000.00")
        // A plain mileage amount is fine too.
        #expect(resolve(.mileage, amount: "42").0 == ExpenseAmount(amount: Money(cents: 4200)))
    }

    @Test func anExpenseDayBelongsToItsISOWeek() {
        #expect(ExpenseDay.week(of: "2026-12-06")?.description == "2026-W49", "a Sunday ends its week")
        #expect(ExpenseDay.week(of: "2026-12-07")?.description == "2026-W50")
        #expect(ExpenseDay.week(of: "2027-01-01")?.description == "2026-W53", "ISO years")
        #expect(ExpenseDay.week(of: "2026-02-30") == nil && ExpenseDay.week(of: "06.12.2026") == nil)
    }
}

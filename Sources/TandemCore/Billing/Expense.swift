import Foundation

/// What an expense was for (Autotask's expense categories, a fixed list).
public enum ExpenseCategory: String, Codable, Sendable, CaseIterable {
    case mileage, travel, meals, lodging, materials, other

    public var label: String {
        switch self {
        case .mileage: "Mileage"
        case .travel: "Travel"
        case .meals: "Meals"
        case .lodging: "Lodging"
        case .materials: "Materials"
        case .other: "Other"
        }
    }
}

/// An expense's amount, checked and computed exactly (no binary floating point).
///
/// - An amount is money: more than 0, at most 1 000 000, at most two decimal places (more is refused, never
///   rounded).
/// - Mileage may instead be a `distance` and a `mileageRate` (each at most four places): the amount is
///   distance × rate **rounded to the cent half up, once**, when the expense is saved (`Money`'s rule; 12.5 × 0.585 =
///   7.3125 → 7.31, 10 × 0.6725 = 6.725 → 6.73). A total of expenses is the exact sum of their rounded amounts.
/// - Distance and rate belong to mileage only, and come together.
public struct ExpenseAmount: Sendable, Equatable {
    public var amount: Money
    public var distance: BillingDecimal?
    public var mileageRate: BillingDecimal?

    public init(amount: Money, distance: BillingDecimal? = nil, mileageRate: BillingDecimal? = nil) {
        self.amount = amount
        self.distance = distance
        self.mileageRate = mileageRate
    }

    public static let maxAmount = Money(cents: 100_000_000)
    public static let distanceRange = BillingDecimal(units: 1)...BillingDecimal(100_000)
    public static let rateRange = BillingDecimal(units: 1)...BillingDecimal(1_000)

    /// distance × rate in cents, rounded half up.
    public static func mileage(distance: BillingDecimal, rate: BillingDecimal) -> Money {
        // ten-thousandths × ten-thousandths = 10⁻⁸; a cent is 10⁻², so divide by 10⁶.
        Money.rounded(numerator: distance.units * rate.units, denominator: 1_000_000)
    }

    /// Checks the given parts (the amount as the JSON number's exact text, `Decimal`); every problem is named by its field.
    public static func resolve(
        category: ExpenseCategory?, amount: Decimal?, distance: Decimal?, mileageRate: Decimal?, validator: inout FieldValidator
    ) -> ExpenseAmount? {
        let given = amount.flatMap { money($0, "amount", &validator) }
        if amount != nil, given == nil { return nil }
        guard distance != nil || mileageRate != nil else {
            guard let given else {
                validator.fail("amount", category == .mileage ? "is required (or give distance and mileageRate)" : "is required")
                return nil
            }
            return ExpenseAmount(amount: given)
        }
        guard category == .mileage else {
            validator.fail(distance != nil ? "distance" : "mileageRate", "is only for mileage")
            return nil
        }
        let parsedDistance = distance.flatMap { exact($0, "distance", distanceRange, &validator) }
        let parsedRate = mileageRate.flatMap { exact($0, "mileageRate", rateRange, &validator) }
        if distance == nil { validator.fail("distance", "is required with mileageRate") }
        if mileageRate == nil { validator.fail("mileageRate", "is required with distance") }
        guard let parsedDistance, let parsedRate else { return nil }
        let computed = mileage(distance: parsedDistance, rate: parsedRate)
        if let given, given != computed {
            validator.fail("amount", "must be distance × mileageRate (\(computed)), or left out")
            return nil
        }
        guard computed.cents > 0, computed <= maxAmount else {
            validator.fail("amount", "distance × mileageRate must come to between 0.01 and \(maxAmount)")
            return nil
        }
        return ExpenseAmount(amount: computed, distance: parsedDistance, mileageRate: parsedRate)
    }

    /// Money with at most two places, more than 0 and at most `maxAmount`.
    static func money(_ value: Decimal, _ field: String, _ validator: inout FieldValidator) -> Money? {
        guard let exact = BillingDecimal(exactly: value), exact.units % 100 == 0 else {
            validator.fail(
                field,
                BillingDecimal.hasTooManyPlaces(value.description) || BillingDecimal(exactly: value) != nil
                    ? "must have at most two decimal places (cents; more is not rounded)" : "must be between 0.01 and \(maxAmount)")
            return nil
        }
        let money = Money(cents: exact.units / 100)
        guard money.cents > 0, money <= maxAmount else {
            validator.fail(field, "must be between 0.01 and \(maxAmount)")
            return nil
        }
        return money
    }

    static func exact(_ value: Decimal, _ field: String, _ bounds: ClosedRange<BillingDecimal>, _ validator: inout FieldValidator) -> BillingDecimal? {
        guard let exact = BillingDecimal(exactly: value), bounds.contains(exact) else {
            validator.fail(
                field,
                BillingDecimal.hasTooManyPlaces(value.description)
                    ? "must have at most four decimal places (more is not rounded)" : "must be between \(bounds.lowerBound) and \(bounds.upperBound)")
            return nil
        }
        return exact
    }
}

/// A day written `YYYY-MM-DD` and the ISO week it belongs to (an expense's day is a calendar day, in no time zone).
public enum ExpenseDay {
    /// The week of a day; nil unless the text is a real date.
    public static func week(of day: String) -> ISOWeek? {
        UTCDay.start(of: day).map(ISOWeek.init(containing:))
    }
}

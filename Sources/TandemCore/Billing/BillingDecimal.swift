import Foundation

/// An exact decimal number with four places (hourly rates, block-hour multipliers, hours bought), held as
/// an integer count of ten-thousandths.
///
/// Why integers and not binary floating point or Foundation's `Decimal`: a Double cannot hold 0.1, so ten
/// tenths do not add up to one; `Decimal` is exact but has no SQL column type that both SQLite and
/// PostgreSQL sum exactly, and its rounding API differs between Foundation versions. An `Int64` of
/// ten-thousandths is stored as `BIGINT`, summed exactly by both databases, and rounded by one visible rule
/// (`Money`). Four places hold every rate and multiplier a price list uses; more are refused, never rounded.
public struct BillingDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale = 4
    public static let one: Int64 = 10_000

    /// The value × 10 000.
    public var units: Int64

    public init(units: Int64) { self.units = units }

    public init(_ whole: Int) { units = Int64(whole) * Self.one }

    public static let zero = BillingDecimal(units: 0)

    /// Reads decimal text such as `120`, `95.50`, `0.1` or `-2.25` exactly (no exponent, at most four places).
    /// Nil for anything else, so a caller can say which.
    public init?(parsing text: String) {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" || digits.first == "+" {
            negative = digits.first == "-"
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), parts.count == 1 || !fraction.isEmpty,
            whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        // Trailing zeros carry no value: 95.5000 is 95.5.
        let significant = fraction.reversed().drop(while: { $0 == "0" })
        guard significant.count <= Self.scale, whole.count <= 14 else { return nil }
        let padded = String(fraction.prefix(Self.scale)) + String(repeating: "0", count: max(0, Self.scale - min(fraction.count, Self.scale)))
        guard let w = Int64(whole.isEmpty ? "0" : String(whole)), let f = Int64(padded) else { return nil }
        units = (w * Self.one + f) * (negative ? -1 : 1)
    }

    /// A JSON number as `JSONDecoder` read it: `Decimal` keeps the number's text exactly (checked by
    /// `BillingDecimalTests.jsonDecoderReadsDecimalsFromTheText`). Nil when it has more than four places.
    public init?(exactly decimal: Decimal) {
        guard decimal.isFinite else { return nil }
        self.init(parsing: decimal.description)
    }

    /// Whether the text has more than four decimal places (for the refusal's message).
    public static func hasTooManyPlaces(_ text: String) -> Bool {
        guard let dot = text.firstIndex(of: ".") else { return false }
        return text[text.index(after: dot)...].reversed().drop(while: { $0 == "0" }).count > scale
    }

    /// The exact value, for JSON (encoded as the number's shortest text).
    public var decimal: Decimal { Decimal(sign: units < 0 ? .minus : .plus, exponent: -Self.scale, significand: Decimal(units.magnitude)) }

    /// `120`, `95.5`, `0.0125`: the shortest exact text.
    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(Self.one), fraction = magnitude % UInt64(Self.one)
        var text = (units < 0 ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: Self.scale - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.units < rhs.units }
}

/// An amount of money in cents. Amounts are computed by `Money.rounded` and only added after that.
///
/// **The rounding rule**: each time entry's amount is rounded to the cent, half up (0.025 → 0.03), once, when
/// the entry is saved; every total (a ticket's, a timesheet's, a report's) is the exact sum of those
/// rounded amounts, so a total always equals the sum of the lines an invoice shows.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var cents: Int64

    public init(cents: Int64) { self.cents = cents }

    public static let zero = Money(cents: 0)

    /// `numerator / denominator` cents, rounded half up (away from zero for negative values, which billing never makes).
    public static func rounded(numerator: Int64, denominator: Int64) -> Money {
        precondition(denominator > 0)
        let magnitude = (2 * numerator.magnitude + denominator.magnitude) / (2 * denominator.magnitude)
        return Money(cents: numerator < 0 ? -Int64(magnitude) : Int64(magnitude))
    }

    public static func + (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents + rhs.cents) }

    public static func sum<S: Sequence>(_ amounts: S) -> Money where S.Element == Money { amounts.reduce(.zero, +) }

    /// The exact value, for JSON.
    public var decimal: Decimal { Decimal(sign: cents < 0 ? .minus : .plus, exponent: -2, significand: Decimal(cents.magnitude)) }

    /// `120.00`: always two places, as money is shown.
    public var description: String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return (cents < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.cents < rhs.cents }
}

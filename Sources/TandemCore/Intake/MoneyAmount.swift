/// An amount of money in the installation's currency, in cents: fees are added up and compared, so never binary
/// floating point. Written and read as a decimal string ("25.00").
public struct MoneyAmount: Codable, Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public var cents: Int

    public init(cents: Int) { self.cents = cents }

    /// Far above any fee; keeps sums far from overflow.
    public static let maximum = MoneyAmount(cents: 10_000_000_000)

    /// Digits with an optional dot and one or two decimals ("25", "25.5", "25.00"); no sign, no thousands
    /// separators, no exponent, no currency symbol, no decimal comma: an amount is never guessed at.
    public static func parse(_ text: String) -> Result<MoneyAmount, Problem> {
        let trimmed = Whitespace.trim(text)
        if trimmed.isEmpty { return .failure(.empty) }
        if trimmed.hasPrefix("-") { return .failure(.negative) }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .failure(trimmed.contains(",") ? .decimalComma(trimmed) : .notAnAmount(trimmed))
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else { return .failure(.notAnAmount(trimmed)) }
        guard fraction.count <= 2 else { return .failure(.tooManyDecimals(trimmed)) }
        guard whole.count <= 12, let units = Int(whole), let decimals = Int(fraction + String(repeating: "0", count: 2 - fraction.count)) else {
            return .failure(.tooLarge)
        }
        let amount = MoneyAmount(cents: units * 100 + decimals)
        return amount > maximum ? .failure(.tooLarge) : .success(amount)
    }

    /// "25.00".
    public var description: String {
        let remainder = cents % 100
        return "\(cents / 100)." + (remainder < 10 ? "0" : "") + "\(remainder)"
    }

    public static func < (lhs: MoneyAmount, rhs: MoneyAmount) -> Bool { lhs.cents < rhs.cents }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch Self.parse(text) {
        case .success(let amount): self = amount
        case .failure(let problem):
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public enum Problem: Error, Sendable, Equatable {
        case empty, negative, tooLarge
        case decimalComma(String)
        case notAnAmount(String)
        case tooManyDecimals(String)

        public var message: String {
            switch self {
            case .empty: "is empty"
            case .negative: "must not be negative"
            case .tooLarge: "must be at most \(MoneyAmount.maximum)"
            case .decimalComma(let text): "'\(text)': write the amount with a dot for decimals and no thousands separators (1250.00)"
            case .notAnAmount(let text): "'\(text)' is not an amount (such as 25.00)"
            case .tooManyDecimals(let text): "'\(text)' has more than 2 decimals"
            }
        }
    }
}

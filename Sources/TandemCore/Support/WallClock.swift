import Foundation

/// Where "now" comes from: the system's clock in production, one a test sets and moves (token
/// expiry, login windows, one-time codes, event and audit times).
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

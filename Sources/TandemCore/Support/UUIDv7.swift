import Foundation

extension UUID {
    /// A time-ordered UUID (RFC 9562 version 7), so ordering by id is ordering by creation and
    /// new rows land at the end of the index.
    public static func v7(now: Date = Date()) -> UUID {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(i)))) }
        var generator = SystemRandomNumberGenerator()
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        // Within one millisecond, rand_a counts up (RFC 9562 §6.2, method 1): ids of the same
        // millisecond still sort in the order they were made, so audit events list in order.
        if let sequence = V7Sequence.shared.next(millis) {
            bytes[6] = UInt8(truncatingIfNeeded: sequence >> 8)
            bytes[7] = UInt8(truncatingIfNeeded: sequence)
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}

/// The 12-bit counter behind `UUID.v7`, per process.
private final class V7Sequence: @unchecked Sendable {
    static let shared = V7Sequence()

    private let lock = NSLock()
    private var millis: UInt64 = 0
    private var counter: UInt16 = 0

    /// The next counter value for `millis`; nil for a time before the last one (backdated ids
    /// stay random) or when the millisecond's counter is used up.
    func next(_ millis: UInt64) -> UInt16? {
        lock.lock()
        defer { lock.unlock() }
        if millis > self.millis {
            self.millis = millis
            // A random start in the lower half leaves room to count up.
            counter = UInt16.random(in: 0..<0x800)
            return counter
        }
        guard millis == self.millis, counter < 0xFFF else { return nil }
        counter += 1
        return counter
    }
}

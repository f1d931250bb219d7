import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension UUID {
    /// A time-ordered UUID (RFC 9562 version 7), so ordering by id is ordering by creation and
    /// new rows land at the end of the index.
    public static func v7(now: Date = Date()) -> UUID {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        // Bulk imports make ids by the hundred thousand: random bits come from a buffer, not a system call per id.
        let (high, low) = V7Sequence.shared.random()
        func byte(_ value: UInt64, _ index: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> (8 * index)) }
        var randA = UInt16(truncatingIfNeeded: high)
        // Within one millisecond, rand_a counts up (RFC 9562 §6.2, method 1): ids of the same
        // millisecond still sort in the order they were made, so audit events list in order.
        if let sequence = V7Sequence.shared.next(millis) { randA = sequence }
        return UUID(
            uuid: (
                byte(millis, 5), byte(millis, 4), byte(millis, 3), byte(millis, 2), byte(millis, 1), byte(millis, 0),
                UInt8(truncatingIfNeeded: randA >> 8) & 0x0F | 0x70, UInt8(truncatingIfNeeded: randA),
                byte(high, 2) & 0x3F | 0x80, byte(high, 3), byte(high, 4), byte(high, 5), byte(high, 6), byte(high, 7), byte(low, 0), byte(low, 1)
            ))
    }
}

/// The 12-bit counter behind `UUID.v7`, per process.
private final class V7Sequence: @unchecked Sendable {
    static let shared = V7Sequence()

    private let lock = NSLock()
    private var millis: UInt64 = 0
    private var counter: UInt16 = 0

    /// Random words from the system generator, drawn 512 at a time (one getrandom call per 256 ids).
    private var pool: [UInt64] = []
    private let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    func random() -> (UInt64, UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if pool.count < 2 {
            pool = [UInt64](repeating: 0, count: 512)
            pool.withUnsafeMutableBytes { buffer in
                var filled = 0
                if urandom >= 0 {
                    while filled < buffer.count {
                        let count = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                        if count > 0 { filled += count } else if count == 0 || errno != EINTR { break }
                    }
                }
                if filled < buffer.count {
                    var generator = SystemRandomNumberGenerator()
                    for index in 0..<buffer.count { buffer[index] = generator.next() }
                }
            }
        }
        return (pool.removeLast(), pool.removeLast())
    }

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

import Foundation

/// ISO 8601 timestamps (`2026-11-23T18:10:00Z`, UTC, whole seconds rounded down) without a formatter.
///
/// Exactly what `JSONEncoder`'s `.iso8601` strategy writes, but with integer arithmetic: on Linux
/// that strategy formats each date through `Date.ISO8601FormatStyle`, which was a large part of
/// encoding a page of tickets.
enum ISO8601 {
    /// `yyyy-MM-ddTHH:mm:ssZ` for `date` in UTC.
    static func string(from date: Date) -> String {
        // Years 1970 to 9999 by arithmetic; anything else (never stored here) through Foundation.
        guard let seconds = wholeSeconds(date) else { return Date.ISO8601FormatStyle().format(date) }
        return String(unsafeUninitializedCapacity: length) { write(seconds, to: $0) }
    }

    /// Appends `string(from: date)`'s UTF-8 to `bytes`, without making the string.
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        guard let seconds = wholeSeconds(date) else { return bytes.append(contentsOf: string(from: date).utf8) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: write(seconds, to: buffer)))
        }
    }

    private static let length = 20

    /// Seconds since 1970 rounded down, for dates the arithmetic covers (years 1970 to 9999).
    private static func wholeSeconds(_ date: Date) -> Int? {
        let interval = date.timeIntervalSince1970
        guard interval >= 0, interval < 253_402_300_800 else { return nil }
        return Int(interval.rounded(.down))
    }

    /// Writes the `length` bytes of the timestamp `seconds` after 1970 to the start of `buffer`.
    private static func write(_ seconds: Int, to buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        func put(_ value: Int, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                buffer[index] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                value /= 10
            }
        }
        put(year, at: 0, digits: 4)
        buffer[4] = 0x2D  // -
        put(month, at: 5, digits: 2)
        buffer[7] = 0x2D
        put(day, at: 8, digits: 2)
        buffer[10] = 0x54  // T
        put(secondOfDay / 3600, at: 11, digits: 2)
        buffer[13] = 0x3A  // :
        put(secondOfDay / 60 % 60, at: 14, digits: 2)
        buffer[16] = 0x3A
        put(secondOfDay % 60, at: 17, digits: 2)
        buffer[19] = 0x5A  // Z
        return length
    }

    /// A `JSONEncoder` date strategy that writes the same text as `.iso8601`, faster.
    static let encodingStrategy: JSONEncoder.DateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(string(from: date))
    }
}

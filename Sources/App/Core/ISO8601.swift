import Foundation

/// ISO 8601 timestamps (`2026-11-23T18:10:00Z`, UTC, whole seconds rounded down) without a formatter.
///
/// Exactly what `JSONEncoder`'s `.iso8601` strategy writes, but with integer arithmetic: on Linux
/// that strategy formats each date through `Date.ISO8601FormatStyle`, which was a large part of
/// encoding a page of tickets.
enum ISO8601 {
    /// `yyyy-MM-ddTHH:mm:ssZ` for `date` in UTC.
    static func string(from date: Date) -> String {
        let interval = date.timeIntervalSince1970
        // Years 1970 to 9999 by arithmetic; anything else (never stored here) through Foundation.
        guard interval >= 0, interval < 253_402_300_800 else { return Date.ISO8601FormatStyle().format(date) }
        let seconds = Int(interval.rounded(.down))
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

        return String(unsafeUninitializedCapacity: 20) { buffer in
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
            return 20
        }
    }

    /// A `JSONEncoder` date strategy that writes the same text as `.iso8601`, faster.
    static let encodingStrategy: JSONEncoder.DateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(string(from: date))
    }
}

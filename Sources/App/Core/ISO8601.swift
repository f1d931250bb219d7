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

    // MARK: Reading

    /// Why a text is not a timestamp, in words for a field error.
    struct Refusal: Error, Equatable {
        let message: String
    }

    static let example = "2026-11-23T18:10:00Z"
    /// `day(from:)`'s refusal of a text that is not shaped like a day at all.
    static let dayFormat = Refusal(message: "must be a date such as 2026-11-23")

    /// `yyyy-MM-ddTHH:mm:ss[.fraction](Z|±HH:mm)` (RFC 3339), refusing what is not on the calendar or the
    /// clock (`2026-02-30`, month 13, hour 24) where Foundation's parser would roll it over to another day.
    static func date(from text: String) -> Result<Date, Refusal> {
        let bytes = Array(text.utf8)
        let format = Refusal(message: "must be a date and time such as \(example)")
        guard bytes.count >= 20, let (year, month, day) = calendarDate(bytes[0..<10]) else { return .failure(format) }
        guard bytes[10] == 0x54 || bytes[10] == 0x74,  // T or t
            let hour = number(bytes, 11, 2), bytes[13] == 0x3A, let minute = number(bytes, 14, 2), bytes[16] == 0x3A,
            let second = number(bytes, 17, 2)
        else { return .failure(format) }
        var index = 19
        var fraction = 0.0
        if bytes[index] == 0x2E {  // .
            var scale = 0.1
            index += 1
            let start = index
            while index < bytes.count, let digit = digit(bytes[index]) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return .failure(format) }
        }
        var offset = 0
        guard index < bytes.count else { return .failure(format) }
        switch bytes[index] {
        case 0x5A, 0x7A:  // Z or z
            index += 1
        case 0x2B, 0x2D:  // + or -
            guard index + 6 == bytes.count, let hours = number(bytes, index + 1, 2), bytes[index + 3] == 0x3A,
                let minutes = number(bytes, index + 4, 2)
            else { return .failure(format) }
            guard hours <= 23, minutes <= 59 else { return .failure(Refusal(message: "'\(text)' has an offset that does not exist")) }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == 0x2D ? -1 : 1)
            index += 6
        default:
            return .failure(format)
        }
        guard index == bytes.count else { return .failure(format) }
        if let impossible = impossibleDay(year, month, day) { return .failure(Refusal(message: "'\(text)' is not a real date: \(impossible)")) }
        guard hour <= 23, minute <= 59, second <= 59 else { return .failure(Refusal(message: "'\(text)' is not a real time of day")) }
        let seconds = daysSince1970(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return .success(Date(timeIntervalSince1970: Double(seconds) + fraction))
    }

    /// The start (UTC) of the day `yyyy-MM-dd`, refusing a day that is not on the calendar (`2026-02-30`).
    static func day(from text: String) -> Result<Date, Refusal> {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, let (year, month, day) = calendarDate(bytes[0..<10]) else { return .failure(dayFormat) }
        if let impossible = impossibleDay(year, month, day) { return .failure(Refusal(message: "'\(text)' is not a real date: \(impossible)")) }
        return .success(Date(timeIntervalSince1970: Double(daysSince1970(year, month, day) * 86_400)))
    }

    /// `yyyy-MM-dd` that is a day of the calendar (holidays).
    static func isCalendarDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, let (year, month, day) = calendarDate(bytes[0..<10]) else { return false }
        return impossibleDay(year, month, day) == nil
    }

    /// A `JSONDecoder` date strategy over `date(from:)`: an impossible date is a field error naming the field.
    static let decodingStrategy: JSONDecoder.DateDecodingStrategy = .custom { decoder in
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        switch date(from: text) {
        case .success(let date): return date
        case .failure(let refusal): throw DecodingError.dataCorruptedError(in: container, debugDescription: refusal.message)
        }
    }

    /// The digits of `yyyy-MM-dd`, not yet checked against the calendar.
    private static func calendarDate(_ bytes: ArraySlice<UInt8>) -> (Int, Int, Int)? {
        let bytes = Array(bytes)
        guard bytes.count == 10, let year = number(bytes, 0, 4), bytes[4] == 0x2D, let month = number(bytes, 5, 2), bytes[7] == 0x2D,
            let day = number(bytes, 8, 2)
        else { return nil }
        return (year, month, day)
    }

    private static func impossibleDay(_ year: Int, _ month: Int, _ day: Int) -> String? {
        guard (1...12).contains(month) else { return "there is no month \(month)" }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return "month \(month) of \(year) has \(days) days" }
        return nil
    }

    /// Howard Hinnant's days_from_civil.
    private static func daysSince1970(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (0x30...0x39).contains(byte) ? Int(byte - 0x30) : nil
    }

    private static func number(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int? {
        guard offset + count <= bytes.count else { return nil }
        var value = 0
        for index in offset..<offset + count {
            guard let digit = digit(bytes[index]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// A `JSONEncoder` date strategy that writes the same text as `.iso8601`, faster.
    static let encodingStrategy: JSONEncoder.DateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(string(from: date))
    }
}

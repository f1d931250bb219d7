import Foundation

/// The span a report covers: a calendar month (`2026-11`) or a range of whole days (`from=2026-11-03&to=2026-11-20`,
/// both days included). Days are **UTC** days: an organization has no time zone of its own (internal locations do, and
/// one organization's tickets may be worked from several), so a UTC day is the one boundary every reader shares.
public struct ReportPeriod: Sendable, Equatable {
    /// The first instant of the period (midnight UTC).
    public var start: Date
    /// The first instant after it (midnight UTC of the day after the last day).
    public var end: Date
    /// `YYYY-MM` when the period is one calendar month.
    public var month: String?

    /// The longest range a report covers.
    public static let maxDays = 366
    /// Ranges up to this many days are charted per day, longer ones per week (weeks start on Monday).
    public static let maxDailyBuckets = 62

    public init(start: Date, end: Date, month: String? = nil) {
        self.start = start
        self.end = end
        self.month = month
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        calendar.firstWeekday = 2
        return calendar
    }()

    /// The calendar month holding `date` (the default period: this month).
    public static func month(containing date: Date) -> ReportPeriod {
        let parts = calendar.dateComponents([.year, .month], from: date)
        return month(year: parts.year!, month: parts.month!)
    }

    static func month(year: Int, month: Int) -> ReportPeriod {
        let start = calendar.date(from: DateComponents(year: year, month: month, day: 1))!
        let end = calendar.date(byAdding: .month, value: 1, to: start)!
        return ReportPeriod(start: start, end: end, month: String(format: "%04d-%02d", year, month))
    }

    /// Reads `period` (a month) or `from` and `to` (days); the two forms do not mix. Nothing given is
    /// the month of `now`. A failure of `validator` names the field and what is wrong.
    public static func parse(period: String?, from: String?, to: String?, now: Date, _ validator: inout FieldValidator) -> ReportPeriod? {
        let period = period.flatMap { $0.isEmpty ? nil : $0 }
        let from = from.flatMap { $0.isEmpty ? nil : $0 }
        let to = to.flatMap { $0.isEmpty ? nil : $0 }
        if let period {
            if from != nil || to != nil {
                validator.fail("period", "give either a month (period) or a range (from and to), not both")
                return nil
            }
            return parseMonth(period, &validator)
        }
        guard from != nil || to != nil else { return month(containing: now) }
        guard let from, let to else {
            validator.fail(from == nil ? "from" : "to", "is required with \(from == nil ? "to" : "from")")
            return nil
        }
        let first = parseDay(from, "from", &validator)
        let last = parseDay(to, "to", &validator)
        guard let first, let last else { return nil }
        guard last >= first else {
            validator.fail("to", "must not be before from")
            return nil
        }
        let end = calendar.date(byAdding: .day, value: 1, to: last)!
        let days = calendar.dateComponents([.day], from: first, to: end).day!
        guard days <= maxDays else {
            validator.fail("to", "the range must be at most \(maxDays) days (got \(days))")
            return nil
        }
        return ReportPeriod(start: first, end: end)
    }

    static func parseMonth(_ text: String, _ validator: inout FieldValidator) -> ReportPeriod? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 7, parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else {
            validator.fail("period", "must be a month such as 2026-11")
            return nil
        }
        guard (1...12).contains(month), (1970...9999).contains(year) else {
            validator.fail("period", "'\(text)' is not a month on the calendar")
            return nil
        }
        return Self.month(year: year, month: month)
    }

    static func parseDay(_ text: String, _ field: String, _ validator: inout FieldValidator) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else {
            validator.fail(field, "must be a day such as 2026-11-23")
            return nil
        }
        guard (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
            let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.day, from: date) == day, calendar.component(.month, from: date) == month
        else {
            validator.fail(field, "'\(text)' is not a real date")
            return nil
        }
        return date
    }

    /// The number of days the period covers.
    public var days: Int { Self.calendar.dateComponents([.day], from: start, to: end).day! }

    /// The last day included.
    public var lastDay: Date { Self.calendar.date(byAdding: .day, value: -1, to: end)! }

    /// How the charts group the period.
    public var bucket: ReportBucket { days <= Self.maxDailyBuckets ? .day : .week }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    /// "November 2026", or "2026-11-03 to 2026-11-20".
    public var label: String {
        if month != nil {
            let (year, month, _) = Self.civil(start)
            return "\(Self.monthNames[month - 1]) \(year)"
        }
        return "\(Self.day(start)) to \(Self.day(lastDay))"
    }

    /// `2026-11-23` (UTC).
    public static func day(_ date: Date) -> String {
        let (year, month, day) = civil(date)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// The UTC calendar date of `date`, by `LocalDate`'s arithmetic on day numbers: reports label every day they
    /// chart, and Foundation's calendar is slow at that on Linux.
    static func civil(_ date: Date) -> (year: Int, month: Int, day: Int) {
        LocalDate(dayNumber: Int((date.timeIntervalSince1970 / 86_400).rounded(.down))).parts
    }

    /// The start of the first bucket: the period's first day, or the Monday of its first week.
    public var firstBucketStart: Date {
        bucket == .day ? start : Self.calendar.dateInterval(of: .weekOfYear, for: start)!.start
    }

    /// The starts of the chart's buckets, in order: every day, or every week (the first may start
    /// before the period: the Monday of its first week).
    public var bucketStarts: [Date] {
        let step = bucket == .day ? 86_400.0 : 7 * 86_400.0
        return Array(stride(from: firstBucketStart.timeIntervalSince1970, to: end.timeIntervalSince1970, by: step).map { Date(timeIntervalSince1970: $0) })
    }

    /// Which bucket of `bucketStarts` holds `date`; nil outside the period. `first` is `firstBucketStart`, when the
    /// caller has it (it costs a calendar call).
    public func bucketIndex(of date: Date, first: Date? = nil) -> Int? {
        guard date >= start, date < end else { return nil }
        let days = Int((date.timeIntervalSince(first ?? firstBucketStart) / 86_400).rounded(.down))
        return bucket == .day ? days : days / 7
    }

    /// The month before and after, for the pages' links (nil for a range).
    public var previousMonth: String? {
        month.map { _ in Self.month(containing: start.addingTimeInterval(-86_400)).month! }
    }

    public var nextMonth: String? {
        month.map { _ in Self.month(containing: end).month! }
    }
}

/// The width of a chart's bar or point.
public enum ReportBucket: String, Sendable, Codable {
    case day, week
}

import Foundation

/// One day's working hours at an internal location: `start` and `end` as `HH:mm` in its time zone; an `end`
/// before `start` runs past midnight into the next day.
public struct BusinessDay: Codable, Sendable, Equatable {
    /// 1 = Monday … 7 = Sunday (ISO 8601).
    public var weekday: Int
    public var start: String
    public var end: String

    public init(weekday: Int, start: String, end: String) {
        self.weekday = weekday
        self.start = start
        self.end = end
    }

    /// Minutes after midnight of an `HH:mm` time, nil when it is not one.
    public static func minutes(_ time: String) -> Int? {
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0..<60).contains(minutes), hours * 60 + minutes <= 24 * 60
        else { return nil }
        return hours * 60 + minutes
    }
}

/// An internal location's working time (Autotask): its time zone, working hours per weekday and
/// holidays. Decides whether a moment is within business hours, which the site notification rule's
/// "business hours / after hours" contacts and workflow conditions read.
public struct BusinessCalendar: Sendable, Equatable {
    public var timeZone: TimeZone
    public var days: [BusinessDay]
    /// `yyyy-MM-dd` in the location's time zone: closed all day.
    public var holidays: Set<String>
    /// Stretches worked out ahead for a run of days (`prepared(from:to:)`): a shortcut, not part of the value.
    var table: StretchTable?

    /// Nil when the time zone is not one the system knows.
    public init?(timeZone identifier: String, days: [BusinessDay], holidays: [String]) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        timeZone = zone
        self.days = days
        self.holidays = Set(holidays)
    }

    /// Whether `date` falls in a working stretch (see `openIntervals`): overnight hours and holidays included.
    public func isOpen(at date: Date) -> Bool { !openIntervals(from: date, to: date.addingTimeInterval(1)).isEmpty }

    /// Which of a site notification rule's hours apply at `date`.
    public func hours(at date: Date) -> SiteNotificationRule.Hours { isOpen(at: date) ? .businessHours : .afterHours }

    /// Equal when the zone, hours and holidays are: a prepared calendar equals the calendar it was prepared from.
    public static func == (a: BusinessCalendar, b: BusinessCalendar) -> Bool {
        a.timeZone == b.timeZone && a.days == b.days && a.holidays == b.holidays
    }
}

/// The working stretches of consecutive days, worked out once (`BusinessCalendar.prepared(from:to:)`) and only read
/// afterwards.
final class StretchTable: Sendable {
    let firstDay: Int
    let days: [[DateInterval]]

    init(firstDay: Int, days: [[DateInterval]]) {
        self.firstDay = firstDay
        self.days = days
    }

    /// The day's stretches, nil when the table does not hold the day.
    func stretches(on day: LocalDate) -> [DateInterval]? {
        let index = day.dayNumber - firstDay
        return index >= 0 && index < days.count ? days[index] : nil
    }
}

import Foundation

/// Business-time arithmetic on an internal location's calendar: how much working time lies between two
/// instants, and the instant a number of working minutes after a start.
///
/// A working day is the stretch from its `start` to its `end` in the location's time zone, belonging to
/// the date it starts on: a day whose end is not after its start runs past midnight into the next date
/// (`22:00`–`06:00`), and `24:00` ends at the next midnight. A holiday closes the stretch that starts on
/// it. Working time is real elapsed time within the stretches, so a stretch across a DST change is an
/// hour shorter (spring) or longer (autumn) than its wall-clock length. A wall-clock time that does not
/// exist (in the spring gap) is the instant the clocks jump; one that happens twice (autumn) is its first.
extension BusinessCalendar {
    /// The working time overlapping `[from, to)`, cut to it, in order and without overlaps (one day's night
    /// shift may run into the next day's hours: the time they share counts once).
    public func openIntervals(from: Date, to: Date) -> [DateInterval] {
        guard from < to else { return [] }
        var result: [DateInterval] = []
        // A stretch that starts the day before may run past midnight into `from`'s date.
        var day = LocalDate(from, in: timeZone).adding(days: -1)
        let last = LocalDate(to, in: timeZone)
        var covered = from
        while day <= last {
            for stretch in stretches(on: day) {
                let start = max(stretch.start, covered), end = min(stretch.end, to)
                guard start < end else { continue }
                if let previous = result.last, previous.end >= start {
                    result[result.count - 1] = DateInterval(start: previous.start, end: end)
                } else {
                    result.append(DateInterval(start: start, end: end))
                }
                covered = end
            }
            day = day.adding(days: 1)
        }
        return result
    }

    /// Working seconds in `[from, to)`; 0 when `to` is not after `from`.
    public func businessSeconds(from: Date, to: Date) -> TimeInterval {
        openIntervals(from: from, to: to).reduce(0) { $0 + $1.duration }
    }

    /// Whole working minutes in `[from, to)`.
    public func businessMinutes(from: Date, to: Date) -> Int { Int((businessSeconds(from: from, to: to) / 60).rounded(.down)) }

    /// The instant at which `seconds` of working time have passed since `start` (`start` itself for 0 when it
    /// is working time, else the next opening); nil when the calendar opens on no day within ten years.
    public func date(addingBusinessSeconds seconds: TimeInterval, to start: Date) -> Date? {
        var remaining = max(0, seconds)
        var day = LocalDate(start, in: timeZone).adding(days: -1)
        let limit = day.adding(days: 3660)
        // Stretches come in order of their start; what an earlier one covered counts once.
        var covered = start
        while day <= limit {
            for stretch in stretches(on: day) where stretch.end > covered {
                let from = max(stretch.start, covered)
                let length = stretch.end.timeIntervalSince(from)
                if remaining <= length { return from.addingTimeInterval(remaining) }
                remaining -= length
                covered = stretch.end
            }
            day = day.adding(days: 1)
        }
        return nil
    }

    /// The instant `minutes` working minutes after `start` (see `date(addingBusinessSeconds:to:)`).
    public func date(addingBusinessMinutes minutes: Int, to start: Date) -> Date? {
        date(addingBusinessSeconds: TimeInterval(minutes) * 60, to: start)
    }

    /// The same calendar with the stretches of the days from `from` to `to` worked out once (and of the day before
    /// `from`, whose night hours may run into it), at most ten years of them: clocks of many tickets over the same
    /// days (a report's) read them instead of working them out each. Every answer is the calendar's own; days
    /// outside the run are worked out as before.
    public func prepared(from: Date, to: Date) -> BusinessCalendar {
        var calendar = self
        calendar.table = nil
        let first = LocalDate(from, in: timeZone).adding(days: -1).dayNumber
        let last = min(LocalDate(to, in: timeZone).dayNumber, first + 3660)
        guard first <= last else { return calendar }
        calendar.table = StretchTable(firstDay: first, days: (first...last).map { workedOutStretches(on: LocalDate(dayNumber: $0)) })
        return calendar
    }

    /// The stretches that start on a local date, in order (none on a holiday).
    func stretches(on day: LocalDate) -> [DateInterval] {
        table?.stretches(on: day) ?? workedOutStretches(on: day)
    }

    private func workedOutStretches(on day: LocalDate) -> [DateInterval] {
        guard holidays.isEmpty || !holidays.contains(day.text) else { return [] }
        let weekday = day.isoWeekday
        return days.filter { $0.weekday == weekday }.compactMap { hours -> DateInterval? in
            guard let start = BusinessDay.minutes(hours.start), let end = BusinessDay.minutes(hours.end), start < 24 * 60, start != end else { return nil }
            let opens = instant(day, minute: start)
            let closes = end > start ? instant(day, minute: end) : instant(day.adding(days: 1), minute: end)
            return opens < closes ? DateInterval(start: opens, end: closes) : nil
        }.sorted { $0.start < $1.start }
    }

    /// The first instant whose wall-clock time in the location's zone is at or after `minute` on `day`.
    func instant(_ day: LocalDate, minute: Int) -> Date {
        let wall = day.midnightAsUTC + TimeInterval(minute) * 60
        // A zone's offset near this wall time: the one before and the one after any change that day.
        let offsets = Set([-2 * 86400.0, 2 * 86400.0].map { TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + $0))) })
        let exact = offsets.map { wall - $0 }.filter { TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: $0))) == wall - $0 }
        if let first = exact.min() { return Date(timeIntervalSince1970: first) }
        // In a gap: the clocks jump between the two candidates; find the jump to the second.
        var low = wall - (offsets.max() ?? 0), high = wall - (offsets.min() ?? 0)
        while high - low > 1 {
            let middle = ((low + high) / 2).rounded(.down)
            if middle + TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: middle))) >= wall { high = middle } else { low = middle }
        }
        return Date(timeIntervalSince1970: high)
    }
}

/// A date on the wall calendar of a time zone (no time, no zone): a working day's date, counted in days since
/// 1970-01-01 of the proleptic Gregorian calendar (integer arithmetic: Foundation's `Calendar` was most of the
/// cost of walking days).
struct LocalDate: Comparable, Hashable, Sendable {
    /// Days since 1970-01-01.
    let dayNumber: Int

    init(dayNumber: Int) { self.dayNumber = dayNumber }

    init(year: Int, month: Int, day: Int) {
        // Howard Hinnant's `days_from_civil`: years start in March, so the leap day ends a year.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        dayNumber = era * 146097 + dayOfEra - 719468
    }

    /// The date `date` falls on in `zone`.
    init(_ date: Date, in zone: TimeZone) {
        let local = date.timeIntervalSince1970 + TimeInterval(zone.secondsFromGMT(for: date))
        dayNumber = Int((local / 86400).rounded(.down))
    }

    /// Year, month (1–12) and day (1–31): Howard Hinnant's `civil_from_days`.
    var parts: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// This date's midnight read as if it were UTC: wall-clock seconds since the epoch.
    var midnightAsUTC: TimeInterval { TimeInterval(dayNumber) * 86400 }

    func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    /// 1 = Monday … 7 = Sunday (ISO 8601); 1970-01-01 was a Thursday.
    var isoWeekday: Int { ((dayNumber + 3) % 7 + 7) % 7 + 1 }

    /// `yyyy-MM-dd`, written by hand: `String(format:)` was half of an SLA report's clock arithmetic.
    var text: String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        let (year, month, day) = parts
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    static func < (a: LocalDate, b: LocalDate) -> Bool { a.dayNumber < b.dayNumber }
}

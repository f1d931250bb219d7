import Foundation
import Testing

@testable import TandemCore

/// Business-time arithmetic: working minutes between instants and the instant N working minutes on,
/// across time zones, both DST changes, holidays and hours that run past midnight. The oracle walks the
/// time a quarter hour at a time and reads each one's wall-clock time with Foundation's calendar.
@Suite struct BusinessTimeTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func calendar(_ zone: String, _ days: [BusinessDay], holidays: [String] = []) -> BusinessCalendar {
        BusinessCalendar(timeZone: zone, days: days, holidays: holidays)!
    }

    static func weekdays(_ start: String, _ end: String, _ weekdays: ClosedRange<Int> = 1...5) -> [BusinessDay] {
        weekdays.map { BusinessDay(weekday: $0, start: start, end: end) }
    }

    /// Independent of the stretches: a minute is working time when its wall-clock date and time fall in a
    /// day's hours (or the previous date's overnight hours), that date not a holiday.
    struct Oracle {
        let calendar: BusinessCalendar
        let gregorian: Calendar
        /// Each date's previous date, as text (worked out once per date).
        var yesterdays: [String: String] = [:]

        init(_ calendar: BusinessCalendar) {
            self.calendar = calendar
            var gregorian = Calendar(identifier: .gregorian)
            gregorian.timeZone = calendar.timeZone
            self.gregorian = gregorian
        }

        mutating func isOpen(_ date: Date) -> Bool {
            let parts = gregorian.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: date)
            let minute = parts.hour! * 60 + parts.minute!
            let today = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
            let yesterday: String
            if let known = yesterdays[today] {
                yesterday = known
            } else {
                let noon = gregorian.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: 12))!
                let y = gregorian.dateComponents([.year, .month, .day], from: gregorian.date(byAdding: .day, value: -1, to: noon)!)
                yesterday = String(format: "%04d-%02d-%02d", y.year!, y.month!, y.day!)
                yesterdays[today] = yesterday
            }
            let weekday = (parts.weekday! + 5) % 7 + 1, previousWeekday = (weekday + 5) % 7 + 1
            return calendar.days.contains { day in
                let start = BusinessDay.minutes(day.start)!, end = BusinessDay.minutes(day.end)!
                if start < end { return day.weekday == weekday && !calendar.holidays.contains(today) && start <= minute && minute < end }
                let evening = day.weekday == weekday && !calendar.holidays.contains(today) && minute >= start
                let morning = day.weekday == previousWeekday && !calendar.holidays.contains(yesterday) && minute < end
                return evening || morning
            }
        }

        /// Working minutes in `[from, to)`, read a quarter of an hour at a time: every edge of the hours,
        /// zones and DST changes these tests use falls on a quarter hour of UTC, and so do `from` and `to`.
        mutating func minutes(from: Date, to: Date) -> Int {
            var count = 0
            var quarter = from
            while quarter < to {
                if isOpen(quarter) { count += 15 }
                quarter = quarter.addingTimeInterval(15 * 60)
            }
            return count
        }
    }

    @Test func countsWorkingMinutesAcrossNightsWeekendsAndHolidays() {
        let newYork = Self.calendar("America/New_York", Self.weekdays("08:00", "18:00"), holidays: ["2026-12-25"])
        let cases: [(String, String, Int)] = [
            ("2026-12-07T14:00:00Z", "2026-12-07T15:30:00Z", 90),  // Monday 09:00–10:30
            ("2026-12-04T22:00:00Z", "2026-12-07T14:00:00Z", 120),  // Friday 17:00 → Monday 09:00
            ("2026-12-05T15:00:00Z", "2026-12-06T15:00:00Z", 0),  // the weekend
            ("2026-12-24T22:00:00Z", "2026-12-28T14:00:00Z", 120),  // Thursday 17:00 → Monday 09:00 over the Friday holiday
            ("2026-12-07T15:00:00Z", "2026-12-07T14:00:00Z", 0),  // backwards
            ("2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z", 5 * 600),
        ]
        for (from, to, minutes) in cases {
            #expect(newYork.businessMinutes(from: Self.at(from), to: Self.at(to)) == minutes, "\(from) → \(to)")
        }
    }

    @Test func theSameInstantsCountByEachLocationsOwnZone() {
        let hours = Self.weekdays("09:00", "17:00")
        let from = Self.at("2026-12-07T00:00:00Z"), to = Self.at("2026-12-08T00:00:00Z")  // Monday in UTC
        // Tokyo (UTC+9): Monday 09:00–17:00 is 00:00–08:00 UTC, inside the day; Los Angeles (UTC−8):
        // Monday 17:00–01:00 UTC, one hour before midnight UTC is left; Sunday in Kolkata ends at 18:30 UTC.
        #expect(Self.calendar("Asia/Tokyo", hours).businessMinutes(from: from, to: to) == 480)
        #expect(Self.calendar("America/Los_Angeles", hours).businessMinutes(from: from, to: to) == 420)
        #expect(Self.calendar("Asia/Kolkata", hours).businessMinutes(from: from, to: to) == 480)
        #expect(Self.calendar("Asia/Kolkata", hours).openIntervals(from: from, to: to).first?.start == Self.at("2026-12-07T03:30:00Z"))
    }

    @Test func springForwardShortensAndAutumnLengthensAStretch() {
        let night = [BusinessDay(weekday: 7, start: "00:00", end: "06:00")]  // Sunday 00:00–06:00
        let newYork = Self.calendar("America/New_York", night), berlin = Self.calendar("Europe/Berlin", night)
        // 2026-03-08 (New York) and 2026-03-29 (Berlin): the clocks skip an hour; 11-01 and 10-25 repeat one.
        #expect(newYork.businessMinutes(from: Self.at("2026-03-07T00:00:00Z"), to: Self.at("2026-03-09T00:00:00Z")) == 300)
        #expect(newYork.businessMinutes(from: Self.at("2026-10-31T00:00:00Z"), to: Self.at("2026-11-02T00:00:00Z")) == 420)
        #expect(berlin.businessMinutes(from: Self.at("2026-03-28T00:00:00Z"), to: Self.at("2026-03-30T00:00:00Z")) == 300)
        #expect(berlin.businessMinutes(from: Self.at("2026-10-24T00:00:00Z"), to: Self.at("2026-10-26T00:00:00Z")) == 420)
        // An ordinary Sunday is six hours.
        #expect(newYork.businessMinutes(from: Self.at("2026-03-14T00:00:00Z"), to: Self.at("2026-03-16T00:00:00Z")) == 360)
        // Office hours keep their wall-clock times on both sides of the change: 08:00 EST is 13:00Z, 08:00 EDT 12:00Z.
        let office = Self.calendar("America/New_York", Self.weekdays("08:00", "18:00"))
        #expect(
            office.openIntervals(from: Self.at("2026-03-06T00:00:00Z"), to: Self.at("2026-03-07T00:00:00Z")).first?.start == Self.at("2026-03-06T13:00:00Z"))
        #expect(
            office.openIntervals(from: Self.at("2026-03-09T00:00:00Z"), to: Self.at("2026-03-10T00:00:00Z")).first?.start == Self.at("2026-03-09T12:00:00Z"))
    }

    @Test func aStartInTheSkippedHourOpensWhenTheClocksJump() {
        let newYork = Self.calendar("America/New_York", [BusinessDay(weekday: 7, start: "02:30", end: "04:00")])
        let stretches = newYork.openIntervals(from: Self.at("2026-03-08T00:00:00Z"), to: Self.at("2026-03-09T00:00:00Z"))
        // 02:30 does not exist on 2026-03-08: the stretch opens at 03:00 EDT (07:00Z) and closes at 04:00 EDT.
        #expect(stretches == [DateInterval(start: Self.at("2026-03-08T07:00:00Z"), end: Self.at("2026-03-08T08:00:00Z"))])
        // 01:30 happens twice on 2026-11-01: a stretch from it opens at the first (05:30Z, still EDT).
        let autumn = Self.calendar("America/New_York", [BusinessDay(weekday: 7, start: "01:30", end: "03:00")])
        let repeated = autumn.openIntervals(from: Self.at("2026-11-01T00:00:00Z"), to: Self.at("2026-11-02T00:00:00Z"))
        #expect(repeated == [DateInterval(start: Self.at("2026-11-01T05:30:00Z"), end: Self.at("2026-11-01T08:00:00Z"))])
    }

    @Test func overnightHoursRunPastMidnightAndBelongToTheDayTheyStart() {
        // Monday to Friday 22:00–06:00 in London: Friday's shift runs into Saturday; none starts on Sunday.
        let nights = Self.calendar("Europe/London", Self.weekdays("22:00", "06:00"), holidays: ["2026-12-09"])
        #expect(nights.isOpen(at: Self.at("2026-12-12T03:00:00Z")))  // Saturday 03:00, from Friday's shift
        #expect(!nights.isOpen(at: Self.at("2026-12-07T03:00:00Z")))  // Monday 03:00: Sunday has no shift
        #expect(nights.isOpen(at: Self.at("2026-12-07T22:00:00Z")))
        #expect(!nights.isOpen(at: Self.at("2026-12-07T21:59:00Z")))
        // The holiday (Wednesday) closes the shift that starts on it, not Tuesday's, which ends on it.
        #expect(nights.isOpen(at: Self.at("2026-12-09T05:00:00Z")))
        #expect(!nights.isOpen(at: Self.at("2026-12-09T23:00:00Z")))
        #expect(nights.businessMinutes(from: Self.at("2026-12-07T00:00:00Z"), to: Self.at("2026-12-14T00:00:00Z")) == 4 * 480)
        // 24:00 ends at the next midnight.
        let late = Self.calendar("UTC", [BusinessDay(weekday: 1, start: "20:00", end: "24:00")])
        #expect(late.businessMinutes(from: Self.at("2026-12-07T00:00:00Z"), to: Self.at("2026-12-09T00:00:00Z")) == 240)
    }

    /// Monday's night shift runs into Tuesday's early shift: the hour they share counts once.
    @Test func overlappingHoursCountOnce() {
        let shifts = Self.calendar(
            "UTC", [BusinessDay(weekday: 1, start: "22:00", end: "06:00"), BusinessDay(weekday: 2, start: "05:00", end: "13:00")])
        let from = Self.at("2026-12-07T00:00:00Z"), to = Self.at("2026-12-09T00:00:00Z")
        #expect(shifts.businessMinutes(from: from, to: to) == 15 * 60)
        #expect(shifts.openIntervals(from: from, to: to) == [DateInterval(start: Self.at("2026-12-07T22:00:00Z"), end: Self.at("2026-12-08T13:00:00Z"))])
        #expect(shifts.date(addingBusinessMinutes: 8 * 60, to: from) == Self.at("2026-12-08T06:00:00Z"))
        #expect(shifts.date(addingBusinessMinutes: 9 * 60, to: from) == Self.at("2026-12-08T07:00:00Z"))
        var oracle = Oracle(shifts)
        #expect(oracle.minutes(from: from, to: to) == 15 * 60)
    }

    /// The day arithmetic is integer arithmetic on day numbers: it agrees with Foundation's Gregorian calendar (date
    /// parts, weekday, back to the day number) on every 13th day from 1900 to 2100 and every day from 2020 to 2032, and
    /// on the date an instant falls on in a zone.
    @Test func localDatesAgreeWithFoundationsCalendar() {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let first = LocalDate(year: 1900, month: 1, day: 1).dayNumber, last = LocalDate(year: 2100, month: 12, day: 31).dayNumber
        #expect(first == -25567 && last == 47846)
        let recent = LocalDate(year: 2020, month: 1, day: 1).dayNumber...LocalDate(year: 2032, month: 12, day: 31).dayNumber
        for number in Array(stride(from: first, through: last, by: 13)) + Array(recent) {
            let date = LocalDate(dayNumber: number)
            let parts = utc.dateComponents([.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: date.midnightAsUTC))
            guard date.parts == (parts.year!, parts.month!, parts.day!), date.isoWeekday == (parts.weekday! + 5) % 7 + 1,
                LocalDate(year: parts.year!, month: parts.month!, day: parts.day!) == date
            else {
                Issue.record("day \(number): \(date.parts) weekday \(date.isoWeekday), Foundation \(parts)")
                return
            }
        }
        #expect(LocalDate(year: 2024, month: 2, day: 29).adding(days: 1).text == "2024-03-01")
        for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata", "America/St_Johns", "Europe/Berlin"] {
            var local = Calendar(identifier: .gregorian)
            local.timeZone = TimeZone(identifier: zone)!
            var instant = Self.at("2026-03-01T00:00:00Z")
            while instant < Self.at("2026-04-15T00:00:00Z") {
                let parts = local.dateComponents([.year, .month, .day], from: instant)
                let date = LocalDate(instant, in: local.timeZone)
                #expect(date == LocalDate(year: parts.year!, month: parts.month!, day: parts.day!), "\(zone) \(instant)")
                instant = instant.addingTimeInterval(17 * 60 + 0.25)
            }
        }
    }

    /// A calendar prepared for a run of days (`prepared(from:to:)`, a report's clocks) answers exactly as the calendar,
    /// for spans inside the run, across its ends and outside it, over DST changes, holidays and night hours.
    @Test(arguments: ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"])
    func aPreparedCalendarAnswersAsTheCalendar(zone: String) {
        let shapes: [[BusinessDay]] = [
            Self.weekdays("08:30", "17:00"),
            Self.weekdays("21:00", "01:00") + [BusinessDay(weekday: 6, start: "10:00", end: "14:00")],
            (1...7).map { BusinessDay(weekday: $0, start: "00:00", end: "24:00") },
        ]
        for days in shapes {
            let calendar = Self.calendar(zone, days, holidays: ["2026-03-30", "2026-10-26", "2026-11-02"])
            let prepared = calendar.prepared(from: Self.at("2026-03-01T00:00:00Z"), to: Self.at("2026-11-01T00:00:00Z"))
            #expect(prepared == calendar)
            // Starts every 29 hours and 7 minutes from February to December; spans of 1 hour to 40 days.
            var from = Self.at("2026-02-20T00:00:00Z")
            var compared = 0
            while from < Self.at("2026-12-10T00:00:00Z") {
                for hours: TimeInterval in [1, 9.5, 50, 24 * 7, 24 * 40] {
                    let to = from.addingTimeInterval(hours * 3600)
                    #expect(prepared.openIntervals(from: from, to: to) == calendar.openIntervals(from: from, to: to), "\(zone) \(from) +\(hours) h")
                    #expect(prepared.businessSeconds(from: from, to: to) == calendar.businessSeconds(from: from, to: to))
                    let seconds = hours * 1200
                    #expect(prepared.date(addingBusinessSeconds: seconds, to: from) == calendar.date(addingBusinessSeconds: seconds, to: from))
                    compared += 1
                }
                from = from.addingTimeInterval(29 * 3600 + 7 * 60)
            }
            #expect(compared > 1000)
        }
        // Nothing to prepare (`to` before `from`): the calendar's own answers.
        let empty = Self.calendar(zone, Self.weekdays("09:00", "17:00")).prepared(from: Self.at("2026-05-01T00:00:00Z"), to: Self.at("2026-04-01T00:00:00Z"))
        #expect(empty.businessMinutes(from: Self.at("2026-05-04T00:00:00Z"), to: Self.at("2026-05-05T00:00:00Z")) == 480)
    }

    @Test func addingWorkingMinutesFindsTheFirstInstantThatHasThem() {
        let newYork = Self.calendar("America/New_York", Self.weekdays("08:00", "18:00"), holidays: ["2026-12-25"])
        let cases: [(String, Int, String)] = [
            ("2026-12-07T14:00:00Z", 60, "2026-12-07T15:00:00Z"),  // Monday 09:00 + 1 h
            ("2026-12-04T22:30:00Z", 60, "2026-12-07T13:30:00Z"),  // Friday 17:30 + 1 h → Monday 08:30
            ("2026-12-05T15:00:00Z", 0, "2026-12-07T13:00:00Z"),  // Saturday + 0 → Monday's opening
            ("2026-12-07T14:00:00Z", 540, "2026-12-07T23:00:00Z"),  // the rest of the day ends at the close, not the next opening
            ("2026-12-24T22:00:00Z", 120, "2026-12-28T14:00:00Z"),  // over the holiday
            ("2026-03-06T22:00:00Z", 120, "2026-03-09T13:00:00Z"),  // Friday 17:00 EST + 2 h → Monday 09:00 EDT
        ]
        for (start, minutes, due) in cases {
            #expect(newYork.date(addingBusinessMinutes: minutes, to: Self.at(start)) == Self.at(due), "\(start) + \(minutes)")
        }
        #expect(Self.calendar("UTC", []).date(addingBusinessMinutes: 10, to: Self.at("2026-12-07T00:00:00Z")) == nil)
    }

    /// The oracle against the stretches, a quarter hour at a time, over weeks that hold DST changes, in zones with
    /// whole-hour, half-hour and 30-minute-DST offsets, for office hours and overnight hours.
    @Test(arguments: ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo"])
    func agreesWithTheWallClockOracle(zone: String) {
        let shapes: [[BusinessDay]] = [
            Self.weekdays("08:30", "17:00"),
            Self.weekdays("21:00", "01:00") + [BusinessDay(weekday: 6, start: "10:00", end: "14:00")],
            (1...7).map { BusinessDay(weekday: $0, start: "00:00", end: "24:00") },
        ]
        let windows = [
            ("2026-03-05T00:00:00Z", "2026-03-11T00:00:00Z"), ("2026-03-26T00:00:00Z", "2026-04-07T00:00:00Z"),
            ("2026-10-01T00:00:00Z", "2026-10-07T00:00:00Z"), ("2026-10-23T00:00:00Z", "2026-11-03T00:00:00Z"),
        ]
        for days in shapes {
            let calendar = Self.calendar(zone, days, holidays: ["2026-03-30", "2026-11-02"])
            var oracle = Oracle(calendar)
            for (from, to) in windows {
                let start = Self.at(from), end = Self.at(to)
                let expected = oracle.minutes(from: start, to: end)
                #expect(calendar.businessMinutes(from: start, to: end) == expected, "\(zone) \(days.first!.start) \(from)")
                // Round trip: the due instant of N minutes holds N minutes and is the first such instant.
                for minutes in [1, 90, expected / 3, expected - 1] where minutes > 0 {
                    guard let due = calendar.date(addingBusinessMinutes: minutes, to: start) else {
                        Issue.record("no due date")
                        continue
                    }
                    #expect(calendar.businessMinutes(from: start, to: due) == minutes, "\(zone) +\(minutes)")
                    let endsOpen = oracle.isOpen(due.addingTimeInterval(-60))
                    #expect(endsOpen, "\(zone) +\(minutes) ends in working time")
                }
            }
        }
    }
}

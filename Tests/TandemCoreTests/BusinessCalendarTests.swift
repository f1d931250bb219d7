import Foundation
import TandemCore
import Testing

/// An internal location's working time: weekdays in its own time zone, holidays, the edges of the day.
@Suite struct BusinessCalendarTests {
    let newYork = BusinessCalendar(
        timeZone: "America/New_York", days: (1...5).map { BusinessDay(weekday: $0, start: "08:00", end: "18:00") }, holidays: ["2026-12-25"])!

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func opensOnWorkingHoursInItsOwnTimeZone() {
        let cases: [(String, Bool)] = [
            ("2026-12-07T13:00:00Z", true),  // Monday 08:00 in New York: opens
            ("2026-12-07T12:59:00Z", false),  // 07:59
            ("2026-12-07T22:59:00Z", true),  // 17:59
            ("2026-12-07T23:00:00Z", false),  // 18:00: closed
            ("2026-12-12T15:00:00Z", false),  // Saturday
            ("2026-12-13T15:00:00Z", false),  // Sunday
            ("2026-12-25T15:00:00Z", false),  // a Friday, but a holiday
            ("2026-12-26T02:00:00Z", false),  // Friday 21:00 local, already Saturday in UTC
            ("2026-07-06T12:30:00Z", true),  // Monday 08:30 in summer time (UTC-4)
        ]
        for (moment, open) in cases {
            #expect(newYork.isOpen(at: Self.at(moment)) == open, "\(moment)")
        }
        #expect(newYork.hours(at: Self.at("2026-12-07T15:00:00Z")) == .businessHours)
        #expect(newYork.hours(at: Self.at("2026-12-12T15:00:00Z")) == .afterHours)
    }

    @Test func refusesUnknownZonesAndBadTimes() {
        #expect(BusinessCalendar(timeZone: "Mars/Olympus", days: [], holidays: []) == nil)
        #expect(BusinessDay.minutes("08:30") == 510)
        #expect(BusinessDay.minutes("24:00") == 1440)
        for bad in ["8:30", "24:01", "12:60", "ab:cd", "", "12:30:00"] { #expect(BusinessDay.minutes(bad) == nil, "\(bad)") }
    }
}

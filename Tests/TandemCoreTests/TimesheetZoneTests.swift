import Foundation
import TandemCore
import Testing

/// A timesheet week's days in the person's time zone: Monday 00:00 there, a week of 167 or 169 hours across a DST
/// change, a late-evening entry that is already tomorrow in UTC counting today.
@Suite struct TimesheetZoneTests {
    let berlin = TimeZone(identifier: "Europe/Berlin")!, newYork = TimeZone(identifier: "America/New_York")!
    let utc = TimeZone(identifier: "UTC")!

    func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func line(_ text: String, _ minutes: Int = 60) -> TimesheetLine {
        TimesheetLine(workedAt: at(text), minutes: minutes, billable: false, amount: .zero)
    }

    @Test func aWeekStartsOnMondayMidnightWhereThePersonWorks() {
        let week = ISOWeek(year: 2026, week: 49)!
        #expect(week.start(in: utc) == at("2026-11-30T00:00:00Z") && week.start == week.start(in: utc))
        #expect(week.start(in: newYork) == at("2026-11-30T05:00:00Z") && week.end(in: newYork) == at("2026-12-07T05:00:00Z"))
        #expect(week.start(in: berlin) == at("2026-11-29T23:00:00Z"))
        // Spring forward (29 March 2026 in Berlin): the week is 167 hours; fall back (25 October): 169.
        let spring = ISOWeek(year: 2026, week: 13)!, autumn = ISOWeek(year: 2026, week: 43)!
        #expect(spring.end(in: berlin).timeIntervalSince(spring.start(in: berlin)) == 167 * 3600)
        #expect(autumn.end(in: berlin).timeIntervalSince(autumn.start(in: berlin)) == 169 * 3600)
        #expect(ISOWeek(containing: at("2026-12-07T01:00:00Z"), in: newYork).description == "2026-W49", "Sunday evening in New York")
        #expect(ISOWeek(containing: at("2026-12-07T01:00:00Z")).description == "2026-W50", "already Monday in UTC")
    }

    @Test func aLateEveningEntryCountsOnItsOwnDay() {
        let week = ISOWeek(year: 2026, week: 49)!
        // Tuesday 22:00 in New York is Wednesday 03:00 UTC; Sunday 20:00 is Monday 01:00 UTC (next week in UTC).
        let lines = [line("2026-12-02T03:00:00Z", 30), line("2026-12-07T01:00:00Z", 45), line("2026-11-30T04:00:00Z", 15)]
        let local = TimesheetTotals(week: week, lines: lines, in: newYork)
        #expect(local.days.map(\.minutes) == [0, 30, 0, 0, 0, 0, 45] && local.minutes == 75, "\(local.days)")
        #expect(local.days.first?.day == "2026-11-30" && local.days.last?.day == "2026-12-06")
        let inUTC = TimesheetTotals(week: week, lines: lines)
        #expect(inUTC.days.map(\.minutes) == [15, 0, 30, 0, 0, 0, 0] && inUTC.minutes == 45)
    }

    @Test func theDaysAcrossADSTChangeAreTheLocalDays() {
        // Week 13 of 2026 in Berlin: Monday 23 March 00:00 CET (22 March 23:00 UTC) to Monday 30 March 00:00 CEST (29 March 22:00 UTC).
        let spring = ISOWeek(year: 2026, week: 13)!
        let lines = [
            line("2026-03-22T23:30:00Z", 10),  // Monday 00:30 CET
            line("2026-03-29T21:30:00Z", 20),  // Sunday 23:30 CEST
            line("2026-03-29T22:30:00Z", 40),  // Monday 00:30 CEST: next week
            line("2026-03-22T22:30:00Z", 80),  // Sunday 23:30 CET: the week before
        ]
        let totals = TimesheetTotals(week: spring, lines: lines, in: berlin)
        #expect(totals.days.map(\.minutes) == [10, 0, 0, 0, 0, 0, 20] && totals.minutes == 30, "\(totals.days)")
        // Autumn (25 October): Sunday has 25 hours; 23:30 CET that Sunday is 22:30 UTC and still Sunday.
        let autumn = ISOWeek(year: 2026, week: 43)!
        let late = TimesheetTotals(week: autumn, lines: [line("2026-10-25T22:30:00Z", 5), line("2026-10-25T23:30:00Z", 7)], in: berlin)
        #expect(late.days.map(\.minutes) == [0, 0, 0, 0, 0, 0, 5], "\(late.days)")
    }

    @Test func aTimesheetStartIsMidnightOfItsDayThere() {
        #expect(TimesheetStart.moment("2026-12-03", in: newYork) == at("2026-12-03T05:00:00Z"))
        #expect(TimesheetStart.moment("2026-03-29", in: berlin) == at("2026-03-28T23:00:00Z"))
        #expect(TimesheetStart.moment("2026-02-30", in: berlin) == nil)
    }
}

import Foundation
import TandemCore
import Testing

/// Timesheet weeks (ISO 8601, UTC), their state machine, their totals, and a time entry's span.
@Suite struct TimesheetTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func weeksAreISOWeeksInUTC() throws {
        let week = try #require(ISOWeek(parsing: "2026-W49"))
        #expect(week.description == "2026-W49")
        #expect(week.start == Self.at("2026-11-30T00:00:00Z"))
        #expect(week.end == Self.at("2026-12-07T00:00:00Z"))
        #expect(week.days == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05", "2026-12-06"])
        #expect(ISOWeek(containing: Self.at("2026-12-06T23:59:59Z")) == week)
        #expect(ISOWeek(containing: Self.at("2026-12-07T00:00:00Z")) == week.next)
        // 1 January 2027 is a Friday: it belongs to 2026's week 53, and 2026 has 53 weeks.
        #expect(ISOWeek(containing: Self.at("2027-01-01T12:00:00Z")).description == "2026-W53")
        #expect(ISOWeek.weeks(in: 2026) == 53 && ISOWeek.weeks(in: 2025) == 52)
        #expect(ISOWeek(parsing: "2026-W01")!.start == Self.at("2025-12-29T00:00:00Z"))
        #expect(ISOWeek(parsing: "2026-W01")!.previous.description == "2025-W52")
        for bad in ["2025-W53", "2026-W00", "2026-W54", "2026W49", "2026-w49", "26-W49", "2026-W4", "2026-W049", "", "２０２６-W49"] {
            #expect(ISOWeek(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func theStateMachineSubmitsApprovesRejectsAndReopens() throws {
        #expect(try TimesheetStatus.open.after(.submit) == .submitted)
        #expect(try TimesheetStatus.submitted.after(.approve) == .approved)
        #expect(try TimesheetStatus.submitted.after(.reject) == .rejected)
        #expect(try TimesheetStatus.rejected.after(.submit) == .submitted, "a rejected week is open again")
        let refused: [(TimesheetStatus, TimesheetStatus.Action)] = [
            (.open, .approve), (.open, .reject), (.submitted, .submit), (.approved, .submit), (.approved, .approve), (.approved, .reject),
            (.rejected, .approve), (.rejected, .reject),
        ]
        for (state, action) in refused {
            #expect(throws: TandemError.self, "\(state) \(action)") { try state.after(action) }
        }
        do {
            _ = try TimesheetStatus.open.after(.approve)
        } catch {
            #expect(error == .conflict("the timesheet is open; it can only be submitted"))
        }
        #expect(TimesheetStatus.allCases.filter(\.locksEntries) == [.submitted, .approved])
    }

    @Test func totalsCountEachDayAndTheBillableAmount() throws {
        let week = try #require(ISOWeek(parsing: "2026-W49"))
        let lines = [
            TimesheetLine(workedAt: Self.at("2026-11-30T09:00:00Z"), minutes: 90, billable: true, amount: Money(cents: 15000)),
            TimesheetLine(workedAt: Self.at("2026-11-30T23:30:00Z"), minutes: 30, billable: false, amount: .zero),
            TimesheetLine(workedAt: Self.at("2026-12-06T23:59:00Z"), minutes: 15, billable: true, amount: Money(cents: 3)),
            // The week before and after are not counted.
            TimesheetLine(workedAt: Self.at("2026-11-29T23:59:00Z"), minutes: 60, billable: true, amount: Money(cents: 100)),
            TimesheetLine(workedAt: Self.at("2026-12-07T00:00:00Z"), minutes: 60, billable: true, amount: Money(cents: 100)),
        ]
        let totals = TimesheetTotals(week: week, lines: lines)
        #expect(totals.days.map(\.minutes) == [120, 0, 0, 0, 0, 0, 15])
        #expect(totals.minutes == 135 && totals.billableMinutes == 105)
        #expect(totals.amount == Money(cents: 15003))
    }

    @Test func aSpanIsMinutesOrAStartAndAnEnd() {
        func resolve(_ minutes: Int?, _ start: String?, _ end: String?) -> (TimeEntrySpan?, [String]) {
            var validator = FieldValidator()
            let span = TimeEntrySpan.resolve(minutes: minutes, startedAt: start.map(Self.at), endedAt: end.map(Self.at), validator: &validator)
            return (span, validator.errors.map(\.field))
        }
        #expect(resolve(30, nil, nil).0 == TimeEntrySpan(minutes: 30, startedAt: nil, endedAt: nil))
        #expect(resolve(nil, "2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z").0?.minutes == 90)
        #expect(resolve(90, "2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z").0?.minutes == 90)
        #expect(resolve(45, "2026-12-01T09:00:00Z", nil).0?.endedAt == Self.at("2026-12-01T09:45:00Z"))
        #expect(resolve(60, "2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z").1 == ["minutes"])
        #expect(resolve(nil, "2026-12-01T10:00:00Z", "2026-12-01T09:00:00Z").1 == ["endedAt"])
        #expect(resolve(nil, "2026-12-01T10:00:00Z", "2026-12-01T10:00:30Z").1 == ["endedAt"])
        #expect(resolve(nil, "2026-12-01T00:00:00Z", "2026-12-02T00:01:00Z").1 == ["endedAt"])
        #expect(resolve(nil, nil, "2026-12-01T10:00:00Z").1 == ["startedAt"])
        #expect(resolve(nil, nil, nil).1 == ["minutes"])
        #expect(resolve(0, nil, nil).1 == ["minutes"])
        #expect(resolve(nil, "2026-12-01T10:00:00Z", nil).1 == ["minutes"])
    }
}

@Suite struct UTCDayTests {
    @Test func readsRealDatesOnly() {
        #expect(UTCDay.start(of: "2026-12-01") == TimesheetTests.at("2026-12-01T00:00:00Z"))
        #expect(UTCDay.start(of: "2028-02-29") != nil)
        for bad in ["2026-02-29", "2026-13-01", "2026-12-32", "2026-1-01", "20261201", "2026-12-01T00:00:00Z", "", "0000-01-01"] {
            #expect(UTCDay.start(of: bad) == nil, "\(bad)")
        }
    }
}

import Foundation

/// An ISO 8601 week, `2026-W49`: Monday to Sunday. Without a zone its moments are UTC's; a timesheet's week is
/// the person's (`in:` variants; README "Time and billing"): Monday 00:00 where they work, so a week may be 167 or
/// 169 hours long across a DST change.
public struct ISOWeek: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var week: Int

    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    public init?(year: Int, week: Int) {
        guard (1...9999).contains(year), week >= 1, week <= Self.weeks(in: year) else { return nil }
        self.year = year
        self.week = week
    }

    /// The week a moment falls in (UTC).
    public init(containing date: Date) {
        let parts = Self.calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        year = parts.yearForWeekOfYear!
        week = parts.weekOfYear!
    }

    /// Reads `YYYY-Www` (`2026-W49`); nil for anything else, or a week the year does not have.
    public init?(parsing text: String) {
        let chars = Array(text.utf8)
        guard chars.count == 8, chars[4] == UInt8(ascii: "-"), chars[5] == UInt8(ascii: "W"),
            chars.enumerated().allSatisfy({ [4, 5].contains($0.offset) || (48...57).contains($0.element) }),
            let year = Int(text.prefix(4)), let week = Int(text.suffix(2))
        else { return nil }
        self.init(year: year, week: week)
    }

    /// 52 or 53: a year has 53 ISO weeks when its 28 December falls in week 53.
    public static func weeks(in year: Int) -> Int {
        guard let date = calendar.date(from: DateComponents(year: year, month: 12, day: 28)) else { return 52 }
        return calendar.component(.weekOfYear, from: date)
    }

    /// Monday 00:00 UTC.
    public var start: Date {
        Self.calendar.date(from: DateComponents(weekday: 2, weekOfYear: week, yearForWeekOfYear: year))!
    }

    /// The next Monday 00:00 UTC (exclusive).
    public var end: Date { start.addingTimeInterval(7 * 86_400) }

    /// The seven days, Monday first, as `YYYY-MM-DD`.
    public var days: [String] { (0..<7).map { Self.day(of: start.addingTimeInterval(Double($0) * 86_400)) } }

    public var previous: ISOWeek { ISOWeek(containing: start.addingTimeInterval(-86_400)) }
    public var next: ISOWeek { ISOWeek(containing: end) }

    /// The UTC day of a moment, `YYYY-MM-DD`.
    public static func day(of date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    public var description: String { String(format: "%04d-W%02d", year, week) }

    // MARK: In a time zone

    /// The ISO calendar of a zone.
    public static func calendar(in zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = zone
        return calendar
    }

    /// The week a moment falls in where the clock reads `zone`'s time.
    public init(containing date: Date, in zone: TimeZone) {
        let parts = Self.calendar(in: zone).dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        year = parts.yearForWeekOfYear!
        week = parts.weekOfYear!
    }

    /// Monday 00:00 in `zone` (the first moment of Monday there, should a DST change skip midnight).
    public func start(in zone: TimeZone) -> Date {
        let calendar = Self.calendar(in: zone)
        let monday = DateComponents(year: Int(days[0].prefix(4)), month: Int(days[0].dropFirst(5).prefix(2)), day: Int(days[0].suffix(2)))
        return calendar.startOfDay(for: calendar.date(from: monday.with(hour: 12))!)
    }

    /// The next Monday 00:00 in `zone` (exclusive).
    public func end(in zone: TimeZone) -> Date { next.start(in: zone) }

    /// The day of a moment in `zone`, `YYYY-MM-DD`.
    public static func day(of date: Date, in zone: TimeZone) -> String {
        let parts = calendar(in: zone).dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.year, lhs.week) < (rhs.year, rhs.week) }
}

/// A timesheet's state (Autotask). MSP resources submit a week; an approver approves or rejects it; a
/// rejected week is open again (it keeps the approver's reason until it is submitted again). Time entries
/// of a submitted or approved week are locked. Co-managing users' timesheets are never submitted: they
/// stay open and have viewers instead of approvers.
public enum TimesheetStatus: String, Codable, Sendable, CaseIterable {
    case open, submitted, approved, rejected

    public enum Action: String, Sendable, CaseIterable {
        case submit, approve, reject
    }

    /// The state after `action`, or the refusal naming what the week's state allows.
    public func after(_ action: Action) throws(TandemError) -> TimesheetStatus {
        if let next = transitions[action] { return next }
        let allowed = Action.allCases.filter { transitions[$0] != nil }.map { Self.pastTense($0.rawValue) }
        throw .conflict("the timesheet is \(rawValue); it can only be \(allowed.isEmpty ? "left as it is" : allowed.joined(separator: " or "))")
    }

    /// The state machine, one state's moves at a time.
    private var transitions: [Action: TimesheetStatus] {
        switch self {
        case .open, .rejected: [.submit: .submitted]
        case .submitted: [.approve: .approved, .reject: .rejected]
        case .approved: [:]
        }
    }

    private static func pastTense(_ action: String) -> String {
        switch action {
        case "submit": "submitted"
        case "approve": "approved"
        default: "rejected"
        }
    }

    /// Whether the week's time entries are locked (no time added, changed or removed in it).
    public var locksEntries: Bool { self == .submitted || self == .approved }
}

/// One time entry as a timesheet counts it.
public struct TimesheetLine: Sendable, Equatable {
    public var workedAt: Date
    public var minutes: Int
    public var billable: Bool
    public var amount: Money

    public init(workedAt: Date, minutes: Int, billable: Bool, amount: Money) {
        self.workedAt = workedAt
        self.minutes = minutes
        self.billable = billable
        self.amount = amount
    }
}

/// A week's totals: minutes per day (Monday first), all, billable, and the billable amount (the sum of the
/// entries' rounded amounts).
public struct TimesheetTotals: Sendable, Equatable {
    public var days: [(day: String, minutes: Int)]
    public var minutes: Int
    public var billableMinutes: Int
    public var amount: Money

    /// `zone`: the person's; each line counts on its day there.
    public init(week: ISOWeek, lines: [TimesheetLine], in zone: TimeZone = TimeZone(identifier: "UTC")!) {
        let dayNames = week.days
        var perDay = [Int](repeating: 0, count: 7)
        var total = 0, billable = 0
        var amounts: [Money] = []
        let start = week.start(in: zone), end = week.end(in: zone)
        for line in lines where line.workedAt >= start && line.workedAt < end {
            guard let index = dayNames.firstIndex(of: ISOWeek.day(of: line.workedAt, in: zone)) else { continue }
            perDay[index] += line.minutes
            total += line.minutes
            if line.billable {
                billable += line.minutes
                amounts.append(line.amount)
            }
        }
        days = zip(dayNames, perDay).map { (day: $0.0, minutes: $0.1) }
        minutes = total
        billableMinutes = billable
        amount = Money.sum(amounts)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.days.map(\.day) == rhs.days.map(\.day) && lhs.days.map(\.minutes) == rhs.days.map(\.minutes) && lhs.minutes == rhs.minutes
            && lhs.billableMinutes == rhs.billableMinutes && lhs.amount == rhs.amount
    }
}

/// Calendar days in UTC, `YYYY-MM-DD` (contract periods).
public enum UTCDay {
    /// 00:00 UTC of the day; nil unless the text is a real date written `YYYY-MM-DD`.
    public static func start(of day: String) -> Date? {
        let bytes = Array(day.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes.enumerated().allSatisfy({ [4, 7].contains($0.offset) || (48...57).contains($0.element) }),
            let year = Int(day.prefix(4)), let month = Int(day.dropFirst(5).prefix(2)), let date = Int(day.suffix(2)), year >= 1
        else { return nil }
        let parts = DateComponents(year: year, month: month, day: date)
        guard parts.isValidDate(in: ISOWeek.calendar), let start = ISOWeek.calendar.date(from: parts) else { return nil }
        return start
    }
}

extension DateComponents {
    fileprivate func with(hour: Int) -> DateComponents {
        var copy = self
        copy.hour = hour
        return copy
    }
}

/// A co-managing user's `timesheetStart` (Autotask): the day their timesheets begin. Time worked before it is on no
/// timesheet.
public enum TimesheetStart {
    /// 00:00 of `day` (`YYYY-MM-DD`) in `zone`; nil unless it is a real date.
    public static func moment(_ day: String, in zone: TimeZone) -> Date? {
        guard UTCDay.start(of: day) != nil else { return nil }
        let calendar = ISOWeek.calendar(in: zone)
        let parts = DateComponents(year: Int(day.prefix(4)), month: Int(day.dropFirst(5).prefix(2)), day: Int(day.suffix(2)), hour: 12)
        return calendar.date(from: parts).map { calendar.startOfDay(for: $0) }
    }
}

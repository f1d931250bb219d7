import Fluent
import Foundation
import TandemCore
import Vapor

/// The time zone a person's pages show times in and read typed times (`datetime-local`) in, as Autotask shows each
/// resource times in their own zone: an MSP resource's `timeZone`, a co-managing user's internal location's, else
/// UTC (contacts, and everyone without one). The API stays in UTC (ISO 8601 with `Z`).
struct PageZone: Sendable, Equatable, Encodable {
    var zone: TimeZone
    /// The IANA name, or `UTC`.
    var name: String

    static let utc = PageZone(zone: TimeZone(identifier: "UTC")!, name: "UTC")

    /// The zone of an IANA name as stored (a timesheet's), UTC when it names none.
    init(named name: String?) {
        self.init(Timesheets.Calendar(name: name, startsOn: nil))
    }

    /// The zone a timesheet calendar resolved.
    init(_ calendar: Timesheets.Calendar) {
        self.init(zone: calendar.zone, name: calendar.name)
    }

    init(zone: TimeZone, name: String) {
        self.zone = zone
        self.name = name
    }

    /// The signed-in person's zone, as their timesheet has it (a contact is neither kind of person: UTC).
    static func of(_ principal: Principal, on db: any Database) async throws -> PageZone {
        PageZone(try await Timesheets.calendar(of: principal.id, on: db))
    }

    /// In a template, the zone's IANA name.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    /// "6 Dec 2026, 09:30 EST" (ICU's short name: `EST`, `GMT+1`), or "… UTC".
    func format(_ date: Date) -> String {
        formatter(name == "UTC" ? "d MMM yyyy, HH:mm 'UTC'" : "d MMM yyyy, HH:mm zzz").string(from: date)
    }

    /// The value of a `datetime-local` field for `date`: wall-clock time here, to the minute.
    func fieldValue(_ date: Date) -> String {
        formatter("yyyy-MM-dd'T'HH:mm").string(from: date)
    }

    /// A `datetime-local` value (or a bare date, at midnight) read as wall-clock time here: exactly
    /// `yyyy-MM-ddTHH:mm[:ss]` or `yyyy-MM-dd`, as browsers send them (a year of more digits is refused, not
    /// read: one past 294,000 overflows PostgreSQL's timestamps). A time the clocks skip (the hour a daylight-saving
    /// change leaves out) reads as the moment after it, as calendars take it; a date its month lacks is refused.
    func parseField(_ text: String) -> Date? {
        guard let match = text.wholeMatch(of: /([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?/) else { return nil }
        let parts = DateComponents(
            year: Int(match.1), month: Int(match.2), day: Int(match.3), hour: match.4.flatMap { Int($0) } ?? 0,
            minute: match.5.flatMap { Int($0) } ?? 0, second: match.6.flatMap { Int($0) } ?? 0)
        guard let year = parts.year, year >= 1, let month = parts.month, (1...12).contains(month), let day = parts.day, day >= 1,
            let hour = parts.hour, hour < 24, let minute = parts.minute, minute < 60, let second = parts.second, second < 60
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // February 30 would roll over to March; refused instead.
        guard let noon = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12)),
            calendar.component(.day, from: noon) == day
        else { return nil }
        calendar.timeZone = zone
        return calendar.date(from: parts)
    }

    private func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = format
        return formatter
    }
}

extension Request {
    private struct PageZoneKey: StorageKey { typealias Value = PageZone }

    /// The zone of the person signed in to the pages (`PageSessionMiddleware` sets it); UTC elsewhere.
    var pageZone: PageZone {
        get { storage[PageZoneKey.self] ?? .utc }
        set { storage[PageZoneKey.self] = newValue }
    }
}

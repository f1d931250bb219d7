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

    /// A `datetime-local` value (or a bare date, at midnight) read as wall-clock time here.
    func parseField(_ text: String) -> Date? {
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"] {
            if let date = formatter(format).date(from: text) { return date }
        }
        return nil
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

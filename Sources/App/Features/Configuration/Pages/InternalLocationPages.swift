import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/internal-locations`: the MSP's offices, each with its time zone, business hours per weekday and
/// holidays (the business hours SLA targets and notification rules count in).
enum InternalLocationPages: ConfigurationPage {
    typealias Collection = InternalLocationsCollection
    static let path = "internal-locations"
    static let title = "Internal locations"
    static let intro = "Business hours are counted in an internal location's time zone, on its working days, except its holidays."
    static let columns = ["Time zone", "Business hours", "Holidays"]
    static let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    static func cells(_ dto: InternalLocationDTO) -> [String] {
        let hours = dto.businessHours.sorted { $0.weekday < $1.weekday }
            .map { "\(weekdays.indices.contains($0.weekday - 1) ? String(weekdays[$0.weekday - 1].prefix(3)) : "?") \($0.start)–\($0.end)" }
        return [dto.timeZone, hours.isEmpty ? "None" : hours.joined(separator: ", "), String(dto.holidays.count)]
    }

    static func values(_ dto: InternalLocationDTO?) -> [String: String] {
        var values = ["name": dto?.name ?? "", "timeZone": dto?.timeZone ?? "", "holidays": (dto?.holidays ?? []).joined(separator: "\n")]
        // A new location starts with the working week most offices keep.
        let days = dto?.businessHours ?? (1...5).map { BusinessDay(weekday: $0, start: "09:00", end: "17:00") }
        for weekday in 1...7 {
            let day = days.first { $0.weekday == weekday }
            values["open\(weekday)"] = day == nil ? nil : "on"
            values["start\(weekday)"] = day?.start ?? "09:00"
            values["end\(weekday)"] = day?.end ?? "17:00"
        }
        return values
    }

    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field] {
        let days = (1...7).map { weekday in
            ConfigurationPages.Day(
                weekday: weekday, label: weekdays[weekday - 1], open: AdminPages.ticked(values["open\(weekday)"]), start: values["start\(weekday)"] ?? "",
                end: values["end\(weekday)"] ?? "",
                error: [problems["day\(weekday)"], problems["start\(weekday)"], problems["end\(weekday)"]].compactMap { $0 }.joined(separator: " ").nonEmpty)
        }
        return [
            ConfigurationPages.Field(name: "name", label: "Name", value: values["name"] ?? "", error: problems["name"], maxLength: 100),
            ConfigurationPages.Field(
                name: "timeZone", label: "Time zone", value: values["timeZone"] ?? "", hint: "IANA name, such as America/New_York",
                error: problems["timeZone"], maxLength: 64, suggestions: TimeZone.knownTimeZoneIdentifiers.sorted()),
            ConfigurationPages.Field(name: "hours", label: "Business hours", kind: "hours", error: problems["hours"], days: days),
            ConfigurationPages.Field(
                name: "holidays", label: "Holidays", kind: "lines", value: values["holidays"] ?? "", hint: "one date a line, YYYY-MM-DD",
                error: problems["holidays"]),
        ]
    }

    /// The ticked weekdays, in order: the API's `businessHours`, whose indexes its problems name.
    static func openDays(_ values: [String: String]) -> [Int] {
        (1...7).filter { AdminPages.ticked(values["open\($0)"]) }
    }

    static func input(_ values: [String: String]) throws -> InternalLocationInput {
        var input = InternalLocationInput()
        input.name = .value(values["name"] ?? "")
        input.timeZone = .value(values["timeZone"] ?? "")
        input.businessHours = .value(
            openDays(values).map {
                BusinessDay(weekday: $0, start: Whitespace.trim(values["start\($0)"] ?? ""), end: Whitespace.trim(values["end\($0)"] ?? ""))
            })
        input.holidays = .value(
            (values["holidays"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," }).map { Whitespace.trim(String($0)) }.filter { !$0.isEmpty })
        return input
    }

    static func formField(_ field: String, _ values: [String: String]) -> String {
        if field.hasPrefix("holidays") { return "holidays" }
        guard let match = field.firstMatch(of: /^businessHours\[(\d+)\](?:\.(\w+))?$/), let index = Int(match.1) else {
            return field == "businessHours" ? "hours" : field
        }
        let days = openDays(values)
        guard days.indices.contains(index) else { return "hours" }
        switch match.2.map(String.init) ?? "" {
        case "start": return "start\(days[index])"
        case "end": return "end\(days[index])"
        default: return "day\(days[index])"
        }
    }

    static func consequences(_ row: InternalLocation, by principal: Principal, on db: any Database) async throws -> [String] {
        let sites = try await Site.query(on: db).filter(\.$internalLocationId == row.id!)
            .filter(AccessPolicy.organizationScope(for: principal, area: .sites, .view), on: Site.scopeTable).count()
        let holders = try await CoManagingUser.query(on: db).filter(\.$internalLocationId == row.id!).all(\.$id)
        let users = try await PeopleDirectory.visible(holders, kind: .coManagingUser, to: principal, on: db).count
        return [
            "Sites you can see that use it: \(sites). They are left without an internal location.",
            "Co-managing users you can see with it: \(users). They are left without one.",
        ]
    }
}

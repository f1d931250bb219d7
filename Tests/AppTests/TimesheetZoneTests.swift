import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Timesheet days in the person's time zone through the API (an MSP resource's `timeZone`, a co-managing user's
/// internal location), the locks that follow those weeks, and a co-managing user's `timesheetStart`. SQLite and
/// PostgreSQL.
@Suite struct TimesheetZoneTests {
    @Test func aResourcesWeekIsTheirTimeZones() async throws {
        try await withApp { t in
            let ticket = try await t.ticket(try await t.organization("Contoso")).id
            let tara = try await t.resource("tara")
            #expect(try await t.get("/api/v1/resources/\(tara.id)").json["timeZone"] == .null, "no zone: UTC")
            expectProblem(try await t.patch("/api/v1/resources/\(tara.id)", ["timeZone": "Mars/Olympus"]), .unprocessableEntity, field: "timeZone")
            let zoned = try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara.id)", ["timeZone": "America/New_York"])
            #expect(zoned["timeZone"] == "America/New_York")
            let path = "/api/v1/tickets/\(ticket)/time-entries"
            // Tuesday 22:00 in New York (Wednesday 03:00 UTC) and Sunday 20:00 (Monday 01:00 UTC, the next week in UTC).
            try await t.create(path, ["startedAt": "2026-12-02T03:00:00Z", "minutes": 30, "summary": "Late call"], as: tara.token)
            let sunday = try await t.create(path, ["startedAt": "2026-12-07T01:00:00Z", "minutes": 45, "summary": "Weekend patching"], as: tara.token).id
            let sheet = try await t.get("/api/v1/timesheets?week=2026-W49", as: tara.token).json
            #expect(sheet["timeZone"] == "America/New_York" && sheet["minutes"] == 75, "\(sheet)")
            #expect(sheet["days"].array.map { $0["minutes"].int ?? -1 } == [0, 30, 0, 0, 0, 0, 45], "\(sheet)")
            #expect(sheet["days"][6]["date"] == "2026-12-06")
            #expect(try await t.get("/api/v1/timesheets?week=2026-W50", as: tara.token).json["minutes"] == 0)
            // The lock follows her week: W49 submitted locks Sunday evening's entry, though it is Monday in UTC.
            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token)
            expectProblem(try await t.patch("\(path)/\(sunday)", ["minutes": 50], as: tara.token), .conflict, contains: "2026-W49")
            expectProblem(
                try await t.post(path, ["startedAt": "2026-12-07T04:59:00Z", "minutes": 1, "summary": "Still Sunday"], as: tara.token), .conflict,
                contains: "2026-W49")
            try await t.create(path, ["startedAt": "2026-12-07T05:00:00Z", "minutes": 1, "summary": "Monday 00:00"], as: tara.token)
            // Removing the zone: UTC again.
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara.id)", ["timeZone": .null])
            #expect(try await t.get("/api/v1/timesheets?week=2026-W49", as: tara.token).json["timeZone"] == "UTC")
        }
    }

    @Test func aCoManagingUsersDaysAreTheirLocationsAndStartWithTheirTimesheetStart() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let queue = try await t.queue("Service desk")
            let role = try await t.create("/api/v1/roles", ["name": "Client IT", "hourlyRate": 0]).id
            let berlin = try await t.create("/api/v1/internal-locations", ["name": "Berlin", "timeZone": "Europe/Berlin"]).id
            let nina = try await t.coManagingUser(
                "nina", organizationId: northwind, queueIds: [queue],
                extra: ["roleIds": [.string(role)], "internalLocationId": .string(berlin), "timesheetStart": "2026-03-25"]
            ).id
            try await t.setUp(northwind, users: [nina])
            let token = try await t.loginCoManaging(nina, "nina")
            let ticket = try await t.ticket(northwind, extra: ["coManagedVisible": true]).id
            let path = "/api/v1/tickets/\(ticket)/time-entries"
            // Week 13 of 2026 across the spring DST change in Berlin; her timesheets start on Wednesday 25 March.
            for (at, minutes) in [
                ("2026-03-24T10:00:00Z", 5),  // Tuesday: before her timesheets start
                ("2026-03-24T23:30:00Z", 10),  // Wednesday 00:30 CET
                ("2026-03-29T21:30:00Z", 20),  // Sunday 23:30 CEST
                ("2026-03-29T22:30:00Z", 40),  // Monday 00:30 CEST: week 14
            ] {
                try await t.create(path, ["startedAt": .string(at), "minutes": .number(Double(minutes)), "summary": "Work"], as: token)
            }
            let sheet = try await t.get("/api/v1/timesheets?week=2026-W13", as: token).json
            #expect(sheet["timeZone"] == "Europe/Berlin" && sheet["startsOn"] == "2026-03-25", "\(sheet)")
            #expect(sheet["days"].array.map { $0["minutes"].int ?? -1 } == [0, 0, 10, 0, 0, 0, 20] && sheet["entries"].array.count == 2, "\(sheet)")
            #expect(try await t.get("/api/v1/timesheets?week=2026-W12", as: token).json["minutes"] == 0, "before her timesheets start")
            #expect(try await t.get("/api/v1/timesheets?week=2026-W14", as: token).json["minutes"] == 40)
        }
    }

    @Test func theResourceFormTakesATimeZone() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let form = try await t.page("/admin/resources/new", session: admin)
            #expect(form.text.contains("name=\"timeZone\"") && form.text.contains("Europe/Berlin"), "the field and its suggestions")
            let refused = try await t.submitForm(
                "/admin/resources/new", try await AdminPageTests.technicianForm(t, username: "zed", [("allCustomers", "yes"), ("timeZone", "Mars/Olympus")]),
                session: admin)
            #expect(refused.status == .unprocessableEntity && refused.text.contains("is not an IANA time zone"), "\(refused)")
            #expect(refused.text.contains("value=\"Mars/Olympus\""))
            let created = try await t.submitForm(
                "/admin/resources/new", try await AdminPageTests.technicianForm(t, username: "zed", [("allCustomers", "yes"), ("timeZone", "Europe/Berlin")]),
                session: admin)
            #expect(created.status == .seeOther, "\(created)")
            let items = try await t.get("/api/v1/resources?limit=200").json["items"].array
            #expect(items.first { $0["username"] == "zed" }?["timeZone"] == "Europe/Berlin", "\(items)")
        }
    }

    @Test func theCurrentWeekIsThePersonsWeekNow() async throws {
        // Monday 7 December 2026, 02:00 UTC: still Sunday evening (week 49) in New York, week 50 in UTC.
        try await withApp(clock: SetClock(ISO8601DateFormatter().date(from: "2026-12-07T02:00:00Z")!)) { t in
            let tara = try await t.resource("tara")
            #expect(try await t.get("/api/v1/timesheets", as: tara.token).json["week"] == "2026-W50")
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tara.id)", ["timeZone": "America/New_York"])
            #expect(try await t.get("/api/v1/timesheets", as: tara.token).json["week"] == "2026-W49")
            #expect(try await t.get("/api/v1/timesheets?personId=\(tara.id)").json["week"] == "2026-W49", "her week, whoever reads it")
        }
    }
}

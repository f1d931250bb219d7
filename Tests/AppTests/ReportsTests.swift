import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// `GET /api/v1/reports/organizations/{id}` and the report pages (issue 21): figures checked against a fixture whose
/// answers are worked out by hand below, on SQLite and PostgreSQL; a co-managing user's report against the
/// administrator's report of the tickets and time entries that user lists through the API; and a matrix over
/// principals and organizations.
@Suite struct ReportsTests {
    static let start = "2026-04-01T06:00:00Z"

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Moves the clock to `text`. The fixture starts at `start`, after every time it sets, so the tokens of the
    /// logins made there (valid for 12 hours after) stay valid while the clock goes back.
    static func set(_ clock: SetClock, _ text: String) {
        clock.advance(by: date(text).timeIntervalSince(clock.now()))
    }

    /// The fixture: Contoso (co-managed) with five tickets about March 2026, Fabrikam with one.
    ///
    /// | ticket | opened (UTC)     | co-managed | first response (note to all)      | resolved or closed              |
    /// |--------|------------------|------------|-----------------------------------|---------------------------------|
    /// | A      | 03-02 09:00      | yes        | 09:30 by admin: 30 min            | resolved 03-02 11:00: 120 min   |
    /// | B      | 03-02 10:00      | no         | internal 10:05 (no); 11:30: 90 min | —                              |
    /// | C      | 03-05 08:00      | yes        | 08:10 by the co-managing user: 10 | resolved 09:00 (60), closed 10:00 |
    /// | D      | 02-27 09:00      | yes        | —                                 | resolved 03-02 09:00: 4320 min  |
    /// | E      | 03-31 23:59      | yes        | none (awaiting)                   | —                               |
    /// | G      | 04-01 00:00      | yes        | (April)                           | —                               |
    /// | F      | Fabrikam, 03-10  | —          | 10 min                            | resolved                        |
    ///
    /// March for the administrator: opened A B C E = 4; closed D A C = 3; first response 30, 90, 10 (median 30,
    /// average 43.3) and E awaiting; resolution 4320, 120, 60 (median 120, average 1500). Time (logged in March):
    /// Engineer 60 (A, internal) + 30 (C, all) = 90 in 2 entries; no role 15 (B); A's 45 of February does not count.
    /// For the co-managing user (B hidden, internal time hidden): opened A C E = 3; first response 30, 10 (median and
    /// average 20), E awaiting; closed 3 as above; Engineer 30 in 1 entry.
    struct World {
        var contoso = "", fabrikam = ""
        var tickets: [String: String] = [:]
        var engineer = ""
        var coUser = "", coToken = ""
    }

    static func world(_ t: TestApp, _ clock: SetClock) async throws -> World {
        var w = World()
        try await t.setCoManagement(enabled: true)
        w.contoso = try await t.coManagedOrganization("Contoso")
        w.fabrikam = try await t.organization("Fabrikam")
        w.engineer = try await t.role("Engineer")
        let queue = try await t.queue("Service Desk")
        w.coUser = try await t.coManagingUser("lena", organizationId: w.contoso, queueIds: [queue], extra: ["roleIds": [.string(w.engineer)]]).id
        try await t.setUp(w.contoso, users: [w.coUser])
        w.coToken = try await t.loginCoManaging(w.coUser, "lena")

        func ticket(_ name: String, _ organization: String, _ at: String, visible: Bool = true) async throws -> String {
            set(clock, at)
            let id = try await t.ticket(organization, "Ticket \(name)", extra: ["coManagedVisible": .bool(visible)]).id
            w.tickets[name] = id
            return id
        }
        func note(_ ticket: String, _ at: String, _ publishTo: String, as token: String? = nil) async throws {
            set(clock, at)
            try await t.note(ticket, "Update", publishTo: publishTo, as: token)
        }
        func status(_ ticket: String, _ at: String, _ status: String) async throws {
            set(clock, at)
            _ = try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["status": .string(status)])
        }
        func time(_ ticket: String, _ at: String, minutes: Int, role: String?, publishTo: String) async throws {
            var body: JSON = ["minutes": .number(Double(minutes)), "summary": "Work", "publishTo": .string(publishTo)]
            if let role { body = body.merging(["roleId": .string(role)]) }
            let id = try await t.create("/api/v1/tickets/\(ticket)/time-entries", body).id
            // A time entry's time is the clock's only through its events; its row keeps when it was written.
            try await t.db.sql.raw(
                "UPDATE time_entries SET created_at = \(bind: date(at)), worked_at = \(bind: date(at)) WHERE id = \(bind: UUID(uuidString: id)!)"
            ).run()
        }

        let d = try await ticket("D", w.contoso, "2026-02-27T09:00:00Z")
        let a = try await ticket("A", w.contoso, "2026-03-02T09:00:00Z")
        try await note(a, "2026-03-02T09:30:00Z", "all")
        try await status(d, "2026-03-02T09:00:00Z", "resolved")
        let b = try await ticket("B", w.contoso, "2026-03-02T10:00:00Z", visible: false)
        try await note(b, "2026-03-02T10:05:00Z", "internal")
        try await status(a, "2026-03-02T11:00:00Z", "resolved")
        try await note(b, "2026-03-02T11:30:00Z", "all")
        try await note(a, "2026-03-02T12:00:00Z", "all")  // not the first response
        let c = try await ticket("C", w.contoso, "2026-03-05T08:00:00Z")
        try await note(c, "2026-03-05T08:10:00Z", "all", as: w.coToken)
        try await status(c, "2026-03-05T09:00:00Z", "resolved")
        try await status(c, "2026-03-05T10:00:00Z", "closed")
        let e = try await ticket("E", w.contoso, "2026-03-31T23:59:00Z")
        try await note(e, "2026-04-01T00:30:00Z", "internal")
        _ = try await ticket("G", w.contoso, "2026-04-01T00:00:00Z")
        let f = try await ticket("F", w.fabrikam, "2026-03-10T08:00:00Z")
        try await note(f, "2026-03-10T08:10:00Z", "all")
        try await status(f, "2026-03-10T09:00:00Z", "resolved")

        try await time(a, "2026-03-02T10:00:00Z", minutes: 60, role: w.engineer, publishTo: "internal")
        try await time(a, "2026-02-28T10:00:00Z", minutes: 45, role: w.engineer, publishTo: "all")
        try await time(c, "2026-03-05T08:30:00Z", minutes: 30, role: w.engineer, publishTo: "all")
        try await time(b, "2026-03-02T10:30:00Z", minutes: 15, role: nil, publishTo: "internalAndCoManaged")
        try await time(f, "2026-03-10T08:30:00Z", minutes: 99, role: w.engineer, publishTo: "all")
        set(clock, start)
        return w
    }

    static func report(_ t: TestApp, _ organization: String, _ query: String = "?period=2026-03", as token: String? = nil) async throws -> JSON {
        let reply = try await t.get("/api/v1/reports/organizations/\(organization)\(query)", as: token)
        expectStatus(reply, .ok)
        return reply.json
    }

    // MARK: Figures

    @Test func theFiguresMatchTheHandComputedFixture() async throws {
        let clock = SetClock(Self.date(Self.start))
        try await withApp(clock: clock) { t in
            let w = try await Self.world(t, clock)
            let report = try await Self.report(t, w.contoso)

            #expect(report["organizationId"] == .string(w.contoso) && report["organizationName"] == "Contoso")
            #expect(report["period"]["from"] == "2026-03-01" && report["period"]["to"] == "2026-03-31" && report["period"]["month"] == "2026-03")
            #expect(report["period"]["timeZone"] == "UTC" && report["period"]["bucket"] == "day" && report["period"]["label"] == "March 2026")
            #expect(report["tickets"]["opened"] == 4 && report["tickets"]["closed"] == 3)
            let series = report["tickets"]["series"].array
            try #require(series.count == 31)
            #expect(series.first?["start"] == "2026-03-01")
            #expect(series[1]["opened"] == 2 && series[1]["closed"] == 2 && series[1]["medianResolutionHours"] == .number((72 + 2) / 2))
            #expect(series[4]["opened"] == 1 && series[4]["closed"] == 1 && series[4]["medianResolutionHours"] == 1)
            #expect(series[30]["opened"] == 1 && series[30]["closed"] == 0 && series[30]["medianResolutionHours"].isNull)
            #expect(series.map { $0["opened"].double ?? 0 }.reduce(0, +) == 4 && series.map { $0["closed"].double ?? 0 }.reduce(0, +) == 3)

            #expect(report["firstResponse"]["responded"] == 3 && report["firstResponse"]["awaiting"] == 1)
            #expect(report["firstResponse"]["medianMinutes"] == 30)
            #expect(abs((report["firstResponse"]["averageMinutes"].double ?? 0) - 130.0 / 3) < 0.001)
            #expect(report["resolution"]["resolved"] == 3 && report["resolution"]["medianMinutes"] == 120 && report["resolution"]["averageMinutes"] == 1500)

            #expect(report["timeByRole"]["totalMinutes"] == 105)
            let roles = report["timeByRole"]["roles"].array
            #expect(roles.map { $0["roleName"].string ?? "" } == ["Engineer", "No role"])
            #expect(roles.first?["roleId"] == .string(w.engineer) && roles.first?["minutes"] == 90 && roles.first?["entries"] == 2)
            #expect(roles.last?["roleId"].isNull == true && roles.last?["minutes"] == 15 && roles.last?["entries"] == 1)

            #expect(report["licenses"]["active"] == 1 && report["licenses"]["inactive"] == 0)
            // Billing (the administrator sees it): A's hour and 30 minutes as Engineer at 120/h are billable (the 15 minutes without a
            // role are not): 180.00, and 1.5 block hours at the multiplier 1. No SLA policy: no verdicts.
            #expect(report["billing"]["billableMinutes"] == 90 && report["billing"]["amount"] == 180 && report["billing"]["blockHoursUsed"] == 1.5)
            #expect(report["slaCompliance"]["tickets"] == 0 && report["slaCompliance"]["targets"].array.count == 2)

            // February holds D's opening and A's 45 minutes; April holds G.
            let february = try await Self.report(t, w.contoso, "?period=2026-02")
            #expect(february["tickets"]["opened"] == 1 && february["tickets"]["closed"] == 0 && february["firstResponse"]["awaiting"] == 1)
            #expect(february["timeByRole"]["totalMinutes"] == 45 && february["period"]["to"] == "2026-02-28")
            let april = try await Self.report(t, w.contoso, "?period=2026-04")
            #expect(april["tickets"]["opened"] == 1 && april["tickets"]["closed"] == 0 && april["timeByRole"]["roles"] == [])
            // A range: the first week of March, both days included.
            let week = try await Self.report(t, w.contoso, "?from=2026-03-02&to=2026-03-05")
            #expect(week["tickets"]["opened"] == 3 && week["tickets"]["closed"] == 3 && week["period"]["month"].isNull)
            #expect(week["tickets"]["series"].array.count == 4 && week["resolution"]["medianMinutes"] == 120)
            // Fabrikam counts only its own.
            let fabrikam = try await Self.report(t, w.fabrikam)
            #expect(fabrikam["tickets"]["opened"] == 1 && fabrikam["resolution"]["medianMinutes"] == 60 && fabrikam["firstResponse"]["medianMinutes"] == 10)
            #expect(fabrikam["timeByRole"]["totalMinutes"] == 99 && fabrikam["licenses"]["active"] == 0)
        }
    }

    /// A co-managing user's report is the administrator's report of exactly the tickets and time entries the user
    /// lists through the API: neither more nor less.
    @Test func aCoManagingUsersReportIsTheAdministratorsReportOfWhatTheySee() async throws {
        let clock = SetClock(Self.date(Self.start))
        try await withApp(clock: clock) { t in
            let w = try await Self.world(t, clock)
            let listed = try await t.get("/api/v1/tickets?organizationId=\(w.contoso)&limit=200", as: w.coToken).json["items"].array
            let ticketIds = Set(listed.compactMap { $0["id"].string.flatMap(UUID.init(uuidString:)) })
            #expect(ticketIds.count == 5 && !ticketIds.contains(UUID(uuidString: w.tickets["B"]!)!), "A, C, D, E, G; not B")
            var timeEntryIds = Set<UUID>()
            for id in ticketIds {
                let entries = try await t.get("/api/v1/tickets/\(id)/time-entries?limit=200", as: w.coToken).json["items"].array
                timeEntryIds.formUnion(entries.compactMap { $0["id"].string.flatMap(UUID.init(uuidString:)) })
            }
            #expect(timeEntryIds.count == 2, "C's 30 and A's 45 of February; not A's internal hour")

            let admin = try await t.adminPrincipal()
            let coUser = try #require(try await PrincipalLoader.load(id: UUID(uuidString: w.coUser)!, kind: .coManagingUser, on: t.db))
            let organization = UUID(uuidString: w.contoso)!
            for month in ["2026-02", "2026-03", "2026-04"] {
                var validator = FieldValidator()
                let period = try #require(ReportPeriod.parse(period: month, from: nil, to: nil, now: Date(), &validator))
                let own = try await Reports.organization(organization, period: period, by: coUser, on: t.db)
                var filtered = try await Reports.organization(
                    organization, period: period, by: admin, filter: Reports.Filter(ticketIds: ticketIds, timeEntryIds: timeEntryIds), on: t.db)
                // Licenses and money are the MSP's sections; everything else must be equal.
                #expect(own.licenses == nil && own.billing == nil)
                filtered.licenses = nil
                filtered.billing = nil
                #expect(own == filtered, "\(month)")
                #expect(own.opened == (month == "2026-03" ? 3 : 1))
            }

            // Through the API, the hand-computed figures of the user's view.
            let report = try await Self.report(t, w.contoso, as: w.coToken)
            #expect(report["tickets"]["opened"] == 3 && report["tickets"]["closed"] == 3)
            #expect(
                report["firstResponse"]["medianMinutes"] == 20 && report["firstResponse"]["averageMinutes"] == 20 && report["firstResponse"]["awaiting"] == 1)
            #expect(report["timeByRole"]["totalMinutes"] == 30 && report["timeByRole"]["roles"][0]["entries"] == 1)
            #expect(report["licenses"].isNull, "no license figures for co-managing users")
            #expect(report["billing"].isNull && report["slaCompliance"]["tickets"] == 0, "no billing section")
        }
    }

    // MARK: CSV

    @Test func csvHoldsTheSameFiguresAndIsSafeForSpreadsheets() async throws {
        let clock = SetClock(Self.date(Self.start))
        try await withApp(clock: clock) { t in
            let w = try await Self.world(t, clock)
            expectStatus(try await t.patch("/api/v1/organizations/\(w.contoso)", ["name": "=Contoso, \"Ltd\""]), .ok)
            let reply = try await t.get("/api/v1/reports/organizations/\(w.contoso)?period=2026-03&format=csv")
            expectStatus(reply, .ok)
            #expect(reply.contentType.hasPrefix("text/csv"))
            #expect(reply.headers.first(name: .contentDisposition)?.contains("contoso-ltd-report-2026-03.csv") == true)
            let rows = try CSVText.rows(reply.text)
            #expect(rows.first == ["section", "item", "value"])
            #expect(rows.contains(["report", "organization", "'=Contoso, \"Ltd\""]), "a name that starts like a formula gets an apostrophe")
            #expect(rows.contains(["tickets", "opened", "4"]) && rows.contains(["tickets", "closed", "3"]))
            #expect(rows.contains(["firstResponse", "medianMinutes", "30"]) && rows.contains(["resolution", "averageMinutes", "1500"]))
            #expect(rows.contains(["opened per day", "2026-03-02", "2"]) && rows.contains(["timeByRole minutes", "Engineer", "90"]))
            #expect(rows.allSatisfy { $0.count == 3 })
            // Accept: text/csv chooses CSV too.
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .accept, value: "text/csv")
            let accepted = try await t.get("/api/v1/reports/organizations/\(w.contoso)?period=2026-03", headers: headers)
            let acceptedRows = try CSVText.rows(accepted.text)
            #expect(accepted.contentType.hasPrefix("text/csv") && acceptedRows == rows)
            // JSON ranked above it (or equal) keeps JSON.
            headers.replaceOrAdd(name: .accept, value: "application/json, text/csv;q=0.5")
            let ranked = try await t.get("/api/v1/reports/organizations/\(w.contoso)?period=2026-03", headers: headers)
            #expect(ranked.contentType.hasPrefix("application/json") && ranked.json["tickets"]["opened"] == 4)
        }
    }

    // MARK: Access

    /// Who opens which organization's report: 200 or 404 (never 403), for each kind of principal.
    @Test func theMatrixOverPrincipalsAndOrganizations() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.coManagedOrganization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let queue = try await t.queue("Service Desk")
            let lead = try await t.coManagingUser("lena", organizationId: northwind, queueIds: [queue]).id
            let basic = try await t.coManagingUser("bert", organizationId: northwind, queueIds: [queue], level: .coManagedBasic).id
            try await t.setUp(northwind, users: [lead, basic])
            let (_, tara) = try await t.resource("tara", .technician)
            let (_, rick) = try await t.resource("rick", .technician, restrictions: [contoso])
            let (_, dana) = try await t.resource("dana", .dispatcher)
            let (_, hugo) = try await t.resource("hugo", .helpDesk)
            let carla = try await t.contact(northwind, "Carla")
            let portal = try await t.portalLogin(carla, email: "carla@northwind.example", organizationWide: true)
            let leadToken = try await t.loginCoManaging(lead, "lena")
            let basicToken = try await t.loginCoManaging(basic, "bert")

            let organizations = [("Northwind", northwind), ("Contoso", contoso), ("Fabrikam", fabrikam)]
            let expected: [(String, String, Set<String>)] = [
                ("admin", t.adminToken, ["Northwind", "Contoso", "Fabrikam"]),
                ("technician", tara, ["Northwind", "Contoso", "Fabrikam"]),
                ("dispatcher", dana, ["Northwind", "Contoso", "Fabrikam"]),
                ("restricted technician", rick, ["Contoso"]),
                ("help desk (no reports)", hugo, []),
                ("co-managed help desk", leadToken, ["Northwind"]),
                ("co-managed basic (no reports)", basicToken, []),
                ("contact", portal, []),
            ]
            for (name, token, opens) in expected {
                for (organizationName, organization) in organizations {
                    let reply = try await t.get("/api/v1/reports/organizations/\(organization)?period=2026-03", as: token)
                    if opens.contains(organizationName) {
                        expectStatus(reply, .ok)
                        #expect(reply.json["organizationId"] == .string(organization), "\(name) → \(organizationName)")
                    } else {
                        expectProblem(reply, .notFound, contains: "organization")
                    }
                    // A hidden organization answers 404 before its parameters are read.
                    let bad = try await t.get("/api/v1/reports/organizations/\(organization)?period=never", as: token)
                    #expect(bad.status == (opens.contains(organizationName) ? .badRequest : .notFound), "\(name) → \(organizationName): \(bad)")
                }
                expectProblem(try await t.get("/api/v1/reports/organizations/\(UUID())", as: token), .notFound)
            }
            expectStatus(try await t.get("/api/v1/reports/organizations/\(northwind)", as: ""), .unauthorized)
            expectProblem(try await t.get("/api/v1/reports/organizations/not-an-id"), .notFound)
        }
    }

    @Test func badParametersAnswer400NamingTheField() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let path = "/api/v1/reports/organizations/\(contoso)"
            let before = try await t.rowCounts()
            expectProblem(try await t.get(path + "?period=2026-13"), .badRequest, field: "period", contains: "not a month")
            expectProblem(try await t.get(path + "?period=2026-03&from=2026-03-01&to=2026-03-02"), .badRequest, field: "period")
            expectProblem(try await t.get(path + "?from=2026-02-30&to=2026-03-01"), .badRequest, field: "from", contains: "not a real date")
            expectProblem(try await t.get(path + "?from=2026-03-01"), .badRequest, field: "to")
            expectProblem(try await t.get(path + "?from=2026-03-02&to=2026-03-01"), .badRequest, field: "to", contains: "before")
            expectProblem(try await t.get(path + "?from=2024-01-01&to=2026-01-01"), .badRequest, field: "to", contains: "366")
            expectProblem(try await t.get(path + "?format=xml"), .badRequest, field: "format")
            #expect(try await t.rowCounts() == before, "reading a report writes nothing")
            // Nothing given: this month.
            let now = try await t.get(path).json
            #expect(now["period"]["month"] == .string(ReportPeriod.month(containing: Date()).month!))
        }
    }

    // MARK: Pages

    @Test func theReportPageDrawsTheNumbersOfItsTables() async throws {
        let clock = SetClock(Self.date(Self.start))
        try await withApp(clock: clock) { t in
            let w = try await Self.world(t, clock)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let list = try await t.page("/reports", session: admin)
            expectStatus(list, .ok)
            #expect(list.text.contains("href=\"/reports/organizations/\(w.contoso)\"") && list.text.contains("href=\"/reports/organizations/\(w.fabrikam)\""))
            #expect(list.text.contains("href=\"/reports\""), "the main navigation links the reports")

            let page = try await t.page("/reports/organizations/\(w.contoso)?period=2026-03", session: admin)
            expectStatus(page, .ok)
            let html = page.text
            #expect(html.contains("<svg") && html.contains("role=\"img\"") && html.contains("id=\"tickets-chart\"") && html.contains("id=\"resolution-chart\""))
            // Every bar's value is the table's number for its day and series.
            for day in ["2026-03-02", "2026-03-05", "2026-03-31", "2026-03-10"] {
                for series in ["opened", "closed"] {
                    let bar = Self.attribute("data-value", ofElementWith: "data-series=\"\(series)\" data-category=\"\(day)\"", in: html)
                    let cell = Self.tableCell(day: day, series: series, in: html)
                    #expect(bar != nil && bar == cell, "\(series) \(day): bar \(bar ?? "-"), table \(cell ?? "-")")
                }
            }
            #expect(Self.tableCell(day: "2026-03-02", series: "opened", in: html) == "2")
            #expect(Self.attribute("data-value", ofElementWith: "data-series=\"resolution\" data-category=\"2026-03-02\"", in: html) == "37")
            #expect(html.contains("href=\"/reports/organizations/\(w.contoso)?period=2026-03&amp;format=csv\"") || html.contains("period=2026-03&format=csv"))
            #expect(html.contains("Engineer") && html.contains("SLA compliance") && html.contains("Billable amount"))
            #expect(!html.contains("<script"))

            let csv = try await t.page("/reports/organizations/\(w.contoso)?period=2026-03&format=csv", session: admin)
            let csvRows = try CSVText.rows(csv.text)
            #expect(csv.contentType.hasPrefix("text/csv") && csvRows.contains(["tickets", "opened", "4"]))
            let bad = try await t.page("/reports/organizations/\(w.contoso)?period=2026-13", session: admin)
            #expect(bad.status == .badRequest && bad.text.contains("not a month on the calendar"))

            // The co-managing user's page counts the tickets they see and shows no licenses or money.
            _ = try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(w.coUser)/totp-pause", ["for": "nextLogin"])
            let lena = try await t.pageSession("lena", TestApp.password)
            let theirs = try await t.page("/reports/organizations/\(w.contoso)?period=2026-03", session: lena).text
            #expect(theirs.contains("<td data-figure=\"opened\">3</td>") && theirs.contains("<td data-figure=\"closed\">3</td>"))
            #expect(Self.tableCell(day: "2026-03-02", series: "opened", in: theirs) == "1", "B is not theirs")
            #expect(theirs.contains("SLA compliance") && !theirs.contains("Billable amount") && !theirs.contains("Co-managed licenses"))
            let theirList = try await t.page("/reports", session: lena).text
            #expect(theirList.contains("/reports/organizations/\(w.contoso)") && !theirList.contains("/reports/organizations/\(w.fabrikam)"))
            expectStatus(try await t.page("/reports/organizations/\(w.fabrikam)", session: lena), .notFound)

            // Help Desk views no reports: no list, and every organization's report reads as unknown.
            _ = try await t.resource("hugo", .helpDesk)
            let hugo = try await t.pageSession("hugo", TestApp.password)
            expectStatus(try await t.page("/reports", session: hugo), .forbidden)
            expectStatus(try await t.page("/reports/organizations/\(w.contoso)", session: hugo), .notFound)
        }
    }

    /// The `data-value` of the first element carrying `marker`.
    static func attribute(_ name: String, ofElementWith marker: String, in html: String) -> String? {
        guard let at = html.range(of: marker) else { return nil }
        let start = html[..<at.lowerBound].lastIndex(of: "<")!
        let end = html[at.upperBound...].firstIndex(of: ">")!
        let tag = html[start..<end]
        guard let value = tag.range(of: "\(name)=\"") else { return nil }
        return String(tag[value.upperBound...].prefix { $0 != "\"" })
    }

    /// The tickets table's cell of `series` in the row of `day`.
    static func tableCell(day: String, series: String, in html: String) -> String? {
        guard let table = html.range(of: "id=\"tickets-table\""), let row = html[table.upperBound...].range(of: "<tr data-category=\"\(day)\">") else {
            return nil
        }
        guard let cell = html[row.upperBound...].range(of: "<td data-series=\"\(series)\">") else { return nil }
        return String(html[cell.upperBound...].prefix { $0 != "<" })
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Time and billing through the API (issue 21): exact rates and amounts, time entry spans, block-hour contracts and
/// their once-only threshold event, timesheets and their locks, co-managing users' viewers. SQLite and PostgreSQL.
@Suite struct BillingTests {
    /// The number after `"key":` in the raw JSON text: what the encoder wrote, before any Double parsing.
    static func rawNumber(_ key: String, in text: String) -> String? {
        guard let range = text.range(of: "\"\(key)\":") else { return nil }
        return String(text[range.upperBound...].prefix { "-0123456789.eE".contains($0) })
    }

    @Test func ratesAreStoredAndAnsweredExactly() async throws {
        try await withApp { t in
            let created = try await t.send(.POST, "/api/v1/roles", raw: #"{"name": "Tenth", "hourlyRate": 0.1, "blockHourMultiplier": 1.5}"#)
            #expect(created.status == .created, "\(created)")
            #expect(Self.rawNumber("hourlyRate", in: created.text) == "0.1" && Self.rawNumber("blockHourMultiplier", in: created.text) == "1.5")
            let fine = try await t.send(.POST, "/api/v1/roles", raw: #"{"name": "Fine", "hourlyRate": 99999.9999}"#)
            #expect(Self.rawNumber("hourlyRate", in: fine.text) == "99999.9999", "\(fine)")
            #expect(Self.rawNumber("blockHourMultiplier", in: fine.text) == "1", "the default multiplier")
            // More than four places is refused, not rounded; so are numbers out of range and text.
            expectProblem(
                try await t.send(.POST, "/api/v1/roles", raw: #"{"name": "Too fine", "hourlyRate": 0.12345}"#), .unprocessableEntity, field: "hourlyRate",
                contains: "four decimal places")
            expectProblem(
                try await t.send(.POST, "/api/v1/roles", raw: #"{"name": "Huge", "hourlyRate": 1e30}"#), .unprocessableEntity, field: "hourlyRate",
                contains: "between")
            expectProblem(
                try await t.patch("/api/v1/roles/\(created.id)", ["blockHourMultiplier": 100.5]), .unprocessableEntity, field: "blockHourMultiplier")
            let role = try await Role.find(UUID(uuidString: created.id)!, on: t.db)
            #expect(role?.hourlyRateUnits == 1_000 && role?.blockHourMultiplierUnits == 15_000)
        }
    }

    @Test func amountsOfTenthsSumExactlyAndEachEntryRoundsHalfUp() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let ticket = try await t.ticket(organization).id
            let tenth = try await t.send(.POST, "/api/v1/roles", raw: #"{"name": "Tenth", "hourlyRate": 0.1}"#).id
            let third = try await t.send(.POST, "/api/v1/roles", raw: #"{"name": "Three tenths", "hourlyRate": 0.3, "blockHourMultiplier": 1.5}"#).id
            var ids: [String] = []
            for day in 1...3 {
                ids.append(
                    try await t.create(
                        "/api/v1/tickets/\(ticket)/time-entries",
                        ["roleId": .string(tenth), "startedAt": .string("2026-12-0\(day)T09:00:00Z"), "minutes": 60, "summary": .string("Hour \(day)")]
                    ).id)
            }
            // 0.3 an hour for 5 minutes is 0.025: half up, 0.03.
            let half = try await t.send(
                .POST, "/api/v1/tickets/\(ticket)/time-entries",
                json: ["roleId": .string(third), "startedAt": "2026-12-04T09:00:00Z", "minutes": 5, "summary": "Half"])
            #expect(Self.rawNumber("amount", in: half.text) == "0.03", "\(half)")
            // Not billable: no amount counted, nor block hours.
            let free = try await t.send(
                .POST, "/api/v1/tickets/\(ticket)/time-entries",
                json: ["roleId": .string(third), "startedAt": "2026-12-04T10:00:00Z", "minutes": 60, "summary": "Goodwill", "billable": false])
            #expect(free.json["billable"] == false && Self.rawNumber("amount", in: free.text) == "0", "\(free)")
            let one = try await t.get("/api/v1/tickets/\(ticket)/time-entries/\(ids[0])")
            #expect(Self.rawNumber("amount", in: one.text) == "0.1", "\(one)")

            let sheet = try await t.get("/api/v1/timesheets?week=2026-W49")
            #expect(sheet.status == .ok, "\(sheet)")
            // 0.1 + 0.1 + 0.1 + 0.03: exactly 0.33 (binary floating point would answer 0.33000000000000007).
            #expect(Self.rawNumber("amount", in: sheet.text) == "0.33", "\(sheet)")
            #expect(sheet.json["minutes"] == 245 && sheet.json["billableMinutes"] == 185)
            #expect(sheet.json["days"].array.map { $0["minutes"].int ?? -1 } == [0, 60, 60, 60, 65, 0, 0], "Monday 30 November to Sunday")

            // The reports' function: minutes by role, the billable amount, block hours (3 × 60 min × 1 + 5 min × 1.5 = 187.5 block minutes).
            let summary = try await BillingSummary.shown(
                to: try await t.adminPrincipal(), organizationId: UUID(uuidString: organization)!,
                period: UTCDay.start(of: "2026-11-30")!..<UTCDay.start(of: "2026-12-07")!, on: t.db)
            #expect(summary.minutesByRole[UUID(uuidString: tenth)!] == 180 && summary.minutesByRole[UUID(uuidString: third)!] == 65)
            #expect(summary.billableMinutes == 185 && summary.billableAmount == Money(cents: 33))
            #expect(summary.blockMinuteUnits == 1_875_000 && summary.blockHoursUsed == BillingDecimal(parsing: "3.13"))
            let later = try await BillingSummary.shown(
                to: try await t.adminPrincipal(), organizationId: UUID(uuidString: organization)!,
                period: UTCDay.start(of: "2026-12-07")!..<UTCDay.start(of: "2026-12-14")!, on: t.db)
            #expect(later.minutesByRole.isEmpty && later.billableAmount == .zero)
        }
    }

    @Test func aTimeEntryIsMinutesOrAStartAndAnEnd() async throws {
        try await withApp { t in
            let ticket = try await t.ticket(try await t.organization("Contoso")).id
            let role = try await t.role("Engineer")
            let path = "/api/v1/tickets/\(ticket)/time-entries"
            let spanned = try await t.create(
                path, ["roleId": .string(role), "startedAt": "2026-12-01T09:00:00Z", "endedAt": "2026-12-01T10:30:00Z", "summary": "Switch"])
            #expect(spanned["minutes"] == 90 && spanned["billable"] == true && spanned["workedAt"] == "2026-12-01T09:00:00Z")
            #expect(spanned["amount"].double == 180, "120 an hour for 1.5 hours")
            expectProblem(
                try await t.post(path, ["startedAt": "2026-12-01T09:00:00Z", "endedAt": "2026-12-01T10:30:00Z", "minutes": 60, "summary": "x"]),
                .unprocessableEntity, field: "minutes")
            expectProblem(
                try await t.post(path, ["startedAt": "2026-12-01T10:00:00Z", "endedAt": "2026-12-01T09:00:00Z", "summary": "x"]), .unprocessableEntity,
                field: "endedAt")
            expectProblem(try await t.post(path, ["endedAt": "2026-12-01T09:00:00Z", "summary": "x"]), .unprocessableEntity, field: "startedAt")
            expectProblem(try await t.post(path, ["summary": "x"]), .unprocessableEntity, field: "minutes")
            // Billable time needs a role; time without one defaults to not billable.
            expectProblem(try await t.post(path, ["minutes": 10, "summary": "x", "billable": true]), .unprocessableEntity, field: "billable")
            let plain = try await t.create(path, ["minutes": 10, "summary": "No role"])
            #expect(plain["billable"] == false && plain["amount"].double == 0)
            // A new start moves the end with it; the minutes stay.
            let moved = try await t.patch("\(path)/\(spanned.id)", ["startedAt": "2026-12-02T13:00:00Z"])
            #expect(moved.json["minutes"] == 90 && moved.json["endedAt"] == "2026-12-02T14:30:00Z", "\(moved)")
            // Changing the role's rate later does not re-price the entry; changing its minutes keeps its rate.
            try await t.must(.ok, .PATCH, "/api/v1/roles/\(role)", ["hourlyRate": 200])
            let longer = try await t.patch("\(path)/\(spanned.id)", ["minutes": 120])
            #expect(longer.json["amount"].double == 240 && longer.json["endedAt"] == "2026-12-02T15:00:00Z", "\(longer)")
            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array.filter { $0["entityType"] == "time_entries" }
            #expect(audit.count == 4, "every write audited: \(audit.count)")
        }
    }

    @Test func aContractCountsBlockHoursAndWarnsOnceAtItsThreshold() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let other = try await t.organization("Fabrikam")
            let ticket = try await t.ticket(organization).id
            let elsewhere = try await t.ticket(other).id
            let role = try await t.create("/api/v1/roles", ["name": "Senior", "hourlyRate": 100, "blockHourMultiplier": 1.5]).id
            let contracts = "/api/v1/organizations/\(organization)/block-hour-contracts"
            let contract = try await t.create(contracts, ["name": "December", "hoursBought": 1, "startsOn": "2026-12-01", "endsOn": "2026-12-31"])
            #expect(contract["hoursUsed"] == 0 && contract["hoursLeft"] == 1 && contract["thresholdPercent"] == 80 && contract["thresholdReached"] == false)
            func log(_ minutes: Int, on ticket: String, at day: String, billable: Bool = true) async throws {
                try await t.create(
                    "/api/v1/tickets/\(ticket)/time-entries",
                    [
                        "roleId": .string(role), "startedAt": .string("\(day)T09:00:00Z"), "minutes": .number(Double(minutes)), "summary": "Work",
                        "billable": .bool(billable),
                    ])
            }
            // 30 minutes × 1.5 = 45 block minutes: 75%. Time outside the period, of another organization or not billable does not count.
            try await log(30, on: ticket, at: "2026-12-02")
            try await log(600, on: ticket, at: "2026-11-30")
            try await log(600, on: elsewhere, at: "2026-12-02")
            try await log(600, on: ticket, at: "2026-12-02", billable: false)
            var read = try await t.get("\(contracts)/\(contract.id)").json
            #expect(read["minutesUsed"] == 45 && read["hoursUsed"] == 0.75 && read["hoursLeft"] == 0.25 && read["thresholdReached"] == false, "\(read)")
            func thresholdEvents() async throws -> Int {
                try await t.get("/api/v1/events?limit=1000").json["items"].array.filter { $0["type"] == "blockHours.thresholdReached" }.count
            }
            #expect(try await thresholdEvents() == 0)
            // 4 more minutes: 51 block minutes, 85%: reached, recorded once.
            try await log(4, on: ticket, at: "2026-12-03")
            read = try await t.get("\(contracts)/\(contract.id)").json
            #expect(read["thresholdReached"] == true && read["thresholdReachedAt"].string != nil, "\(read)")
            #expect(try await thresholdEvents() == 1)
            // More time, an overdrawn contract, an edit of the contract: still one event.
            try await log(60, on: ticket, at: "2026-12-04")
            try await t.must(.ok, .PATCH, "\(contracts)/\(contract.id)", ["name": "December block"])
            read = try await t.get("\(contracts)/\(contract.id)").json
            #expect(read["hoursUsed"] == 2.35 && read["hoursLeft"] == -1.35, "\(read)")
            #expect(try await thresholdEvents() == 1)
            // A second writer asking again (another instance, a restart) finds the notice and records nothing.
            let admin = try await t.adminPrincipal()
            let again = try await t.db.write { db in
                try await BlockHours.thresholdsReached(
                    organizationId: UUID(uuidString: organization)!, workedAt: UTCDay.start(of: "2026-12-05")!, by: admin, on: db)
            }
            #expect(again.isEmpty)
            #expect(try await t.count("block_hour_notices") == 1)
            // Periods of one organization do not overlap.
            expectProblem(
                try await t.post(contracts, ["name": "Overlap", "hoursBought": 5, "startsOn": "2026-12-31"]), .unprocessableEntity, field: "startsOn",
                contains: "overlaps")
            expectProblem(
                try await t.post(contracts, ["name": "Backwards", "hoursBought": 5, "startsOn": "2027-02-01", "endsOn": "2027-01-01"]),
                .unprocessableEntity, field: "endsOn")
            expectProblem(
                try await t.post(contracts, ["name": "Zero", "hoursBought": 0, "startsOn": "2028-01-01"]), .unprocessableEntity, field: "hoursBought")
            // A contract created already past its threshold warns at once.
            let fabrikam = try await t.create(
                "/api/v1/organizations/\(other)/block-hour-contracts", ["name": "Small", "hoursBought": 10, "startsOn": "2026-12-01", "thresholdPercent": 50])
            #expect(fabrikam["thresholdReached"] == true && fabrikam["hoursUsed"] == 15)
            #expect(try await thresholdEvents() == 2)
            try await t.must(.noContent, .DELETE, "\(contracts)/\(contract.id)")
            expectProblem(try await t.get("\(contracts)/\(contract.id)"), .notFound)
        }
    }

    @Test func timeOfASubmittedOrApprovedWeekIsLocked() async throws {
        try await withApp { t in
            let ticket = try await t.ticket(try await t.organization("Contoso")).id
            let tara = try await t.resource("tara")
            let path = "/api/v1/tickets/\(ticket)/time-entries"
            let entry = try await t.create(path, ["startedAt": "2026-12-01T09:00:00Z", "minutes": 30, "summary": "Work"], as: tara.token).id
            let sheet = try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token)
            #expect(sheet["status"] == "submitted" && sheet["actions"].array.isEmpty, "\(sheet)")
            // Locked: no change, no removal, no new time in the week, for Tara or the administrator.
            expectProblem(try await t.patch("\(path)/\(entry)", ["minutes": 45], as: tara.token), .conflict, contains: "2026-W49")
            expectProblem(try await t.patch("\(path)/\(entry)", ["summary": "Admin edit"]), .conflict)
            expectProblem(try await t.delete("\(path)/\(entry)", as: tara.token), .conflict)
            expectProblem(try await t.post(path, ["startedAt": "2026-12-03T09:00:00Z", "minutes": 5, "summary": "More"], as: tara.token), .conflict)
            // Moving time of another week into the locked week is refused too; the other week stays free.
            let next = try await t.create(path, ["startedAt": "2026-12-08T09:00:00Z", "minutes": 5, "summary": "Next week"], as: tara.token).id
            expectProblem(try await t.patch("\(path)/\(next)", ["startedAt": "2026-12-02T09:00:00Z"], as: tara.token), .conflict)
            // The state machine: submitted again is a 409; Tara cannot approve her own; the administrator rejects with a reason.
            expectProblem(try await t.post("/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token), .conflict, contains: "approved or rejected")
            expectProblem(try await t.post("/api/v1/timesheets/approve", ["personId": .string(tara.id), "week": "2026-W49"], as: tara.token), .forbidden)
            expectProblem(
                try await t.post("/api/v1/timesheets/reject", ["personId": .string(tara.id), "week": "2026-W49"]), .unprocessableEntity, field: "reason")
            let rejected = try await t.must(
                .ok, .POST, "/api/v1/timesheets/reject", ["personId": .string(tara.id), "week": "2026-W49", "reason": "Split Monday's time"])
            #expect(rejected["status"] == "rejected" && rejected["reason"] == "Split Monday's time" && rejected["decidedById"] == .string(t.adminId))
            // Rejected is open again: Tara changes her time and submits; approved locks it for good.
            try await t.must(.ok, .PATCH, "\(path)/\(entry)", ["minutes": 45], as: tara.token)
            let own = try await t.get("/api/v1/timesheets?week=2026-W49", as: tara.token).json
            #expect(own["actions"] == ["submit"] && own["minutes"] == 45, "\(own)")
            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token)
            let approved = try await t.must(.ok, .POST, "/api/v1/timesheets/approve", ["personId": .string(tara.id), "week": "2026-W49"])
            #expect(approved["status"] == "approved" && approved["actions"].array.isEmpty)
            expectProblem(try await t.delete("\(path)/\(entry)"), .conflict)
            expectProblem(try await t.post("/api/v1/timesheets/reject", ["personId": .string(tara.id), "week": "2026-W49", "reason": "Late"]), .conflict)
            // Bad weeks and persons.
            expectProblem(try await t.get("/api/v1/timesheets?week=2026-W54"), .unprocessableEntity, field: "week")
            expectProblem(try await t.get("/api/v1/timesheets?personId=nobody"), .unprocessableEntity, field: "personId")
            expectProblem(try await t.get("/api/v1/timesheets?personId=\(UUID().uuidString)"), .notFound)
            let audited = try await t.get("/api/v1/audit-events?limit=200").json["items"].array.filter { $0["entityType"] == "timesheets" }
            #expect(audited.map { $0["action"].string ?? "" }.sorted() == ["approved", "rejected", "submitted", "submitted"])
        }
    }

    @Test func coManagingUsersLogTimeUnderARoleAndTheirTimesheetsHaveViewers() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let role = try await t.create("/api/v1/roles", ["name": "Co-managed", "hourlyRate": 0, "blockHourMultiplier": 0]).id
            let user = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue], extra: ["roleIds": [.string(role)]]).id
            try await t.setUp(northwind, users: [user])
            let nina = try await t.loginCoManaging(user, "nina")
            let ticket = try await t.ticket(northwind, extra: ["coManagedVisible": true]).id
            let entry = try await t.create(
                "/api/v1/tickets/\(ticket)/time-entries", ["startedAt": "2026-12-01T09:00:00Z", "minutes": 20, "summary": "Reset"], as: nina)
            #expect(entry["roleId"] == .string(role) && entry["amount"] == .null && entry["billable"] == true, "\(entry)")
            let own = try await t.get("/api/v1/timesheets?week=2026-W49", as: nina).json
            #expect(own["personKind"] == "coManagingUser" && own["minutes"] == 20 && own["actions"].array.isEmpty && own["amount"] == .null, "\(own)")
            expectProblem(try await t.post("/api/v1/timesheets/submit", ["week": "2026-W49"], as: nina), .forbidden, contains: "not submitted")

            // Viewers: MSP resources whose restrictions reach Northwind, chosen by user managers.
            let tara = try await t.resource("tara")
            let rick = try await t.resource("rick", restrictions: [contoso])
            expectProblem(try await t.get("/api/v1/timesheets?personId=\(user)&week=2026-W49", as: tara.token), .notFound)
            expectProblem(
                try await t.put("/api/v1/co-managing-users/\(user)/timesheet-viewers", ["resourceIds": [.string(rick.id)]]), .unprocessableEntity,
                field: "resourceIds[0]", contains: "client restrictions")
            expectProblem(
                try await t.put("/api/v1/co-managing-users/\(user)/timesheet-viewers", ["resourceIds": [.string(tara.id)]], as: tara.token), .forbidden)
            let viewers = try await t.must(.ok, .PUT, "/api/v1/co-managing-users/\(user)/timesheet-viewers", ["resourceIds": [.string(tara.id)]])
            #expect(viewers["resourceIds"] == [.string(tara.id)])
            let viewed = try await t.get("/api/v1/timesheets?personId=\(user)&week=2026-W49", as: tara.token)
            #expect(viewed.status == .ok && viewed.json["minutes"] == 20 && viewed.json["actions"].array.isEmpty, "\(viewed)")
            expectProblem(try await t.post("/api/v1/timesheets/approve", ["personId": .string(user), "week": "2026-W49"]), .forbidden, contains: "viewers")
            #expect(try await t.get("/api/v1/co-managing-users/\(user)/timesheet-viewers", as: nina).json["resourceIds"] == [.string(tara.id)])

            // The organization's audit export leaves billing out for her (she exports as her level reads reports).
            try await t.create("/api/v1/organizations/\(northwind)/block-hour-contracts", ["name": "Block", "hoursBought": 10, "startsOn": "2026-01-01"])
            let export = "/api/v1/organizations/\(northwind)/audit-export?format=jsonl"
            let hers = try await t.send(.GET, export, as: nina, live: true)
            #expect(hers.status == .ok && hers.text.contains("time_entries") == false && !hers.text.contains("block_hour_contracts"), "\(hers)")
            let staff = try await t.send(.GET, export, live: true)
            #expect(staff.status == .ok && staff.text.contains("block_hour_contracts"), "\(staff)")
        }
    }

    /// Time that crosses a threshold only together with time written at the same moment still warns, once: the
    /// threshold check waits for the contract's row, so the later writer reads the earlier one's time.
    @Test func concurrentTimeCrossingTheThresholdTogetherWarnsOnce() async throws {
        try await withApp { t in
            let role = try await t.create("/api/v1/roles", ["name": "Senior", "hourlyRate": 100, "blockHourMultiplier": 1.5]).id
            var contracts: [String] = []
            var pairs: [(String, String)] = []
            for index in 0..<5 {
                let organization = try await t.organization("Client \(index)")
                contracts.append(
                    try await t.create(
                        "/api/v1/organizations/\(organization)/block-hour-contracts", ["name": "Block", "hoursBought": 1, "startsOn": "2026-12-01"]
                    ).id)
                pairs.append((try await t.ticket(organization).id, try await t.ticket(organization).id))
            }
            // Each entry alone is 45 block minutes (75%); the two together 150%.
            for (first, second) in pairs {
                let body: JSON = ["roleId": .string(role), "startedAt": "2026-12-02T09:00:00Z", "minutes": 30, "summary": "Together"]
                async let a = t.post("/api/v1/tickets/\(first)/time-entries", body)
                async let b = t.post("/api/v1/tickets/\(second)/time-entries", body)
                let (ra, rb) = try await (a, b)
                #expect(ra.status == .created && rb.status == .created, "\(ra) \(rb)")
            }
            let events = try await t.get("/api/v1/events?limit=1000").json["items"].array.filter { $0["type"] == "blockHours.thresholdReached" }
            #expect(Set(events.compactMap { $0["entityId"].string }) == Set(contracts), "one event per contract: \(events)")
            #expect(events.count == contracts.count)
        }
    }

    /// Migration `BillTimeExactly` moves stored doubles to exact ten-thousandths, and its revert moves them back.
    @Test func theMigrationMovesRolesRatesToExactUnitsAndBack() async throws {
        try await withApp { t in
            let role = try await t.create("/api/v1/roles", ["name": "Engineer", "hourlyRate": 95.5, "blockHourMultiplier": 1.25]).id
            let id = UUID(uuidString: role)!
            // One transaction, so every step runs on one connection (another of the pool may still read the old schema).
            try await t.db.transaction { db in
                // The later migration indexing `worked_at` goes first, as a revert of everything would take it.
                try await AddTimeEntryReportIndex().revert(on: db)
                try await BillTimeExactly().revert(on: db)
                let sql = db.sql
                let reverted = try await sql.raw("SELECT hourly_rate, block_hour_multiplier FROM roles WHERE id = \(bind: id)").first()
                #expect(try reverted?.decode(column: "hourly_rate", as: Double.self) == 95.5)
                #expect(try reverted?.decode(column: "block_hour_multiplier", as: Double.self) == 1.25)
                try await sql.raw("UPDATE roles SET hourly_rate = 0.1, block_hour_multiplier = 0.3 WHERE id = \(bind: id)").run()
                try await BillTimeExactly().prepare(on: db)
                try await AddTimeEntryReportIndex().prepare(on: db)
            }
            let moved = try await Role.find(id, on: t.db)
            #expect(moved?.hourlyRateUnits == 1_000 && moved?.blockHourMultiplierUnits == 3_000, "0.1 and 0.3 stored as doubles read back exactly")
            #expect(try await t.get("/api/v1/roles/\(role)").text.contains("\"hourlyRate\":0.1"))
        }
    }

    /// An approver who cannot see every entry of the week (here: a level that manages users but reads no tickets)
    /// views the timesheet without those entries and may not approve it.
    @Test func anApproverWhoCannotSeeTheWeeksTimeDoesNotApproveIt() async throws {
        try await withApp { t in
            let ticket = try await t.ticket(try await t.organization("Contoso")).id
            let tara = try await t.resource("tara")
            try await t.create(
                "/api/v1/tickets/\(ticket)/time-entries", ["startedAt": "2026-12-01T09:00:00Z", "minutes": 30, "summary": "Work"], as: tara.token)
            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token)
            let level = try await t.create(
                "/api/v1/security-levels", ["name": "People manager", "copyOf": .string(try await t.securityLevelId(.administrator))]
            ).id
            try await t.must(
                .ok, .PATCH, "/api/v1/security-levels/\(level)",
                ["permissions": ["ticketScope": "all", "areas": ["reports": "view"], "admin": ["manageUsers"]]])
            try await t.create(
                "/api/v1/resources",
                [
                    "username": "paula", "password": .string(TestApp.password), "firstName": "Paula", "lastName": "Manager", "email": "paula@msp.example",
                    "securityLevelId": .string(level),
                ])
            let paula = try await t.login("paula", TestApp.password)
            let sheet = try await t.get("/api/v1/timesheets?personId=\(tara.id)&week=2026-W49", as: paula)
            #expect(sheet.status == .ok && sheet.json["entries"].array.isEmpty && sheet.json["minutes"] == 0, "\(sheet)")
            expectProblem(
                try await t.post("/api/v1/timesheets/approve", ["personId": .string(tara.id), "week": "2026-W49"], as: paula), .forbidden,
                contains: "cannot see")
            #expect(try await t.get("/api/v1/timesheets?personId=\(tara.id)&week=2026-W49").json["status"] == "submitted")
        }
    }
}

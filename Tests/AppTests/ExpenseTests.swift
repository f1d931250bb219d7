import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Expenses through the API (issue 21): exact amounts and mileage, filters and pages, versions, audit, refusals by
/// field with nothing written, locks of submitted weeks, the timesheet's expenses and the report's billable expenses.
/// SQLite and PostgreSQL.
@Suite struct ExpenseTests {
    static let path = "/api/v1/expenses"

    @Test func expensesAreExactAuditedFilteredAndPaged() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso"), fabrikam = try await t.organization("Fabrikam")
            let ticket = try await t.ticket(contoso).id
            let tara = try await t.resource("tara")
            // On a ticket: its organization is the expense's.
            let meal = try await t.create(
                Self.path, ["date": "2026-12-01", "category": "meals", "description": "Lunch on site", "amount": 12.5, "ticketId": .string(ticket)],
                as: tara.token)
            #expect(meal["organizationId"] == .string(contoso) && meal["ticketId"] == .string(ticket) && meal["personId"] == .string(tara.id), "\(meal)")
            #expect(meal["week"] == "2026-W49" && meal["billable"] == true && meal["version"] == 1 && meal["category"] == "meals")
            // Mileage as distance × rate: 12.5 × 0.585 = 7.3125, rounded half up once to 7.31; the JSON numbers are exact.
            let drive = try await t.send(
                .POST, Self.path, as: tara.token,
                raw:
                    #"{"date": "2026-12-02", "category": "mileage", "description": "To Fabrikam", "distance": 12.5, "mileageRate": 0.585, "organizationId": "\#(fabrikam)", "billable": false}"#
            )
            #expect(drive.status == .created, "\(drive)")
            #expect(BillingTests.rawNumber("amount", in: drive.text) == "7.31" && BillingTests.rawNumber("mileageRate", in: drive.text) == "0.585", "\(drive)")
            #expect(drive.json["ticketId"] == .null && drive.json["distance"] == 12.5)
            let later = try await t.create(
                Self.path, ["date": "2026-12-09", "category": "materials", "description": "Patch cables", "amount": 0.1, "organizationId": .string(contoso)],
                as: tara.token)
            let own = try await t.create(
                Self.path, ["date": "2026-12-03", "category": "travel", "description": "Train", "amount": 30, "organizationId": .string(contoso)])

            // Filters (the administrator approves timesheets, so reads Tara's expenses too).
            func ids(_ query: String, as token: String? = nil) async throws -> [String] {
                let reply = try await t.get("\(Self.path)\(query)", as: token)
                #expect(reply.status == .ok, "\(query): \(reply)")
                return reply.json["items"].array.compactMap { $0["id"].string }
            }
            #expect(try await ids("") == [meal.id, drive.json.id, later.id, own.id])
            #expect(try await ids("?personId=\(tara.id)") == [meal.id, drive.json.id, later.id])
            #expect(try await ids("?from=2026-12-02&to=2026-12-03") == [drive.json.id, own.id])
            #expect(try await ids("?ticketId=\(ticket)") == [meal.id])
            #expect(try await ids("?organizationId=\(contoso)&from=2026-12-02") == [later.id, own.id])
            #expect(try await ids("", as: tara.token) == [meal.id, drive.json.id, later.id], "Tara reads her own")
            let first = try await t.get("\(Self.path)?limit=2").json
            #expect(first["items"].array.count == 2 && first["nextCursor"].string != nil, "\(first)")
            let second = try await t.get("\(Self.path)?limit=2&cursor=\(first["nextCursor"].string!)").json
            #expect(second["items"].array.compactMap { $0["id"].string } == [later.id, own.id] && second["nextCursor"] == .null)
            expectProblem(try await t.get("\(Self.path)?from=1.12.2026"), .unprocessableEntity, field: "from")
            expectProblem(try await t.get("\(Self.path)?from=2026-12-05&to=2026-12-01"), .unprocessableEntity, field: "to")
            expectProblem(try await t.get("\(Self.path)?personId=tara"), .unprocessableEntity, field: "personId")

            // PATCH with the version: a stale one changes nothing (409); moving to another category recomputes nothing it need not.
            let changed = try await t.must(.ok, .PATCH, "\(Self.path)/\(meal.id)", ["amount": 14.2, "version": 1], as: tara.token)
            #expect(changed["amount"] == 14.2 && changed["version"] == 2 && changed["category"] == "meals", "\(changed)")
            expectProblem(try await t.patch("\(Self.path)/\(meal.id)", ["amount": 1, "version": 1], as: tara.token), .conflict, contains: "version 1, now 2")
            let moved = try await t.must(.ok, .PATCH, "\(Self.path)/\(drive.json.id)", ["distance": 10, "mileageRate": 0.6725], as: tara.token)
            #expect(moved["amount"] == 6.73, "10 × 0.6725 = 6.725, half up: \(moved)")
            let renamed = try await t.must(.ok, .PATCH, "\(Self.path)/\(drive.json.id)", ["description": "To Fabrikam and back"], as: tara.token)
            #expect(renamed["amount"] == 6.73 && renamed["distance"] == 10, "a mileage expense keeps its distance: \(renamed)")
            // The administrator reads Tara's expense but does not change or delete it.
            expectProblem(try await t.patch("\(Self.path)/\(meal.id)", ["amount": 1]), .forbidden, contains: "only the person")
            expectProblem(try await t.delete("\(Self.path)/\(meal.id)"), .forbidden, contains: "only the person")
            try await t.must(.noContent, .DELETE, "\(Self.path)/\(later.id)", as: tara.token)
            expectProblem(try await t.get("\(Self.path)/\(later.id)"), .notFound)

            let audited = try await t.get("/api/v1/audit-events?limit=200").json["items"].array.filter { $0["entityType"] == "expenses" }
            #expect(
                audited.map { $0["action"].string ?? "" }.sorted() == ["created", "created", "created", "created", "deleted", "updated", "updated", "updated"])
            let row = try await Expense.find(UUID(uuidString: drive.json.id)!, on: t.db)
            #expect(row?.amountCents == 673 && row?.distanceUnits == 100_000 && row?.mileageRateUnits == 6_725)
        }
    }

    @Test func badInputIsRefusedByFieldAndWritesNothing() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind"), contoso = try await t.organization("Contoso")
            let hidden = try await t.ticket(contoso).id
            let rick = try await t.resource("rick", restrictions: [northwind])
            let good: JSON = ["date": "2026-12-01", "category": "meals", "description": "Lunch", "amount": 10, "organizationId": .string(northwind)]
            let cases: [(JSON, String, String)] = [
                (["amount": -5], "amount", "between 0.01"),
                (["amount": 0], "amount", "between 0.01"),
                (["amount": 12.345], "amount", "two decimal places"),
                (["category": "snacks"], "category", ""),
                (["date": "01/12/2026"], "date", "YYYY-MM-DD"),
                (["date": "2026-02-30"], "date", "YYYY-MM-DD"),
                (["description": "   "], "description", "must not be empty"),
                (["description": .string(String(repeating: "x", count: 501))], "description", "at most 500"),
                (["distance": 10, "mileageRate": 0.5], "distance", "only for mileage"),
                (["ticketId": .string(hidden)], "ticketId", "no ticket you can see"),
                (["ticketId": "nope"], "ticketId", ""),
                (["organizationId": .string(contoso)], "organizationId", "no organization you can see"),
                (["organizationId": .null], "organizationId", "is required"),
            ]
            for (change, field, text) in cases {
                let reply = try await t.post(Self.path, good.merging(change), as: rick.token)
                expectProblem(reply, .unprocessableEntity, field: field, contains: text.isEmpty ? nil : text)
            }
            expectProblem(try await t.post(Self.path, good.merging(["amount": .null]), as: rick.token), .unprocessableEntity, field: "amount")
            #expect(try await t.count(Expense.schema) == 0, "no refusal wrote anything")
            #expect(try await t.get("/api/v1/audit-events?limit=200").json["items"].array.allSatisfy { $0["entityType"] != "expenses" })
            let made = try await t.create(Self.path, good, as: rick.token)
            expectProblem(try await t.patch("\(Self.path)/\(made.id)", ["amount": 12.345], as: rick.token), .unprocessableEntity, field: "amount")
            expectProblem(try await t.patch("\(Self.path)/\(made.id)", ["version": .null], as: rick.token), .unprocessableEntity, field: "version")
            #expect(try await t.get("\(Self.path)/\(made.id)", as: rick.token).json["version"] == 1)
        }
    }

    @Test func expensesOfASubmittedWeekAreLockedAndShowOnTheTimesheet() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let tara = try await t.resource("tara")
            func expense(_ date: String, _ amount: JSON, billable: Bool = true) async throws -> String {
                try await t.create(
                    Self.path,
                    [
                        "date": .string(date), "category": "other", "description": "Item", "amount": amount, "billable": .bool(billable),
                        "organizationId": .string(contoso),
                    ], as: tara.token
                ).id
            }
            let monday = try await expense("2026-11-30", 0.1), sunday = try await expense("2026-12-06", 0.2, billable: false)
            let next = try await expense("2026-12-07", 5)
            let sheet = try await t.get("/api/v1/timesheets?week=2026-W49", as: tara.token).json
            #expect(sheet["expenses"].array.compactMap { $0["id"].string } == [monday, sunday], "\(sheet)")
            #expect(sheet["expenseAmount"] == 0.3 && sheet["billableExpenseAmount"] == 0.1, "\(sheet)")
            let approver = try await t.get("/api/v1/timesheets?week=2026-W49&personId=\(tara.id)").json
            #expect(approver["expenses"].array.count == 2 && approver["expenseAmount"] == 0.3)

            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token)
            let lock = "week 2026-W49 of the timesheet, which is submitted"
            expectProblem(try await t.patch("\(Self.path)/\(monday)", ["amount": 1], as: tara.token), .conflict, contains: lock)
            expectProblem(
                try await t.delete("\(Self.path)/\(sunday)", as: tara.token), .conflict, contains: "expenses in a submitted or approved week are locked")
            expectProblem(
                try await t.post(
                    Self.path, ["date": "2026-12-02", "category": "meals", "description": "Late", "amount": 3, "organizationId": .string(contoso)],
                    as: tara.token), .conflict, contains: lock)
            // Moving an expense of an open week into the submitted one is refused; the open week stays free.
            expectProblem(try await t.patch("\(Self.path)/\(next)", ["date": "2026-12-01"], as: tara.token), .conflict, contains: lock)
            try await t.must(.ok, .PATCH, "\(Self.path)/\(next)", ["amount": 6], as: tara.token)
            #expect(try await t.count(Expense.schema) == 3)
            // Rejected opens the week again.
            try await t.must(.ok, .POST, "/api/v1/timesheets/reject", ["personId": .string(tara.id), "week": "2026-W49", "reason": "Receipt missing"])
            try await t.must(.noContent, .DELETE, "\(Self.path)/\(sunday)", as: tara.token)
            let after = try await t.get("/api/v1/timesheets?week=2026-W49", as: tara.token).json
            #expect(after["expenseAmount"] == 0.1 && after["expenses"].array.count == 1, "\(after)")
        }
    }

    @Test func theReportCountsTheOrganizationsBillableExpenses() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso"), fabrikam = try await t.organization("Fabrikam")
            let tara = try await t.resource("tara")
            for (date, amount, billable, organization) in [
                ("2026-11-30", "0.1", true, contoso), ("2026-11-01", "0.2", true, contoso), ("2026-11-15", "99", false, contoso),
                ("2026-12-01", "7", true, contoso), ("2026-11-20", "5", true, fabrikam), ("2026-11-10", "0.05", true, contoso),
            ] {
                let reply = try await t.send(
                    .POST, Self.path, as: tara.token,
                    raw:
                        #"{"date": "\#(date)", "category": "other", "description": "Item", "amount": \#(amount), "billable": \#(billable), "organizationId": "\#(organization)"}"#
                )
                #expect(reply.status == .created, "\(reply)")
            }
            let report = try await t.get("/api/v1/reports/organizations/\(contoso)?period=2026-11")
            #expect(report.status == .ok, "\(report)")
            #expect(BillingTests.rawNumber("billableExpenses", in: report.text) == "0.35", "0.1 + 0.2 + 0.05 in November: \(report.text)")
            let csv = try await t.get("/api/v1/reports/organizations/\(contoso)?period=2026-11&format=csv")
            #expect(csv.text.contains("billing,billableExpenses,0.35"), "\(csv.text)")
            // A reader without billing gets no billing section at all.
            let helpDesk = try await t.resource("hank", .helpDesk)
            let theirs = try await t.get("/api/v1/reports/organizations/\(contoso)?period=2026-11", as: helpDesk.token)
            #expect(theirs.status == .notFound || theirs.json["billing"] == .null, "\(theirs)")
        }
    }

    @Test func theTimesheetPageAddsListsAndDeletesExpenses() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let ticket = try await t.ticket(contoso)
            let tara = try await t.resource("tara")
            let session = try await t.pageSession("tara", TestApp.password)
            let page = try await t.page("/timesheets?week=2026-W49", session: session)
            #expect(page.status == .ok && page.text.contains("Add expense") && page.text.contains("No expenses this week."), "\(page)")
            // A bad amount comes back beside its field, the input kept, nothing written.
            let refused = try await t.submitForm(
                "/timesheets/expenses",
                [
                    ("week", "2026-W49"), ("date", "2026-12-02"), ("category", "meals"), ("description", "Lunch with the client"), ("amount", "12.345"),
                    ("organizationId", contoso), ("ticketNumber", ""), ("billable", "on"),
                ], session: session)
            #expect(refused.status == .unprocessableEntity && refused.text.contains("id=\"expense-amount-error\""), "\(refused)")
            #expect(refused.text.contains("two decimal places") && refused.text.contains("value=\"Lunch with the client\""))
            let unknown = try await t.submitForm(
                "/timesheets/expenses",
                [("week", "2026-W49"), ("date", "2026-12-02"), ("category", "meals"), ("description", "Lunch"), ("amount", "12"), ("ticketNumber", "999999")],
                session: session)
            #expect(unknown.status == .unprocessableEntity && unknown.text.contains("no ticket you can see has this number"), "\(unknown)")
            #expect(try await t.count(Expense.schema) == 0)
            // By ticket number: the ticket's organization is the expense's.
            let saved = try await t.submitForm(
                "/timesheets/expenses",
                [
                    ("week", "2026-W49"), ("date", "2026-12-02"), ("category", "meals"), ("description", "Lunch with the client"), ("amount", "12.50"),
                    ("organizationId", ""), ("ticketNumber", "\(ticket["number"].int ?? 0)"), ("billable", "on"),
                ], session: session)
            #expect(saved.status == .seeOther, "\(saved)")
            let unbilled = try await t.submitForm(
                "/timesheets/expenses",
                [
                    ("week", "2026-W49"), ("date", "2026-12-03"), ("category", "materials"), ("description", "Cable ties"), ("amount", "0.1"),
                    ("organizationId", contoso),
                ], session: session)
            #expect(unbilled.status == .seeOther, "\(unbilled)")
            let items = try await t.get("/api/v1/expenses", as: tara.token).json["items"].array
            #expect(items.count == 2 && items[0]["ticketId"] == .string(ticket.id) && items[0]["organizationId"] == .string(contoso), "\(items)")
            #expect(items[1]["billable"] == false && items[1]["amount"] == 0.1)
            let shown = try await t.page("/timesheets?week=2026-W49", session: session)
            #expect(shown.text.contains("Lunch with the client") && shown.text.contains("id=\"timesheet-expense-total\">12.60<"), "\(shown)")
            #expect(shown.text.contains("billable: 12.50") && shown.text.components(separatedBy: ">Delete</button>").count == 3)
            // The administrator reads Tara's week with her expenses but has no delete and no form there.
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let theirs = try await t.page("/timesheets?week=2026-W49&personId=\(tara.id)", session: admin)
            #expect(theirs.text.contains("Cable ties") && !theirs.text.contains(">Delete</button>") && !theirs.text.contains("Add expense"), "\(theirs)")
            // Tara deletes one; once the week is submitted, neither form is offered and a delete is refused.
            let deleted = try await t.submitForm("/timesheets/expenses/\(items[1]["id"].string!)/delete", [], session: session)
            let left = try await t.count(Expense.schema)
            #expect(deleted.status == .seeOther && left == 1, "\(deleted)")
            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W49"], as: tara.token)
            let locked = try await t.page("/timesheets?week=2026-W49", session: session)
            #expect(locked.text.contains("Lunch with the client") && !locked.text.contains("Add expense") && !locked.text.contains(">Delete</button>"))
            let refusedDelete = try await t.submitForm("/timesheets/expenses/\(items[0]["id"].string!)/delete", [], session: session)
            #expect(refusedDelete.status == .conflict && refusedDelete.text.contains("locked"), "\(refusedDelete)")
        }
    }

    /// An expense added while its week is being submitted either lands before the submission (and is on the submitted
    /// week) or is refused: never in a submitted week after the fact. Ten weeks, each raced once (PostgreSQL runs them
    /// at once; SQLite one after the other).
    @Test func anExpenseRacingItsWeeksSubmissionIsOnItOrRefused() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let tara = try await t.resource("tara")
            for week in 1...10 {
                let name = "2026-W\(String(format: "%02d", week))"
                let monday = ISOWeek.calendar.date(from: DateComponents(weekday: 2, weekOfYear: week, yearForWeekOfYear: 2026))!
                let body: JSON = [
                    "date": .string(ISOWeek.day(of: monday)), "category": "meals", "description": "Race", "amount": 1, "organizationId": .string(contoso),
                ]
                async let created = t.post(Self.path, body, as: tara.token)
                async let submitted = t.post("/api/v1/timesheets/submit", ["week": .string(name)], as: tara.token)
                let (expense, submission) = try await (created, submitted)
                #expect(submission.status == .ok, "\(submission)")
                #expect(expense.status == .created || expense.status == .conflict, "\(expense)")
                let sheet = try await t.get("/api/v1/timesheets?week=\(name)", as: tara.token).json
                // What the week holds is what was there when it was submitted: the expense only if it was created.
                #expect(sheet["expenses"].array.count == (expense.status == .created ? 1 : 0), "\(name): \(expense) \(sheet)")
                if expense.status == .created {
                    let row = try #require(try await Expense.find(UUID(uuidString: expense.json.id)!, on: t.db))
                    let stored = try #require(
                        try await Timesheet.query(on: t.db).filter(\.$personId == UUID(uuidString: tara.id)!).filter(\.$week == name).first())
                    #expect(row.createdAt! <= stored.submittedAt!, "created before the submission took the week")
                }
            }
        }
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `/timesheets?week=&personId=`: a person's week (the API's `GET /api/v1/timesheets`), its days and entries, and
/// the forms the reader may use: submit (their own MSP week), approve or reject (approvers). Without JavaScript.
enum TimesheetPage {
    static let view = "billing/timesheet"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var sheet: TimesheetDTO
        var statusLabel: String
        var days: [Day]
        var entries: [Entry]
        var total: String
        var billable: String
        var amount: String?
        var people: [SelectOption]
        var previousURL: String
        var nextURL: String
        var action: String
        var mayReject: Bool
        var reason: String
        var notice: String?
        var feedback: FormFeedback?
        var expenses: [ExpenseRow]
        var expenseTotal: String
        var billableExpenseTotal: String
        /// The "Add expense" form: only on one's own week while it is open and one's level tracks expenses.
        var expenseForm: ExpenseFormModel?
    }

    struct ExpenseRow: Encodable, Sendable {
        var id: String
        var date: String
        var category: String
        var description: String
        var amount: String
        var billable: String
        /// Where to delete it; nil when the reader may not (not theirs, or the week is locked).
        var deleteURL: String?
    }

    struct ExpenseFormModel: Encodable, Sendable {
        var action: String
        var date: String
        var categories: [SelectOption]
        var description: String
        var amount: String
        var organizations: [SelectOption]
        var ticketNumber: String
        var billable: Bool
    }

    /// The "Add expense" form's fields as posted (an empty field is left out, so the API names it).
    struct ExpenseForm: Decodable, Sendable {
        var week: String?
        var date: String?
        var category: String?
        var description: String?
        var amount: String?
        var organizationId: String?
        var ticketNumber: String?
        var billable: String?

        static let empty = ExpenseForm()
    }

    struct Day: Encodable, Sendable {
        var date: String
        var time: String
    }

    struct Entry: Encodable, Sendable {
        var workedAt: String
        var ticketURL: String
        var time: String
        var billable: String
        var amount: String?
        var summary: String
    }

    struct ActionForm: Decodable, Sendable {
        var personId: String?
        var week: String?
        var reason: String?
    }

    static let notices = [
        "submit": "The week was submitted.", "approve": "The week was approved.", "reject": "The week was rejected.", "expense": "The expense was added.",
        "expenseDeleted": "The expense was deleted.",
    ]

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.timesheets.pathComponents, use: show)
        for action in TimesheetStatus.Action.allCases {
            routes.post(PageRoutes.timesheetAction(action.rawValue).pathComponents) { req in try await act(action, req) }
        }
        routes.post(PageRoutes.timesheetExpenses.pathComponents, use: addExpense)
        routes.post(PageRoutes.timesheetExpenseDelete.pathComponents, use: deleteExpense)
    }

    /// Adds an expense to the reader's own week through `ExpensesCollection`, as the API does; the week again, with
    /// the fields' errors beside them when refused.
    @Sendable static func addExpense(_ req: Request) async throws -> Response {
        let form = try req.content.decode(ExpenseForm.self)
        let principal = try req.principal
        let week = form.week.flatMap(ISOWeek.init(parsing:)) ?? form.date.flatMap(ExpenseDay.week(of:)) ?? ISOWeek(containing: req.db.now)
        do {
            var input = ExpenseInput()
            var validator = FieldValidator()
            func given(_ text: String?) -> String? {
                let trimmed = Whitespace.trim(text ?? "")
                return trimmed.isEmpty ? nil : trimmed
            }
            input.date = given(form.date).map { .value($0) } ?? .absent
            input.category = given(form.category).map { .value($0) } ?? .absent
            input.description = given(form.description).map { .value($0) } ?? .absent
            input.amount = ConfigurationPages.decimal(form.amount, "amount", &validator)
            if case .null = input.amount { input.amount = .absent }
            input.billable = .value(form.billable != nil)
            if let number = given(form.ticketNumber) {
                guard let value = Int(number.drop { $0 == "#" }),
                    let ticket = try await Ticket.query(on: req.db).filter(\.$number == value)
                        .filter(AccessPolicy.ticketScope(for: principal), on: Ticket.scopeTable).first()
                else { throw TandemError.invalid("ticketNumber", "no ticket you can see has this number") }
                input.ticketId = .value(ticket.id!.uuidString)
            } else if let organization = given(form.organizationId) {
                input.organizationId = .value(organization)
            }
            try validator.check()
            let row = try await CRUD.create(ExpensesCollection.self, { input }, req)
            return req.seeOther(
                PageURL.with(
                    PageRoutes.timesheets.url(), query: [("week", row.week?.description ?? week.description), ("notice", "expense")]) + "#timesheet-expenses")
        } catch let error as TandemError where error.isFormProblem {
            let sheet = try await Timesheets.get(personId: nil, week: week, by: principal, on: req.db)
            return try await render(req, sheet: sheet, expense: form, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// Deletes one of the reader's expenses (an open week's), as `DELETE /api/v1/expenses/{id}` does.
    @Sendable static func deleteExpense(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let row = try await Lookup.visible(
            Expense.self, req.id("id", ExpensesCollection.what), scope: ExpensesCollection.scope(for: principal, .view), table: Expense.scopeTable,
            what: ExpensesCollection.what, on: req.db)
        let week = row.week ?? ISOWeek(containing: req.db.now)
        do {
            try await CRUD.remove(ExpensesCollection.self, row, req)
            return req.seeOther(
                PageURL.with(
                    PageRoutes.timesheets.url(), query: [("personId", row.personId.uuidString), ("week", week.description), ("notice", "expenseDeleted")]))
        } catch let error as TandemError where error.isFormProblem {
            let sheet = try await Timesheets.get(personId: row.personId, week: week, by: principal, on: req.db)
            return try await render(req, sheet: sheet, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let personId = try req.queryText("personId").flatMap { text -> UUID? in
            guard !text.isEmpty else { return nil }
            guard let id = UUID(uuidString: text) else { throw TandemError.notFound(Timesheets.what) }
            return id
        }
        let week: ISOWeek?
        do {
            week = try Timesheets.givenWeek(req.queryText("week"))
        } catch let error as TandemError {
            // An unreadable week shows the current one with the problem beside the week.
            let sheet = try await Timesheets.get(personId: personId, week: nil, by: principal, on: req.db)
            return try await render(req, sheet: sheet, feedback: FormFeedback(error), status: .unprocessableEntity)
        }
        let sheet = try await Timesheets.get(personId: personId, week: week, by: principal, on: req.db)
        return try await render(req, sheet: sheet, notice: req.queryText("notice").flatMap { notices[$0] })
    }

    static func act(_ action: TimesheetStatus.Action, _ req: Request) async throws -> Response {
        let form = try req.content.decode(ActionForm.self)
        var input = TimesheetActionInput()
        input.personId = form.personId.map { .value($0) } ?? .absent
        input.week = form.week.map { .value($0) } ?? .absent
        input.reason = form.reason.map { .value($0) } ?? .absent
        do {
            let sheet = try await Timesheets.act(action, input, by: req.principal, on: req.db)
            return req.seeOther(
                PageURL.with(PageRoutes.timesheets.url(), query: [("personId", sheet.personId), ("week", sheet.week), ("notice", action.rawValue)]))
        } catch let error as TandemError where error.isFormProblem {
            let personId = form.personId.flatMap(UUID.init(uuidString:))
            let week = form.week.flatMap(ISOWeek.init(parsing:)) ?? ISOWeek(containing: req.db.now)
            let sheet = try await Timesheets.get(personId: personId, week: week, by: req.principal, on: req.db)
            return try await render(req, sheet: sheet, reason: form.reason ?? "", feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(
        _ req: Request, sheet: TimesheetDTO, reason: String = "", expense: ExpenseForm = .empty, notice: String? = nil, feedback: FormFeedback? = nil,
        status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let week = ISOWeek(parsing: sheet.week) ?? ISOWeek(containing: req.db.now)
        func link(_ other: ISOWeek) -> String {
            PageURL.with(PageRoutes.timesheets.url(), query: [("personId", sheet.personId), ("week", other.description)])
        }
        let billing = sheet.amount != nil
        // Times as the person whose sheet it is lives them: their days are in that zone.
        let zone = PageZone(named: sheet.timeZone)
        let model = Model(
            layout: req.pageLayout("Timesheet \(sheet.week) · \(sheet.personName)", section: "timesheets"), sheet: sheet,
            statusLabel: label(sheet.status), days: sheet.days.map { Day(date: $0.date, time: duration($0.minutes)) },
            entries: sheet.entries.map { entry in
                Entry(
                    workedAt: PageFormat.date(entry.workedAt, in: zone),
                    ticketURL: PageURL.ticket(UUID(uuidString: entry.ticketId)!).path + "#time-\(entry.id.lowercased())",
                    time: duration(entry.minutes), billable: entry.billable ? "Billable" : "Not billable",
                    amount: billing ? entry.amount.map { Money.from($0).description } ?? "" : nil, summary: entry.summary)
            },
            total: duration(sheet.minutes), billable: duration(sheet.billableMinutes), amount: sheet.amount.map { Money.from($0).description },
            people: try await people(for: principal, selected: sheet.personId, on: req.db), previousURL: link(week.previous), nextURL: link(week.next),
            action: PageRoutes.timesheets.url(), mayReject: sheet.actions.contains("reject"), reason: reason, notice: notice, feedback: feedback,
            expenses: [], expenseTotal: Money.from(sheet.expenseAmount).description, billableExpenseTotal: Money.from(sheet.billableExpenseAmount).description,
            expenseForm: nil)
        // Expenses are changed only by their person while the week is open (the policy says whose; the week's state when).
        let open = !(TimesheetStatus(rawValue: sheet.status) ?? .open).locksEntries
        var full = model
        full.expenses = sheet.expenses.map { item in
            let mayDelete =
                open
                && (try? AccessPolicy.authorizeExpenseChange(
                    principal, .delete, personId: UUID(uuidString: item.personId)!, organizationId: UUID(uuidString: item.organizationId)!)) != nil
            return ExpenseRow(
                id: item.id, date: item.date, category: ExpenseCategory(rawValue: item.category)?.label ?? item.category, description: item.description,
                amount: Money.from(item.amount).description, billable: item.billable ? "Billable" : "Not billable",
                deleteURL: mayDelete ? PageRoutes.timesheetExpenseDelete.url(UUID(uuidString: item.id)!) : nil)
        }
        if open, sheet.personId == principal.id.text, (try? AccessPolicy.authorizeExpenses(principal)) != nil {
            let organizations = try await Organization.query(on: req.db)
                .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable).sort(\.$name).limit(500).all()
            let chosen = expense.organizationId ?? ""
            let today = ISOWeek.day(of: req.db.now, in: TimeZone(identifier: sheet.timeZone) ?? TimeZone(identifier: "UTC")!)
            full.expenseForm = ExpenseFormModel(
                action: PageRoutes.timesheetExpenses.url(), date: expense.date ?? (week.days.contains(today) ? today : week.days[0]),
                categories: ExpenseCategory.allCases.map {
                    SelectOption(value: $0.rawValue, label: $0.label, selected: $0.rawValue == (expense.category ?? ""))
                },
                description: expense.description ?? "", amount: expense.amount ?? "",
                organizations: organizations.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: $0.id!.uuidString == chosen) },
                ticketNumber: expense.ticketNumber ?? "", billable: expense.description == nil || expense.billable != nil)
        }
        return try await req.renderPage(view, full, status: status)
    }

    /// Whose timesheets the reader may open: themself first, then those the policy lets them view (people read in
    /// bulk and asked about in memory: one policy question each, no query each).
    static func people(for principal: Principal, selected: String, on db: any Database) async throws -> [SelectOption] {
        var options = [SelectOption(value: principal.id.text, label: "\(principal.displayName) (you)", selected: principal.id.text == selected)]
        let resources = try await Resource.query(on: db).filter(\.$active == true).sort(\.$lastName).sort(\.$firstName).limit(500).all()
        for resource in resources where resource.id != principal.id {
            guard AccessPolicy.timesheetRights(for: principal, of: TimesheetPerson(id: resource.id!, kind: .resource)).view else { continue }
            options.append(SelectOption(value: resource.id!.text, label: resource.fullName, selected: resource.id!.text == selected))
        }
        let users = try await CoManagingUser.query(on: db).filter(\.$active == true).filter(\.$erased == false).sort(\.$username).limit(500).all()
        var viewers: [UUID: Set<UUID>] = [:]
        for row in try await TimesheetViewer.query(on: db).filter(\.$coManagingUserId ~~ users.compactMap(\.id)).all() {
            viewers[row.coManagingUserId, default: []].insert(row.resourceId)
        }
        for user in users where user.id != principal.id {
            let person = TimesheetPerson(id: user.id!, kind: .coManagingUser, organizationId: user.organizationId, viewerIds: viewers[user.id!] ?? [])
            guard AccessPolicy.timesheetRights(for: principal, of: person).view else { continue }
            options.append(SelectOption(value: user.id!.text, label: "\(user.username) (co-managing)", selected: user.id!.text == selected))
        }
        return options
    }

    static func label(_ status: String) -> String {
        switch TimesheetStatus(rawValue: status) ?? .open {
        case .open: "Open"
        case .submitted: "Submitted: waiting for approval; its time is locked"
        case .approved: "Approved: its time is locked"
        case .rejected: "Rejected: open again, to be submitted again"
        }
    }

    static func duration(_ minutes: Int) -> String {
        minutes == 0 ? "—" : "\(minutes / 60):" + String(format: "%02d", minutes % 60)
    }
}

extension Money {
    /// The amount an exact JSON number holds (cents; the API's amounts have at most two places).
    static func from(_ decimal: Decimal) -> Money {
        Money(cents: BillingDecimal(exactly: decimal).map { $0.units / 100 } ?? 0)
    }
}

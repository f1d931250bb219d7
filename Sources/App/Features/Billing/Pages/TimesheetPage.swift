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

    static let notices = ["submit": "The week was submitted.", "approve": "The week was approved.", "reject": "The week was rejected."]

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.timesheets.pathComponents, use: show)
        for action in TimesheetStatus.Action.allCases {
            routes.post(PageRoutes.timesheetAction(action.rawValue).pathComponents) { req in try await act(action, req) }
        }
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let personId = try req.queryText("personId").flatMap { text -> UUID? in
            guard !text.isEmpty else { return nil }
            guard let id = UUID(uuidString: text) else { throw TandemError.notFound(Timesheets.what) }
            return id
        }
        let week: ISOWeek
        do {
            week = try Timesheets.week(req.queryText("week"), on: req.db)
        } catch let error as TandemError {
            // An unreadable week shows the current one with the problem beside the week.
            let sheet = try await Timesheets.get(personId: personId, week: ISOWeek(containing: req.db.now), by: principal, on: req.db)
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
        _ req: Request, sheet: TimesheetDTO, reason: String = "", notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let week = ISOWeek(parsing: sheet.week) ?? ISOWeek(containing: req.db.now)
        func link(_ other: ISOWeek) -> String {
            PageURL.with(PageRoutes.timesheets.url(), query: [("personId", sheet.personId), ("week", other.description)])
        }
        let billing = sheet.amount != nil
        let model = Model(
            layout: req.pageLayout("Timesheet \(sheet.week) · \(sheet.personName)", section: "timesheets"), sheet: sheet,
            statusLabel: label(sheet.status), days: sheet.days.map { Day(date: $0.date, time: duration($0.minutes)) },
            entries: sheet.entries.map { entry in
                Entry(
                    workedAt: PageFormat.date(entry.workedAt),
                    ticketURL: PageURL.ticket(UUID(uuidString: entry.ticketId)!).path + "#time-\(entry.id.lowercased())",
                    time: duration(entry.minutes), billable: entry.billable ? "Billable" : "Not billable",
                    amount: billing ? entry.amount.map { Money.from($0).description } ?? "" : nil, summary: entry.summary)
            },
            total: duration(sheet.minutes), billable: duration(sheet.billableMinutes), amount: sheet.amount.map { Money.from($0).description },
            people: try await people(for: principal, selected: sheet.personId, on: req.db), previousURL: link(week.previous), nextURL: link(week.next),
            action: PageRoutes.timesheets.url(), mayReject: sheet.actions.contains("reject"), reason: reason, notice: notice, feedback: feedback)
        return try await req.renderPage(view, model, status: status)
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

import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

struct TimesheetDayDTO: Content, Equatable {
    /// `YYYY-MM-DD` in the person's time zone.
    var date: String
    var minutes: Int
}

/// A person's week: its state, its days and totals, and the time entries the reader may see.
struct TimesheetDTO: Content {
    var personId: String
    /// `resource` or `coManagingUser`.
    var personKind: String
    var personName: String
    /// `2026-W49`.
    var week: String
    /// The IANA time zone whose days the week's are (the person's; `UTC` when they have none).
    var timeZone: String
    /// A co-managing user's `timesheetStart`: time worked before that day is on no timesheet.
    var startsOn: String?
    var status: String
    var submittedAt: Date?
    var decidedAt: Date?
    var decidedById: String?
    var decidedByName: String?
    /// Why the week was rejected.
    var reason: String?
    var days: [TimesheetDayDTO]
    var minutes: Int
    var billableMinutes: Int
    /// The sum of the entries' rounded amounts; only for those who may see billing.
    var amount: Decimal?
    /// What the reader may do now: `submit`, `approve`, `reject`.
    var actions: [String]
    var entries: [TimeEntryDTO]
    /// The person's expenses of the week the reader may see (`AccessPolicy.expenseScope`), by day.
    var expenses: [ExpenseDTO]
    /// The sum of those expenses' amounts, and of the billable ones.
    var expenseAmount: Decimal
    var billableExpenseAmount: Decimal
}

struct TimesheetActionInput: Decodable, Sendable {
    var personId: Patch<String> = .absent
    var week: Patch<String> = .absent
    var reason: Patch<String> = .absent
}

struct TimesheetViewersDTO: Content {
    var coManagingUserId: String
    var resourceIds: [String]
}

struct TimesheetViewersInput: Decodable, Sendable {
    var resourceIds: Patch<[String]> = .absent
}

/// Timesheets (Autotask): a person's time entries by ISO week, submitted and approved for MSP resources, viewed by
/// their viewers for co-managing users; time of a submitted or approved week is locked.
enum Timesheets {
    static let what = "timesheet"

    /// Where a person's timesheet days are: an MSP resource's `timeZone`, a co-managing user's internal location's,
    /// else UTC; and the day a co-managing user's timesheets start (`timesheetStart`).
    struct Calendar: Sendable {
        /// The IANA name as stored (`UTC` without one).
        var name: String
        var zone: TimeZone
        var startsOn: String?

        init(name: String?, startsOn: String?) {
            let zone = name.flatMap(TimeZone.init(identifier:))
            self.name = zone == nil ? "UTC" : name!
            self.zone = zone ?? TimeZone(identifier: "UTC")!
            self.startsOn = startsOn
        }
    }

    static func calendar(of personId: UUID, on db: any Database) async throws -> Calendar {
        if let resource = try await Resource.find(personId, on: db) { return Calendar(name: resource.timeZone, startsOn: nil) }
        guard let user = try await CoManagingUser.find(personId, on: db) else { return Calendar(name: nil, startsOn: nil) }
        let location = try await user.internalLocationId.asyncMap { try await InternalLocation.find($0, on: db) } ?? nil
        return Calendar(name: location?.timeZone, startsOn: user.timesheetStart)
    }

    /// Whose timesheet `id` is, and their name; nil when the id is no resource or co-managing user.
    static func person(_ id: UUID, on db: any Database) async throws -> (person: TimesheetPerson, name: String)? {
        if let resource = try await Resource.find(id, on: db) {
            return (TimesheetPerson(id: id, kind: .resource), resource.fullName)
        }
        guard let user = try await CoManagingUser.find(id, on: db), !user.erased else { return nil }
        let viewers = try await TimesheetViewer.query(on: db).filter(\.$coManagingUserId == id).all(\.$resourceId)
        let contact = try await Contact.find(user.contactId, on: db)
        return (
            TimesheetPerson(id: id, kind: .coManagingUser, organizationId: user.organizationId, viewerIds: Set(viewers)),
            contact.map { "\($0.firstName) \($0.lastName)" } ?? user.username
        )
    }

    /// The person and the reader's rights on their timesheet; 404 when the reader may not view it (or it is nobody's).
    static func visible(_ personId: UUID, by principal: Principal, on db: any Database) async throws -> (TimesheetPerson, String, TimesheetRights) {
        guard let (person, name) = try await person(personId, on: db) else { throw TandemError.notFound(what) }
        let rights = AccessPolicy.timesheetRights(for: principal, of: person)
        guard rights.view else { throw TandemError.notFound(what) }
        return (person, name, rights)
    }

    /// The week a query names; nil when it names none (the person's current week, in their zone).
    static func givenWeek(_ text: String?) throws -> ISOWeek? {
        guard let text, !text.isEmpty else { return nil }
        guard let week = ISOWeek(parsing: text) else { throw TandemError.invalid("week", "'\(text)' is not an ISO week such as 2026-W49") }
        return week
    }

    static func week(_ text: String?, _ field: String = "week", on db: any Database) throws -> ISOWeek {
        guard let text, !text.isEmpty else { return ISOWeek(containing: db.now) }
        guard let week = ISOWeek(parsing: text) else { throw TandemError.invalid(field, "'\(text)' is not an ISO week such as 2026-W49") }
        return week
    }

    /// `week` nil: the week the person is in now, in their zone.
    static func get(personId: UUID?, week: ISOWeek?, by principal: Principal, on db: any Database) async throws -> TimesheetDTO {
        let (person, name, rights) = try await visible(personId ?? principal.id, by: principal, on: db)
        let current = try await week == nil ? ISOWeek(containing: db.now, in: calendar(of: person.id, on: db).zone) : week!
        return try await dto(person, name: name, week: current, rights: rights, by: principal, on: db)
    }

    /// Submits, approves or rejects the week; answers the timesheet as the reader then reads it.
    static func act(_ action: TimesheetStatus.Action, _ input: TimesheetActionInput, by principal: Principal, on db: any Database) async throws -> TimesheetDTO
    {
        var validator = FieldValidator()
        let personId = action == .submit && input.personId.value == nil ? principal.id : validator.id(input.personId.value, "personId")
        let weekText = validator.text(input.week.value, "week", max: 8)
        let reason = action == .reject ? validator.text(input.reason.value, "reason", max: 1000) : nil
        try validator.check()
        guard let personId, let weekText else { throw TandemError.validation(validator.errors) }
        let (person, name, rights) = try await visible(personId, by: principal, on: db)
        let week = try self.week(weekText, on: db)
        switch action {
        case .submit: try AccessPolicy.authorizeTimesheetSubmit(rights, person: person)
        case .approve, .reject: try AccessPolicy.authorizeTimesheetDecision(rights, person: person)
        }
        try await mapUniqueViolation("the timesheet changed at the same moment; read it again") {
            try await db.write { db in
                let row = try await lockRows(personId: personId, weeks: [week.description], exclusive: true, on: db).first
                let before = row.map(\.state) ?? .open
                let after = try before.after(action)
                if action != .submit {
                    let (_, hidden) = try await entries(of: personId, in: week, calendar: calendar(of: personId, on: db), by: principal, on: db)
                    guard hidden == 0 else { throw TandemError.forbidden("the week has time on tickets you cannot see; someone who sees all of it decides it") }
                }
                let sheet = row ?? Timesheet()
                if row == nil {
                    sheet.id = .v7()
                    sheet.personId = personId
                    sheet.week = week.description
                }
                sheet.status = after.rawValue
                switch action {
                case .submit:
                    sheet.submittedAt = db.now
                    sheet.decidedAt = nil
                    sheet.decidedById = nil
                    sheet.decidedByName = nil
                    sheet.reason = nil
                case .approve, .reject:
                    sheet.decidedAt = db.now
                    sheet.decidedById = principal.id
                    sheet.decidedByName = principal.displayName
                    sheet.reason = reason
                }
                try await sheet.save(on: db)
                let facts = ["personId": personId.text, "week": week.description, "status": after.rawValue]
                try await Audit.record(
                    actionName(action), Timesheet.schema, id: sheet.id, by: principal, before: ["status": before.rawValue],
                    after: reason.map { facts.merging(["reason": $0]) { $1 } } ?? facts, on: db)
            }
        }
        return try await dto(person, name: name, week: week, rights: rights, by: principal, on: db)
    }

    private static func actionName(_ action: TimesheetStatus.Action) -> String {
        switch action {
        case .submit: "submitted"
        case .approve: "approved"
        case .reject: "rejected"
        }
    }

    /// The person's entries of the week (its days in the person's zone, from the start of their timesheets) the reader
    /// may see (ticket scope and publish-to), oldest first, with their tickets' organizations, and how many it may not.
    static func entries(of personId: UUID, in week: ISOWeek, calendar: Calendar, by principal: Principal, on db: any Database) async throws -> (
        [(TimeEntry, UUID)], hidden: Int
    ) {
        var start = week.start(in: calendar.zone)
        let end = week.end(in: calendar.zone)
        if let first = calendar.startsOn.flatMap({ TimesheetStart.moment($0, in: calendar.zone) }), first > start { start = first }
        guard start < end else { return ([], 0) }
        let all = try await TimeEntry.query(on: db).filter(\.$authorId == personId).filter(\.$workedAt >= start).filter(\.$workedAt < end)
            .sort(\.$workedAt).sort(\.$id).all()
        guard !all.isEmpty else { return ([], 0) }
        let ticketIds = Array(Set(all.map(\.ticketId)))
        let tickets = try await Ticket.query(on: db).filter(\.$id ~~ ticketIds).filter(AccessPolicy.ticketScope(for: principal), on: Ticket.scopeTable).all()
        let organizations = Dictionary(uniqueKeysWithValues: tickets.map { ($0.id!, $0.organizationId) })
        let items = AccessPolicy.ticketItemScope(for: principal, area: .timeEntries)
        let shown = all.compactMap { entry -> (TimeEntry, UUID)? in
            guard let organization = organizations[entry.ticketId],
                items.evaluate(ScopeFacts(values: [.id: entry.id], publishTo: PublishTo(rawValue: entry.publishTo)))
            else { return nil }
            return (entry, organization)
        }
        return (shown, all.count - shown.count)
    }

    static func dto(_ person: TimesheetPerson, name: String, week: ISOWeek, rights: TimesheetRights, by principal: Principal, on db: any Database)
        async throws -> TimesheetDTO
    {
        let row = try await Timesheet.query(on: db).filter(\.$personId == person.id).filter(\.$week == week.description).first()
        let state = row?.state ?? .open
        let calendar = try await calendar(of: person.id, on: db)
        let (shown, _) = try await entries(of: person.id, in: week, calendar: calendar, by: principal, on: db)
        let lines = shown.map { entry, organization in
            TimesheetLine(
                workedAt: entry.workedAt, minutes: entry.minutes, billable: entry.billable,
                amount: AccessPolicy.seesAmount(principal, organizationId: organization) ? entry.amount : .zero)
        }
        let totals = TimesheetTotals(week: week, lines: lines, in: calendar.zone)
        // A co-managing user has none (they cannot track expenses), so the same question answers their week too.
        let expenses = try await ExpensesCollection.ofWeek(person.id, week, by: principal, on: db)
        var actions: [String] = []
        if rights.submit, (try? state.after(.submit)) != nil { actions.append(TimesheetStatus.Action.submit.rawValue) }
        if rights.approve, state == .submitted { actions += [TimesheetStatus.Action.approve.rawValue, TimesheetStatus.Action.reject.rawValue] }
        return TimesheetDTO(
            personId: person.id.text, personKind: person.kind.rawValue, personName: name, week: week.description, timeZone: calendar.name,
            startsOn: calendar.startsOn, status: state.rawValue,
            submittedAt: row?.submittedAt, decidedAt: row?.decidedAt, decidedById: row?.decidedById?.text, decidedByName: row?.decidedByName,
            reason: row?.reason, days: totals.days.map { TimesheetDayDTO(date: $0.day, minutes: $0.minutes) }, minutes: totals.minutes,
            billableMinutes: totals.billableMinutes, amount: AccessPolicy.seesBilling(principal) ? totals.amount.decimal : nil, actions: actions,
            entries: shown.map { TimeEntryDTO($0.0).shown(to: principal, organizationId: $0.1) }, expenses: expenses.map(ExpenseDTO.init),
            expenseAmount: Money.sum(expenses.map(\.amount)).decimal, billableExpenseAmount: Money.sum(expenses.filter(\.billable).map(\.amount)).decimal)
    }

    // MARK: Locked weeks

    /// Refuses a change of `personId`'s time worked at `moments` when one falls in a submitted or approved week.
    /// The weeks' rows are held shared until the write commits, so a submission of one of them waits for it (and a
    /// write waits for a submission in progress, then sees it): no time slips into a week as it is submitted.
    static func requireUnlocked(personId: UUID, at moments: [Date], on db: any Database) async throws {
        let zone = try await calendar(of: personId, on: db).zone
        try await requireUnlocked(personId: personId, weeks: moments.map { ISOWeek(containing: $0, in: zone) }, what: "this time", on: db)
    }

    /// Refuses a change of `personId`'s time or expenses (`what`) of `weeks` when one is submitted or approved.
    static func requireUnlocked(personId: UUID, weeks: [ISOWeek], what: String, on db: any Database) async throws {
        let weeks = Set(weeks.map(\.description)).sorted()
        guard !weeks.isEmpty else { return }
        let locked = try await lockRows(personId: personId, weeks: weeks, exclusive: false, on: db).first { $0.state.locksEntries }
        if let locked {
            let noun = what == "this time" ? "time" : "expenses"
            throw TandemError.conflict(
                "\(what) falls in week \(locked.week) of the timesheet, which is \(locked.status); \(noun) in a submitted or approved week \(noun == "time" ? "is" : "are") locked (a rejected week opens again)"
            )
        }
    }

    /// The person's rows of `weeks`, made (open) when missing and locked until the transaction ends: shared for a time
    /// entry's write, exclusive for a change of the week's state. (SQLite has one writer and needs no row locks.)
    static func lockRows(personId: UUID, weeks: [String], exclusive: Bool, on db: any Database) async throws -> [Timesheet] {
        for week in weeks {
            try await db.sql.insert(into: Timesheet.schema).columns("id", "person_id", "week", "status")
                .values(SQLBind(UUID.v7()), SQLBind(personId), SQLBind(week), SQLBind(TimesheetStatus.open.rawValue))
                .ignoringConflicts(with: ["person_id", "week"]).run()
        }
        try await db.sql.select().column("id").from(Timesheet.schema).where("person_id", .equal, SQLBind(personId)).where("week", .in, weeks)
            .orderBy("week").for(exclusive ? .update : .share).run()
        return try await Timesheet.query(on: db).filter(\.$personId == personId).filter(\.$week ~~ weeks).sort(\.$week).all()
    }

    // MARK: Viewers of co-managing users' timesheets

    static func viewers(of userId: UUID, by principal: Principal, on db: any Database) async throws -> TimesheetViewersDTO {
        _ = try await CoManagingUsers.visible(userId, by: principal, on: db)
        let ids = try await TimesheetViewer.query(on: db).filter(\.$coManagingUserId == userId).all(\.$resourceId)
        return TimesheetViewersDTO(coManagingUserId: userId.text, resourceIds: ids.map(\.text).sorted())
    }

    static func setViewers(of userId: UUID, _ input: TimesheetViewersInput, by principal: Principal, on db: any Database) async throws -> TimesheetViewersDTO {
        let user = try await CoManagingUsers.visible(userId, by: principal, on: db)
        guard let (person, _) = try await person(userId, on: db) else { throw TandemError.notFound(CoManagingUsers.what) }
        try AccessPolicy.authorizeTimesheetViewers(principal, of: person)
        var validator = FieldValidator()
        guard let given = input.resourceIds.value else { throw TandemError.invalid("resourceIds", "is required (an empty list removes every viewer)") }
        let ids = given.enumerated().compactMap { index, text in validator.id(text, "resourceIds[\(index)]") }
        if Set(ids).count != ids.count { validator.fail("resourceIds", "lists the same resource twice") }
        try validator.check()
        for (index, id) in ids.enumerated() {
            guard let resource = try await Resource.find(id, on: db), resource.active else {
                validator.fail("resourceIds[\(index)]", "no active MSP resource with id \(id.text)")
                continue
            }
            let restrictions =
                resource.clientRestricted ? Set(try await ResourceClientRestriction.query(on: db).filter(\.$resourceId == id).all(\.$organizationId)) : nil
            if !AccessPolicy.mayViewTimesheets(clientRestrictions: restrictions, organizationId: user.organizationId) {
                validator.fail("resourceIds[\(index)]", "\(resource.fullName)'s client restrictions exclude this co-managing user's organization")
            }
        }
        try validator.check()
        let before = try await viewers(of: userId, by: principal, on: db)
        try await db.write { db in
            try await TimesheetViewer.query(on: db).filter(\.$coManagingUserId == userId).delete()
            for id in ids { try await TimesheetViewer(coManagingUserId: userId, resourceId: id).create(on: db) }
            try await Audit.record(
                "updated", TimesheetViewer.schema, id: userId, by: principal, organizationId: user.organizationId, before: before,
                after: TimesheetViewersDTO(coManagingUserId: userId.text, resourceIds: ids.map(\.text).sorted()), on: db)
        }
        return try await viewers(of: userId, by: principal, on: db)
    }
}

/// `/api/v1/timesheets` and `/api/v1/co-managing-users/{id}/timesheet-viewers`.
enum TimesheetsAPI {
    static func register(_ api: any RoutesBuilder) {
        let timesheets = api.grouped("timesheets")
        timesheets.get { req async throws -> TimesheetDTO in
            let personText = req.queryText("personId")
            let personId = try personText.map { text in
                guard let id = UUID(uuidString: text) else { throw TandemError.invalid("personId", "'\(text)' is not a valid id") }
                return id
            }
            return try await Timesheets.get(
                personId: personId, week: Timesheets.givenWeek(req.queryText("week")), by: req.principal, on: req.db)
        }
        for action in TimesheetStatus.Action.allCases {
            timesheets.post(PathComponent(stringLiteral: action.rawValue)) { req async throws -> TimesheetDTO in
                try await Timesheets.act(action, req.content.decode(TimesheetActionInput.self), by: req.principal, on: req.db)
            }
        }
        let viewers = api.grouped("co-managing-users", ":id", "timesheet-viewers")
        viewers.get { req async throws -> TimesheetViewersDTO in
            try await Timesheets.viewers(of: req.id("id", CoManagingUsers.what), by: req.principal, on: req.db)
        }
        viewers.put { req async throws -> TimesheetViewersDTO in
            try await Timesheets.setViewers(
                of: req.id("id", CoManagingUsers.what), req.content.decode(TimesheetViewersInput.self), by: req.principal, on: req.db)
        }
    }
}

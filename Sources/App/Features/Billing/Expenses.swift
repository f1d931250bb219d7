import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// An expense item of a person (Autotask): a day's mileage, travel, meals, lodging, materials or other cost, on an
/// organization (and optionally one of its tickets), in exact cents.
final class Expense: Model, VersionedRow, @unchecked Sendable {
    static let schema = "expenses"
    /// `AccessPolicy.expenseScope`'s facts.
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .owner: "person_id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "person_id") var personId: UUID
    @Field(key: "organization_id") var organizationId: UUID
    @OptionalField(key: "ticket_id") var ticketId: UUID?
    /// `YYYY-MM-DD`: the day it belongs to (and so its timesheet week).
    @Field(key: "date") var date: String
    @Field(key: "category") var category: String
    @Field(key: "description") var description: String
    @Field(key: "amount_cents") var amountCents: Int64
    @OptionalField(key: "distance_units") var distanceUnits: Int64?
    @OptionalField(key: "mileage_rate_units") var mileageRateUnits: Int64?
    @Field(key: "billable") var billable: Bool
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var amount: Money { Money(cents: amountCents) }

    /// The timesheet week the expense belongs to.
    var week: ISOWeek? { ExpenseDay.week(of: date) }
}

struct ExpenseDTO: Content, Equatable {
    var id: String
    var personId: String
    /// `YYYY-MM-DD`.
    var date: String
    /// The ISO week of `date`, whose timesheet holds the expense (`2026-W49`).
    var week: String
    /// `mileage`, `travel`, `meals`, `lodging`, `materials` or `other`.
    var category: String
    var description: String
    /// Exact, with at most two places; for mileage given as distance × rate, that product rounded to the cent half up.
    var amount: Decimal
    var distance: Decimal?
    var mileageRate: Decimal?
    var billable: Bool
    var organizationId: String
    var ticketId: String?
    /// Increases with every change; a PATCH that names an older one changes nothing (409).
    var version: Int
    var createdAt: Date?
    var updatedAt: Date?

    init(_ row: Expense) {
        id = row.id!.uuidString
        personId = row.personId.uuidString
        date = row.date
        week = row.week?.description ?? ""
        category = row.category
        description = row.description
        amount = row.amount.decimal
        distance = row.distanceUnits.map { BillingDecimal(units: $0).decimal }
        mileageRate = row.mileageRateUnits.map { BillingDecimal(units: $0).decimal }
        billable = row.billable
        organizationId = row.organizationId.uuidString
        ticketId = row.ticketId?.uuidString
        version = row.version
        createdAt = row.createdAt
        updatedAt = row.updatedAt
    }
}

/// `POST` and `PATCH` bodies. On a PATCH, absent fields keep their value; `version`, when given, must be the current one.
struct ExpenseInput: Decodable, Sendable {
    var date: Patch<String> = .absent
    var category: Patch<String> = .absent
    var description: Patch<String> = .absent
    var amount: Patch<Decimal> = .absent
    var distance: Patch<Decimal> = .absent
    var mileageRate: Patch<Decimal> = .absent
    var billable: Patch<Bool> = .absent
    var ticketId: Patch<String> = .absent
    var organizationId: Patch<String> = .absent
    var version: Patch<Int> = .absent
}

/// `/api/v1/expenses[?personId=&from=&to=&ticketId=&organizationId=]`: who reads and changes which is
/// `AccessPolicy.expenseScope` (an expense outside it is a 404); creating needs `AccessPolicy.authorizeExpenses`.
/// An expense of a submitted or approved timesheet week is locked (409), checked in the write's transaction with the
/// week's row held as time entries hold it. Changes are audited (the whole expense before and after).
enum ExpensesCollection: CRUDCollection {
    static let path: PathComponent = "expenses"
    static let what = "expense"
    static var table: ScopeTable { Expense.scopeTable }

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.expenseScope(for: principal, operation)
    }

    static func authorizeCreate(_ principal: Principal) throws {
        try AccessPolicy.authorizeExpenses(principal)
    }

    static func authorize(_ operation: AccessOperation, _ row: Expense, by principal: Principal, on db: any Database) throws {
        try AccessPolicy.authorizeExpenseChange(principal, operation, personId: row.personId, organizationId: row.organizationId)
    }

    static func narrow(_ query: QueryBuilder<Expense>, _ req: Request) throws -> QueryBuilder<Expense> {
        var validator = FieldValidator()
        let personId = req.queryText("personId").flatMap { validator.id($0, "personId") }
        let ticketId = req.queryText("ticketId").flatMap { validator.id($0, "ticketId") }
        let organizationId = req.queryText("organizationId").flatMap { validator.id($0, "organizationId") }
        let from = req.queryText("from").flatMap { day($0, "from", &validator) }
        let to = req.queryText("to").flatMap { day($0, "to", &validator) }
        if let from, let to, to < from { validator.fail("to", "must not be before from") }
        try validator.check()
        var query = query
        if let personId { query = query.filter(\.$personId == personId) }
        if let ticketId { query = query.filter(\.$ticketId == ticketId) }
        if let organizationId { query = query.filter(\.$organizationId == organizationId) }
        if let from { query = query.filter(\.$date >= from) }
        if let to { query = query.filter(\.$date <= to) }
        return query
    }

    /// A real date written `YYYY-MM-DD`, or a failure of `field`.
    static func day(_ text: String, _ field: String, _ validator: inout FieldValidator) -> String? {
        guard UTCDay.start(of: text) != nil else {
            validator.fail(field, "'\(text)' is not a date written YYYY-MM-DD")
            return nil
        }
        return text
    }

    static func dto(_ row: Expense, on db: any Database) async throws -> ExpenseDTO { ExpenseDTO(row) }

    static func apply(_ input: ExpenseInput, to row: Expense, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        let principal = try req.principal
        if case .null = input.version { throw TandemError.invalid("version", "must be a number") }
        if !creating, let version = input.version.value, version != row.version {
            throw TandemError.conflict(
                "the expense was changed since you read it (version \(version), now \(row.version)): reload it and apply your change again")
        }
        var validator = FieldValidator()
        let weekBefore = creating ? nil : row.week
        // Each field: the body's, else (on a PATCH) the row's.
        let date = input.date.isAbsent && !creating ? row.date : validator.text(input.date.value, "date", max: 10).flatMap { day($0, "date", &validator) }
        let category =
            input.category.isAbsent && !creating
            ? ExpenseCategory(rawValue: row.category) : validator.choice(input.category.value, "category", as: ExpenseCategory.self)
        let description =
            input.description.isAbsent && !creating ? row.description : validator.text(input.description.value, "description", max: 500)
        let billable = input.billable.value ?? (creating ? true : row.billable)
        if case .null = input.billable { validator.fail("billable", "must be true or false") }
        // The amount: recomputed when any of its parts (or the category) is given; a mileage expense keeps its distance
        // and rate unless the body replaces them.
        var amount: ExpenseAmount? = ExpenseAmount(
            amount: creating ? .zero : row.amount, distance: creating ? nil : row.distanceUnits.map(BillingDecimal.init(units:)),
            mileageRate: creating ? nil : row.mileageRateUnits.map(BillingDecimal.init(units:)))
        if creating || !input.amount.isAbsent || !input.distance.isAbsent || !input.mileageRate.isAbsent || !input.category.isAbsent {
            let keepsMileage = !creating && input.amount.isAbsent && category == .mileage
            let distance = input.distance.isAbsent && keepsMileage ? amount?.distance?.decimal : input.distance.value
            let rate = input.mileageRate.isAbsent && keepsMileage ? amount?.mileageRate?.decimal : input.mileageRate.value
            let given = input.amount.isAbsent && !creating && distance == nil ? row.amount.decimal : input.amount.value
            amount = ExpenseAmount.resolve(category: category, amount: given, distance: distance, mileageRate: rate, validator: &validator)
        }
        // Where: a ticket the person may see (its organization is the expense's), or an organization they may see.
        let ticketText = input.ticketId.value, organizationText = input.organizationId.value
        let ticketId = ticketText.flatMap { validator.id($0, "ticketId") }
        let organizationId = organizationText.flatMap { validator.id($0, "organizationId") }
        try validator.check()
        guard let date, let category, let description, let amount else { throw TandemError.validation(validator.errors) }
        var placeTicket = creating ? nil : row.ticketId
        var placeOrganization = creating ? nil : row.organizationId
        if case .null = input.ticketId { placeTicket = nil }
        if let ticketId {
            guard
                let ticket = try await Ticket.query(on: req.db).filter(\.$id == ticketId)
                    .filter(AccessPolicy.ticketScope(for: principal), on: Ticket.scopeTable).first()
            else { throw TandemError.invalid("ticketId", "no ticket you can see has this id") }
            if let organizationId, organizationId != ticket.organizationId {
                throw TandemError.invalid("organizationId", "must be the ticket's organization, or left out")
            }
            placeTicket = ticketId
            placeOrganization = ticket.organizationId
        } else if let organizationId {
            guard
                try await Organization.query(on: req.db).filter(\.$id == organizationId)
                    .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable).first() != nil
            else { throw TandemError.invalid("organizationId", "no organization you can see has this id") }
            if placeTicket != nil, organizationId != placeOrganization {
                throw TandemError.invalid("organizationId", "must be the ticket's organization; change or remove ticketId with it")
            }
            placeOrganization = organizationId
        }
        guard let organization = placeOrganization else { throw TandemError.invalid("organizationId", "is required without a ticketId") }
        if creating {
            row.personId = principal.id
            row.version = 1
        } else {
            row.version += 1
        }
        // The expense must stay where its person may change it (their client restrictions).
        try AccessPolicy.authorizeExpenseChange(principal, creating ? .create : .edit, personId: row.personId, organizationId: organization)
        row.date = date
        row.category = category.rawValue
        row.description = description
        row.amountCents = amount.amount.cents
        row.distanceUnits = amount.distance?.units
        row.mileageRateUnits = amount.mileageRate?.units
        row.billable = billable
        row.ticketId = placeTicket
        row.organizationId = organization
        let personId = row.personId
        let weeks = [weekBefore, ExpenseDay.week(of: date)].compactMap { $0 }
        return { db in
            try await Timesheets.requireUnlocked(personId: personId, weeks: weeks, what: "this expense", on: db)
            return []
        }
    }

    static func prepareDelete(_ row: Expense, on db: any Database) async throws {
        try await Timesheets.requireUnlocked(personId: row.personId, weeks: row.week.map { [$0] } ?? [], what: "this expense", on: db)
    }

    static func organizationId(_ row: Expense) -> UUID? { row.organizationId }

    static func clash(_ row: Expense) -> String? { nil }
}

extension ExpensesCollection {
    /// The person's expenses of `week` the reader may see, by day.
    static func ofWeek(_ personId: UUID, _ week: ISOWeek, by principal: Principal, on db: any Database) async throws -> [Expense] {
        let scope = scope(for: principal, .view)
        guard scope != .none else { return [] }
        let days = week.days
        return try await Expense.query(on: db).filter(\.$personId == personId).filter(\.$date >= days[0]).filter(\.$date <= days[6])
            .filter(scope, on: table).sort(\.$date).sort(\.$id).all()
    }

    /// The sum of an organization's billable expenses dated in `days` (first and last included), in cents.
    static func billableTotal(organizationId: UUID, from: String, through: String, on db: any Database) async throws -> Money {
        let row = try await db.sql.select()
            .column(SQLRaw("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"), as: "cents")
            .from(Expense.schema)
            .where("organization_id", .equal, SQLBind(organizationId))
            .where("billable", .equal, SQLBind(true))
            .where("date", .greaterThanOrEqual, SQLBind(from))
            .where("date", .lessThanOrEqual, SQLBind(through))
            .first()
        return Money(cents: try row?.decode(column: "cents", as: Int64.self) ?? 0)
    }
}

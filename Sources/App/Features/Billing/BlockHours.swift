import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// A block-hour contract with what its organization's billable time used of it (computed, never stored).
struct BlockHourContractDTO: Content {
    var id: String
    var organizationId: String
    var name: String
    var hoursBought: Decimal
    var startsOn: String
    var endsOn: String?
    var thresholdPercent: Int
    /// Block hours used (hours × the role's multiplier), rounded to 0.01 h half up.
    var hoursUsed: Decimal
    /// `hoursBought − hoursUsed`; negative when overdrawn.
    var hoursLeft: Decimal
    /// Block minutes used, exact.
    var minutesUsed: Decimal
    var thresholdReached: Bool
    /// When `blockHours.thresholdReached` was recorded (once per contract).
    var thresholdReachedAt: Date?
    /// Increases with every change; a PATCH that names an older one changes nothing (409).
    var version: Int
}

struct BlockHourContractInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var hoursBought: Patch<Decimal> = .absent
    var startsOn: Patch<String> = .absent
    var endsOn: Patch<String> = .absent
    var thresholdPercent: Patch<Int> = .absent
    var version: Patch<Int> = .absent
}

/// Block-hour contracts per organization, their use, and the once-per-contract threshold event.
enum BlockHours {
    static let what = "block-hour contract"
    static let notices = "block_hour_notices"

    // MARK: Reads

    /// The organization's contracts, by start; 404 when the organization is hidden, 403 when its billing is.
    static func list(organizationId: UUID, page: PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<BlockHourContractDTO> {
        try await requireBilling(organizationId, .view, by: principal, on: db)
        let (rows, next) = try await BlockHourContract.query(on: db).filter(\.$organizationId == organizationId)
            .filter(AccessPolicy.blockHourContractScope(for: principal), on: BlockHourContract.scopeTable).page(page)
        var items: [BlockHourContractDTO] = []
        for row in rows { items.append(try await dto(row, on: db)) }
        return ListPage(items: items, nextCursor: next)
    }

    /// One contract of the organization the principal may see; 404 otherwise.
    static func visible(organizationId: UUID, id: UUID, by principal: Principal, on db: any Database) async throws -> BlockHourContract {
        let row = try await Lookup.visible(
            BlockHourContract.self, id, scope: AccessPolicy.blockHourContractScope(for: principal), table: BlockHourContract.scopeTable, what: what, on: db)
        guard row.organizationId == organizationId else { throw TandemError.notFound(what) }
        return row
    }

    static func dto(_ row: BlockHourContract, on db: any Database) async throws -> BlockHourContractDTO {
        let state = try await self.state(row, on: db)
        let reachedAt = try await db.sql.select().column("reached_at").from(notices).where("contract_id", .equal, SQLBind(row.id!)).first()
            .map { try $0.decode(column: "reached_at", as: Date.self) }
        return BlockHourContractDTO(
            id: row.id!.text, organizationId: row.organizationId.text, name: row.name, hoursBought: row.hoursBought.decimal, startsOn: row.startsOn,
            endsOn: row.endsOn, thresholdPercent: row.thresholdPercent, hoursUsed: state.hoursUsed.decimal, hoursLeft: state.hoursLeft.decimal,
            minutesUsed: state.minutesUsed.decimal, thresholdReached: state.thresholdReached, thresholdReachedAt: reachedAt, version: row.version)
    }

    static func state(_ row: BlockHourContract, on db: any Database) async throws -> BlockHourState {
        BlockHourState(
            hoursBought: row.hoursBought, usedMinuteUnits: try await usedMinuteUnits(row, on: db), thresholdPercent: row.thresholdPercent)
    }

    /// Σ minutes × multiplier of the organization's billable time worked within the contract's days (UTC), exact.
    static func usedMinuteUnits(_ row: BlockHourContract, on db: any Database) async throws -> Int64 {
        guard let start = UTCDay.start(of: row.startsOn) else { return 0 }
        let end = row.endsOn.flatMap(UTCDay.start(of:)).map { $0.addingTimeInterval(86_400) }
        var query = db.sql.select()
            .column(SQLRaw("CAST(COALESCE(SUM(time_entries.minutes * time_entries.block_hour_multiplier_units), 0) AS BIGINT)"), as: "used")
            .from(TimeEntry.schema)
            .join(Ticket.schema, on: SQLColumn("id", table: Ticket.schema), SQLBinaryOperator.equal, SQLColumn("ticket_id", table: TimeEntry.schema))
            .where(SQLColumn("organization_id", table: Ticket.schema), .equal, SQLBind(row.organizationId))
            .where(SQLColumn("billable", table: TimeEntry.schema), .equal, SQLBind(true))
            .where(SQLColumn("worked_at", table: TimeEntry.schema), .greaterThanOrEqual, SQLBind(start))
        if let end { query = query.where(SQLColumn("worked_at", table: TimeEntry.schema), .lessThan, SQLBind(end)) }
        return try await query.first()?.decode(column: "used", as: Int64.self) ?? 0
    }

    // MARK: Writes

    static func create(organizationId: UUID, _ input: BlockHourContractInput, by principal: Principal, on db: any Database) async throws
        -> BlockHourContractDTO
    {
        try await requireBilling(organizationId, .create, by: principal, on: db)
        let row = BlockHourContract()
        row.id = .v7()
        row.organizationId = organizationId
        row.version = 1
        try await apply(input, to: row, creating: true, on: db)
        return try await db.write { db in
            try await row.create(on: db)
            let after = try await dto(row, on: db)
            let reached = try await claimThreshold(row, by: principal, on: db)
            try await Audit.recordAll(
                [Audit.entry("created", BlockHourContract.schema, id: row.id, by: principal, organizationId: organizationId, after: after)] + reached, on: db)
            return try await dto(row, on: db)
        }
    }

    static func update(organizationId: UUID, id: UUID, _ input: BlockHourContractInput, by principal: Principal, on db: any Database) async throws
        -> BlockHourContractDTO
    {
        let row = try await visible(organizationId: organizationId, id: id, by: principal, on: db)
        try await requireBilling(organizationId, .edit, by: principal, on: db)
        let before = try await dto(row, on: db)
        if case .null = input.version { throw TandemError.invalid("version", "must be a number") }
        if let version = input.version.value, version != row.version {
            throw TandemError.conflict(
                "the contract was changed since you read it (version \(version), now \(row.version)): reload it and apply your change again")
        }
        try await apply(input, to: row, creating: false, on: db)
        row.version += 1
        return try await db.write { db in
            try await RowVersion.advance(BlockHourContract.schema, id: id, from: row.version - 1, what: "contract", on: db)
            try await row.save(on: db)
            let after = try await dto(row, on: db)
            let reached = try await claimThreshold(row, by: principal, on: db)
            try await Audit.recordAll(
                [Audit.entry("updated", BlockHourContract.schema, id: id, by: principal, organizationId: organizationId, before: before, after: after)]
                    + reached, on: db)
            return try await dto(row, on: db)
        }
    }

    static func delete(organizationId: UUID, id: UUID, by principal: Principal, on db: any Database) async throws {
        let row = try await visible(organizationId: organizationId, id: id, by: principal, on: db)
        try await requireBilling(organizationId, .delete, by: principal, on: db)
        let before = try await dto(row, on: db)
        try await db.write { db in
            try await row.delete(on: db)
            try await Audit.record("deleted", BlockHourContract.schema, id: id, by: principal, organizationId: organizationId, before: before, on: db)
        }
    }

    /// Refuses changing the organization's contracts (403), as a PATCH would: for the edit form.
    static func requireChange(_ organizationId: UUID, by principal: Principal) throws {
        guard AccessPolicy.blockHourContractScope(for: principal, .edit).evaluate(ScopeFacts(values: [.organization: organizationId])) else {
            throw TandemError.forbidden("changing block-hour contracts needs billing (reports) and leave to edit the organization")
        }
    }

    /// 404 when the organization is hidden; 403 when its billing is, or the operation is not the principal's.
    private static func requireBilling(_ organizationId: UUID, _ operation: AccessOperation, by principal: Principal, on db: any Database) async throws {
        _ = try await Lookup.visible(
            Organization.self, organizationId, scope: AccessPolicy.organizationScope(for: principal, area: .organizations, .view),
            table: Organization.scopeTable, what: "organization", on: db)
        guard AccessPolicy.blockHourContractScope(for: principal, operation).evaluate(ScopeFacts(values: [.organization: organizationId])) else {
            throw TandemError.forbidden(
                operation == .view
                    ? "your security level does not show billing (block-hour contracts)"
                    : "changing block-hour contracts needs billing (reports) and leave to edit the organization")
        }
    }

    private static func apply(_ input: BlockHourContractInput, to row: BlockHourContract, creating: Bool, on db: any Database) async throws {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        if creating || !input.hoursBought.isAbsent,
            let hours = RolesCollection.exact(input.hoursBought.value, "hoursBought", BlockHourState.hoursRange, &validator)
        {
            row.hoursBought = hours
        }
        if creating || !input.startsOn.isAbsent, let day = validator.text(input.startsOn.value, "startsOn", max: 10) {
            if UTCDay.start(of: day) == nil { validator.fail("startsOn", "'\(day)' is not a date YYYY-MM-DD") } else { row.startsOn = day }
        }
        switch input.endsOn {
        case .absent: break
        case .null: row.endsOn = nil
        case .value(let day):
            if UTCDay.start(of: day) == nil { validator.fail("endsOn", "'\(day)' is not a date YYYY-MM-DD") } else { row.endsOn = day }
        }
        if creating || !input.thresholdPercent.isAbsent,
            let percent = validator.range(input.thresholdPercent.value ?? (creating ? 80 : nil), "thresholdPercent", BlockHourState.thresholdRange)
        {
            row.thresholdPercent = percent
        }
        try validator.check()
        if let end = row.endsOn, end < row.startsOn { throw TandemError.invalid("endsOn", "must be on or after startsOn (\(row.startsOn))") }
        // An entry draws from one contract: the organization's periods do not overlap.
        let others = try await BlockHourContract.query(on: db).filter(\.$organizationId == row.organizationId).all().filter { $0.id != row.id }
        if let clash = others.first(where: { ($0.endsOn ?? "9999-12-31") >= row.startsOn && (row.endsOn ?? "9999-12-31") >= $0.startsOn }) {
            throw TandemError.invalid(
                "startsOn",
                "overlaps the contract '\(clash.name)' (\(clash.startsOn) to \(clash.endsOn ?? "open-ended")); an organization's periods cannot overlap")
        }
    }

    // MARK: The threshold event

    /// After billable time of `organizationId` worked at `workedAt` was saved: the threshold events of the contract
    /// covering that day, if its threshold is reached now for the first time. Answers the audit entries to record.
    static func thresholdsReached(organizationId: UUID, workedAt: Date, by principal: Principal, on db: any Database) async throws -> [AuditEntry] {
        let day = ISOWeek.day(of: workedAt)
        let contracts = try await BlockHourContract.query(on: db).filter(\.$organizationId == organizationId).filter(\.$startsOn <= day)
            .group(.or) { $0.filter(\.$endsOn == nil).filter(\.$endsOn >= day) }.all()
        guard !contracts.isEmpty else { return [] }
        // Two writers whose time crosses the threshold only together must not both miss it: the second waits here
        // for the first to commit (PostgreSQL; SQLite has one writer), then reads the use with the first's time in it.
        try await db.sql.select().column("id").from(BlockHourContract.schema).where("id", .in, contracts.compactMap(\.id)).orderBy("id").for(.update).run()
        var entries: [AuditEntry] = []
        for contract in contracts { entries += try await claimThreshold(contract, by: principal, on: db) }
        return entries
    }

    /// Records `blockHours.thresholdReached` for the contract when its threshold is reached and no notice exists:
    /// the notice row is the claim (`INSERT … ON CONFLICT DO NOTHING … RETURNING`), so of two writers, or a write
    /// after a restart, only the one that inserted it records the event.
    private static func claimThreshold(_ contract: BlockHourContract, by principal: Principal, on db: any Database) async throws -> [AuditEntry] {
        let id = contract.id!
        guard try await db.sql.select().column("contract_id").from(notices).where("contract_id", .equal, SQLBind(id)).first() == nil else { return [] }
        let state = try await state(contract, on: db)
        guard state.thresholdReached else { return [] }
        let claimed = try await db.sql.insert(into: notices).columns("contract_id", "reached_at").values(SQLBind(id), SQLBind(db.now))
            .ignoringConflicts(with: ["contract_id"])
            .returning("contract_id").all()
        guard !claimed.isEmpty else { return [] }
        let facts: [String: String] = [
            "hoursBought": contract.hoursBought.description, "hoursUsed": state.hoursUsed.description, "hoursLeft": state.hoursLeft.description,
            "thresholdPercent": String(contract.thresholdPercent),
        ]
        return [
            Audit.entry(
                "thresholdReached", BlockHourContract.schema, id: id, by: principal, organizationId: contract.organizationId, after: facts,
                events: [DomainEvent(.blockHoursThresholdReached, entityId: id, organizationId: contract.organizationId)])
        ]
    }
}

/// `/api/v1/organizations/{id}/block-hour-contracts[/{contractId}]`.
enum BlockHoursAPI {
    static func register(_ api: any RoutesBuilder) {
        let contracts = api.grouped("organizations", ":id", "block-hour-contracts")
        contracts.get { req async throws -> ListPage<BlockHourContractDTO> in
            try await BlockHours.list(organizationId: req.id("id", "organization"), page: PageRequest(req), by: req.principal, on: req.db)
        }
        contracts.post { req async throws -> Response in
            let organizationId = try req.id("id", "organization")
            let dto = try await BlockHours.create(
                organizationId: organizationId, req.content.decode(BlockHourContractInput.self), by: req.principal, on: req.db)
            let response = try await dto.encodeResponse(status: .created, for: req)
            response.headers.replaceOrAdd(name: .location, value: "/api/v1/organizations/\(organizationId.text)/block-hour-contracts/\(dto.id)")
            return response
        }
        contracts.get(":contractId") { req async throws -> BlockHourContractDTO in
            let row = try await BlockHours.visible(
                organizationId: req.id("id", "organization"), id: req.id("contractId", BlockHours.what), by: req.principal, on: req.db)
            return try await BlockHours.dto(row, on: req.db)
        }
        contracts.patch(":contractId") { req async throws -> BlockHourContractDTO in
            try await BlockHours.update(
                organizationId: req.id("id", "organization"), id: req.id("contractId", BlockHours.what), req.content.decode(BlockHourContractInput.self),
                by: req.principal, on: req.db)
        }
        contracts.delete(":contractId") { req async throws -> HTTPStatus in
            try await BlockHours.delete(organizationId: req.id("id", "organization"), id: req.id("contractId", BlockHours.what), by: req.principal, on: req.db)
            return .noContent
        }
    }
}

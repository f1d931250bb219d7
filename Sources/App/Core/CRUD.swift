import Fluent
import Foundation
import TandemCore
import Vapor

/// A collection served by the five routes of `CRUD.register`: its model, DTO and input, who reaches
/// which rows (`AccessPolicy`, given per kind by `ConfigurationCollection` and `OrganizationCollection`),
/// and how a body applies to a row.
protocol CRUDCollection: SendableMetatype {
    associatedtype Row: Model where Row.IDValue == UUID
    associatedtype DTO: Content
    associatedtype Input: Decodable & Sendable
    static var path: PathComponent { get }
    /// The noun of the 404 ("No site with this id exists or you cannot see it.").
    static var what: String { get }
    static var table: ScopeTable { get }
    /// The rows an operation reaches.
    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope
    /// Refuses a create before the body is read; a check that needs the body is made in `apply`.
    static func authorizeCreate(_ principal: Principal) throws
    /// Refuses an edit or delete of a row the principal can see.
    static func authorize(_ operation: AccessOperation, _ row: Row, by principal: Principal, on db: any Database) async throws
    /// Narrows the list by its query parameters.
    static func narrow(_ query: QueryBuilder<Row>, _ req: Request) throws -> QueryBuilder<Row>
    static func dto(_ row: Row, on db: any Database) async throws -> DTO
    /// The DTO as `principal` is shown it (a department's members it may see); `dto` is the audit's, whole.
    static func shown(_ dto: DTO, to principal: Principal, on db: any Database) async throws -> DTO
    /// Validates and applies the body; returns work for the write transaction (`CRUD.AfterSave`).
    static func apply(_ input: Input, to row: Row, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave?
    /// Refuses a delete that would break references, or removes what goes with the row, in the delete's transaction.
    static func prepareDelete(_ row: Row, on db: any Database) async throws
    /// The organization the audit entry and its domain event name.
    static func organizationId(_ row: Row) -> UUID?
    /// The 409's message when a save breaks a unique index; nil: no unique index to break.
    static func clash(_ row: Row) -> String?
}

extension CRUDCollection {
    static func narrow(_ query: QueryBuilder<Row>, _ req: Request) throws -> QueryBuilder<Row> { query }

    static func shown(_ dto: DTO, to principal: Principal, on db: any Database) async throws -> DTO { dto }

    /// The row's DTO as the request's principal is shown it.
    static func shownDTO(_ row: Row, _ req: Request) async throws -> DTO {
        try await shown(dto(row, on: req.db), to: req.principal, on: req.db)
    }

    /// The row the request's `:id` names, when the principal may see it (404 otherwise, whether it exists or not).
    static func visible(_ req: Request) async throws -> Row {
        try await Lookup.visible(Row.self, req.id("id", what), scope: scope(for: req.principal, .view), table: table, what: what, on: req.db)
    }
}

/// `GET /path`, `POST /path`, `GET|PATCH|DELETE /path/:id`: a row the principal cannot see is a 404
/// whether it exists or not; one it sees but may not change is a 403.
enum CRUD {
    /// Runs in the write transaction after the row is saved and before its audit entry (which reads
    /// the DTO again); returns audit entries to record after the row's.
    typealias AfterSave = @Sendable (any Database) async throws -> [AuditEntry]

    static func register<C: CRUDCollection>(_ collection: C.Type, _ api: any RoutesBuilder) {
        let routes = api.grouped(C.path)
        routes.get { req async throws -> ListPage<C.DTO> in
            let query = try C.narrow(visibleRows(C.self, for: req.principal, on: req.db), req)
            let (items, next) = try await query.page(PageRequest(req))
            var dtos: [C.DTO] = []
            for item in items { dtos.append(try await C.shownDTO(item, req)) }
            return ListPage(items: dtos, nextCursor: next)
        }
        routes.post { req async throws -> Response in
            let row = try await create(C.self, { try req.content.decode(C.Input.self) }, req)
            return try await C.shownDTO(row, req).encodeResponse(status: .created, for: req)
        }
        routes.get(":id") { req async throws -> C.DTO in
            try await C.shownDTO(C.visible(req), req)
        }
        routes.patch(":id") { req async throws -> C.DTO in
            let row = try await C.visible(req)
            try await update(C.self, row, { try req.content.decode(C.Input.self) }, req)
            return try await C.shownDTO(row, req)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            try await remove(C.self, C.visible(req), req)
            return .noContent
        }
    }

    /// The rows the principal may see, before the list's narrowing and paging (pages list through here too).
    static func visibleRows<C: CRUDCollection>(_ collection: C.Type, for principal: Principal, on db: any Database) -> QueryBuilder<C.Row> {
        C.Row.query(on: db).filter(C.scope(for: principal, .view), on: C.table)
    }

    /// Applies a body to a row the principal can see, as `PATCH /path/:id` does (pages save through here too);
    /// `input` is read once the edit is authorized.
    static func update<C: CRUDCollection>(_ collection: C.Type, _ row: C.Row, _ input: () throws -> C.Input, _ req: Request) async throws {
        let principal = try req.principal
        try await C.authorize(.edit, row, by: principal, on: req.db)
        let before = try await C.dto(row, on: req.db)
        let after = try await C.apply(input(), to: row, creating: false, req)
        try await save(C.self, row, creating: false, before: before, after: after, by: principal, on: req.db)
    }

    /// Deletes a row the principal can see, as `DELETE /path/:id` does (pages delete through here too).
    static func remove<C: CRUDCollection>(_ collection: C.Type, _ row: C.Row, _ req: Request) async throws {
        let principal = try req.principal
        try await C.authorize(.delete, row, by: principal, on: req.db)
        try await delete(C.self, row, by: principal, before: C.dto(row, on: req.db), on: req.db)
    }

    /// What deleting a row would do, found by deleting it in a transaction that is always undone: the refusal
    /// (`prepareDelete`'s), or the rules it would mark broken. A confirmation step shows it before the delete.
    struct DeletePreview: Sendable {
        var refusal: TandemError?
        var brokenRules: [String]
    }

    static func previewDelete<C: CRUDCollection>(_ collection: C.Type, _ row: C.Row, on db: any Database) async throws -> DeletePreview {
        let id = try row.requireID()
        do {
            try await db.write { db in
                // A copy of the row, so the caller's keeps its state.
                guard let copy = try await C.Row.find(id, on: db) else { return }
                try await C.prepareDelete(copy, on: db)
                try await copy.delete(on: db)
                throw DeleteUndone(brokenRules: try await Automations.recheck(on: db))
            }
            return DeletePreview(refusal: nil, brokenRules: [])
        } catch let undo as DeleteUndone {
            return DeletePreview(refusal: nil, brokenRules: undo.brokenRules)
        } catch let error as TandemError {
            return DeletePreview(refusal: error, brokenRules: [])
        }
    }

    /// Creates a row as `POST /path` does (pages create through here too); `input` is read once the create is authorized.
    static func create<C: CRUDCollection>(_ collection: C.Type, _ input: () throws -> C.Input, _ req: Request) async throws -> C.Row {
        let principal = try req.principal
        try C.authorizeCreate(principal)
        let row = C.Row()
        row.id = .v7()
        let after = try await C.apply(input(), to: row, creating: true, req)
        try await save(C.self, row, creating: true, before: nil, after: after, by: principal, on: req.db)
        return row
    }

    static func save<C: CRUDCollection>(
        _ collection: C.Type, _ row: C.Row, creating: Bool, before: C.DTO?, after: AfterSave?, by principal: Principal, on db: any Database
    ) async throws {
        @Sendable func write() async throws {
            try await db.write { db in
                if !creating, let versioned = row as? any VersionedRow {
                    try await RowVersion.advance(C.Row.schema, id: row.requireID(), from: versioned.version - 1, what: C.what, on: db)
                }
                try await row.save(on: db)
                let later = try await after?(db) ?? []
                let entry = Audit.entry(
                    creating ? "created" : "updated", C.Row.schema, id: row.id, by: principal, organizationId: C.organizationId(row), before: before,
                    after: try await C.dto(row, on: db))
                try await Audit.recordAll([entry] + later, on: db)
            }
        }
        guard let clash = C.clash(row) else { return try await write() }
        try await mapUniqueViolation(clash, write)
    }

    /// Deletes a row the principal may delete, audited; `before` is what the audit keeps of it.
    static func delete<C: CRUDCollection>(_ collection: C.Type, _ row: C.Row, by principal: Principal, before: some Encodable & Sendable, on db: any Database)
        async throws
    {
        try await db.write { db in
            try await C.prepareDelete(row, on: db)
            try await row.delete(on: db)
            // Rules that named the row are marked broken.
            try await Automations.recheck(on: db)
            try await Audit.record("deleted", C.Row.schema, id: row.id, by: principal, organizationId: C.organizationId(row), before: before, on: db)
        }
    }
}

/// Ends `CRUD.previewDelete`'s transaction, so the delete it tried is undone.
private struct DeleteUndone: Error {
    var brokenRules: [String]
}

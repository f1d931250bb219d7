import Fluent
import Foundation
import TandemCore
import Vapor

extension Request {
    /// A path id; one that is not a UUID names nothing, so it is a 404 like any unknown id.
    func id(_ name: String = "id", _ what: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw TandemError.notFound(what) }
        return id
    }
}

enum Lookup {
    /// The row with `id` if `scope` lets the principal see it; otherwise 404, whether it exists or not.
    static func visible<M: Model>(_ type: M.Type, _ id: UUID, scope: Scope, table: ScopeTable, what: String, on db: any Database) async throws -> M
    where M.IDValue == UUID {
        guard scope != .none, let row = try await M.query(on: db).filter(\._$id == id).filter(scope, on: table).first() else {
            throw TandemError.notFound(what)
        }
        return row
    }

    /// Whether a row the principal can see also falls inside the scope of a stronger operation.
    static func require<M: Model>(_ row: M, in scope: Scope, table: ScopeTable, _ refusal: String, on db: any Database) async throws
    where M.IDValue == UUID {
        guard let id = row.id, scope != .none else { throw TandemError.forbidden(refusal) }
        if scope == .all { return }
        guard try await M.query(on: db).filter(\._$id == id).filter(scope, on: table).count() > 0 else {
            throw TandemError.forbidden(refusal)
        }
    }

    /// Ids a body refers to must name existing rows (within `scope`: others read as unknown); the message names the field.
    static func requireExisting<M: Model>(
        _ type: M.Type, _ ids: [UUID], field: String, scope: Scope = .all, table: ScopeTable? = nil,
        on db: any Database
    ) async throws
    where M.IDValue == UUID {
        let unique = Set(ids)
        guard !unique.isEmpty else { return }
        let found = Set(
            try await M.query(on: db).filter(\._$id ~~ Array(unique))
                .filter(scope, on: table ?? ScopeTable(name: M.schema, columns: [.id: "id"])).all().compactMap(\.id))
        if let missing = unique.subtracting(found).first {
            throw TandemError.invalid(
                field, "no \(field.replacingOccurrences(of: "Ids", with: "").replacingOccurrences(of: "Id", with: "")) with id \(missing.uuidString)")
        }
    }
}

/// Renders a uniqueness clash as a 409 with the field named.
func mapUniqueViolation<T>(_ message: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as any DatabaseError where error.isConstraintFailure {
        throw TandemError.conflict(message)
    }
}

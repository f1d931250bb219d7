import FluentKit
import FluentSQL
import Foundation
import SQLKit
import TandemCore

/// How a table's columns answer the policy's scope terms.
struct ScopeTable: Sendable {
    let name: String
    let columns: [ScopeColumn: String]
    var publishTo: String? = nil
    var coManagedVisible: String? = nil
    /// The boolean column of `Scope.shared`.
    var shared: String? = nil
    /// The column of `Scope.area` (an `Area`'s raw value).
    var area: String? = nil
    /// The column holding the ticket id, for "assigned to" tests against `ticket_assignees`.
    var ticketId: String? = nil
    /// Columns a row has many values of: a `SELECT row_id, value` listing them, so `.column` tests
    /// whether any of the row's values is in the set.
    var related: [ScopeColumn: String] = [:]
}

extension Scope {
    /// The scope as a SQL predicate on `table`, so lists filter in the database.
    func sql(for table: ScopeTable) -> any SQLExpression {
        switch self {
        case .all:
            return SQLRaw("1 = 1")
        case .none:
            return SQLRaw("1 = 0")
        case .column(let column, let ids):
            let values = SQLGroupExpression(ids.sorted { $0.uuidString < $1.uuidString }.map { SQLBind($0) })
            if let related = table.related[column], let id = table.columns[.id] {
                return SQLQueryString(
                    "\(ident: table.name).\(ident: id) IN (SELECT related.row_id FROM (\(unsafeRaw: related)) related WHERE related.value IN \(values))")
            }
            guard let name = table.columns[column] else { return SQLRaw("1 = 0") }
            return SQLBinaryExpression(SQLColumn(name, table: table.name), .in, values)
        case .assignedTo(let principalId):
            guard let ticketId = table.ticketId else { return SQLRaw("1 = 0") }
            return SQLQueryString(
                "EXISTS (SELECT 1 FROM ticket_assignees WHERE ticket_assignees.ticket_id = \(ident: table.name).\(ident: ticketId) AND ticket_assignees.principal_id = \(bind: principalId))"
            )
        case .coManagedVisible:
            guard let column = table.coManagedVisible else { return SQLRaw("1 = 0") }
            return SQLBinaryExpression(SQLColumn(column, table: table.name), .equal, SQLBind(true))
        case .shared:
            guard let column = table.shared else { return SQLRaw("1 = 0") }
            return SQLBinaryExpression(SQLColumn(column, table: table.name), .equal, SQLBind(true))
        case .publishTo(let allowed):
            guard let column = table.publishTo, !allowed.isEmpty else { return SQLRaw("1 = 0") }
            return SQLBinaryExpression(
                SQLColumn(column, table: table.name), .in,
                SQLGroupExpression(allowed.map(\.rawValue).sorted().map { SQLBind($0) }))
        case .area(let areas):
            guard let column = table.area, !areas.isEmpty else { return SQLRaw("1 = 0") }
            return SQLBinaryExpression(
                SQLColumn(column, table: table.name), .in, SQLGroupExpression(areas.map(\.rawValue).sorted().map { SQLBind($0) }))
        case .noOrganization:
            guard let column = table.columns[.organization] else { return SQLRaw("1 = 0") }
            return SQLBinaryExpression(SQLColumn(column, table: table.name), .is, SQLLiteral.null)
        case .and(let parts):
            return SQLGroupExpression(SQLList(parts.map { $0.sql(for: table) }, separator: SQLRaw(" AND ")))
        case .or(let parts):
            return SQLGroupExpression(SQLList(parts.map { $0.sql(for: table) }, separator: SQLRaw(" OR ")))
        }
    }
}

extension QueryBuilder {
    /// Narrows a Fluent query to what the policy's scope allows.
    func filter(_ scope: Scope, on table: ScopeTable) -> Self {
        scope == .all ? self : filter(.sql(scope.sql(for: table)))
    }
}

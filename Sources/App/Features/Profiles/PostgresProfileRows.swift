import Fluent
import Foundation
import PostgresKit
import TandemCore

/// PostgreSQL: the values as one array bind; a batch in two transactions at once, since one kept one
/// backend (one core) inserting while the importer waited.
struct PostgresProfileRows: ProfileRows {
    /// Smaller batches are one transaction: for a few rows the second commit costs more than it saves.
    static let splitAt = 400

    func profiles(siteId: UUID, where column: String, in values: [BulkValue], on db: any Database) async throws -> [StoredProfile]? {
        guard let postgres = PostgresDirect.database(db), let kind = values.first else { return nil }
        // One array bind: a 5,000-value IN list cost PostgreSQL more to parse and plan than to run.
        var binds = PostgresBindings(capacity: 2)
        binds.append(siteId, context: .default)
        binds.append(BulkArray(values, of: kind), context: .default)
        let rows = try await PostgresDirect.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(ClientProfile.storedColumns.joined(separator: ",")) FROM contacts WHERE site_id = $1 AND \(column) = ANY($2)", binds: binds
            ),
            on: postgres)
        return try rows.map { try StoredProfile(reading: PostgresProfileRow(cells: $0.makeRandomAccess())) }
    }

    func writers(for count: Int) -> Int { count >= Self.splitAt ? 2 : 1 }
}

/// A row of `ClientProfile.storedColumns` from PostgresNIO, by index.
private struct PostgresProfileRow: ProfileColumnReader {
    let cells: PostgresRandomAccessRow

    func id(_ index: Int, _ name: String) throws -> UUID { try cells[index].decode(UUID.self) }
    func text(_ index: Int, _ name: String) throws -> String { try cells[index].decode(String.self) }
    func optionalText(_ index: Int, _ name: String) throws -> String? { try cells[index].decode(String?.self) }
    func bool(_ index: Int, _ name: String) throws -> Bool { try cells[index].decode(Bool.self) }
}

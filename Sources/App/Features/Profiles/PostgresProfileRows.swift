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
                unsafeSQL: "SELECT \(SQLProfileStore.columns.joined(separator: ",")) FROM contacts WHERE site_id = $1 AND \(column) = ANY($2)", binds: binds),
            on: postgres)
        return try rows.map { try Self.profile($0.makeRandomAccess()) }
    }

    func writers(for count: Int) -> Int { count >= Self.splitAt ? 2 : 1 }

    /// A profile from a PostgreSQL row of `columns`, in that order.
    static func profile(_ cells: PostgresRandomAccessRow) throws -> StoredProfile {
        let profile = ClientProfile(
            firstName: try cells[1].decode(String.self), lastName: try cells[2].decode(String.self), email: try cells[3].decode(String?.self),
            storedPhones: Phone.decodeStored(try cells[4].decode(String.self)), mobileProvider: try cells[5].decode(String?.self),
            smsGateway: try cells[6].decode(String?.self), thinClient: try cells[7].decode(Bool.self), notes: try cells[8].decode(String?.self))
        return StoredProfile(id: try cells[0].decode(UUID.self), profile: profile)
    }
}

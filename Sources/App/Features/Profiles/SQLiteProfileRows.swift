import Fluent
import Foundation
import SQLiteKit
import TandemCore

/// SQLite: straight from SQLiteNIO's rows; one writer, so a batch is one transaction.
struct SQLiteProfileRows: ProfileRows {
    func profiles(siteId: UUID, where column: String, in values: [BulkValue], on db: any Database) async throws -> [StoredProfile]? {
        guard let sqlite = SQLiteDirect.database(db) else { return nil }
        let list = Array(repeating: "?", count: values.count).joined(separator: ",")
        let rows = try await sqlite.query(
            "SELECT \(ClientProfile.storedColumns.joined(separator: ",")) FROM contacts WHERE site_id = ? AND \(column) IN (\(list))",
            [.id(siteId)] + values.map(\.sqlite))
        return try rows.map { try StoredProfile(reading: SQLiteProfileRow(row: $0)) }
    }

    func writers(for count: Int) -> Int { 1 }
}

/// A row of `ClientProfile.storedColumns` from SQLiteNIO, by name.
private struct SQLiteProfileRow: ProfileColumnReader {
    typealias Read = SQLiteDirect
    let row: SQLiteRow

    func id(_ index: Int, _ name: String) throws -> UUID { try Read.uuid(row, name) }
    func text(_ index: Int, _ name: String) throws -> String { try Read.text(row, name) }
    func optionalText(_ index: Int, _ name: String) throws -> String? { try Read.optionalText(row, name) }
    func bool(_ index: Int, _ name: String) throws -> Bool { try Read.bool(row, name) }
}

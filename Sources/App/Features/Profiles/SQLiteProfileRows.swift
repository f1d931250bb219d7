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

    // `SQLProfileStore.writeBatch` on the group commit's connection, statements prepared once.
    private static let insertContact = BulkValue.insertStatement(into: Contact.schema, columns: SQLProfileStore.contactColumns)
    /// `ClientProfile.columns`' values, then `updated_at`, the id and the site.
    private static let updateContact: String = {
        let names = ClientProfile.columns.map(\.name) + ["updated_at"]
        let sets = names.enumerated().map { "\($1) = ?\($0 + 1)" }.joined(separator: ", ")
        return "UPDATE contacts SET \(sets) WHERE id = ?\(names.count + 1) AND site_id = ?\(names.count + 2)"
    }()
    private static let deleteTokens = "DELETE FROM api_tokens WHERE principal_id = ?1"
    private static let deleteContact = "DELETE FROM contacts WHERE site_id = ?1 AND id = ?2"
    private static let insertPhone = BulkValue.insertStatement(into: PhoneDirectory.table, columns: PhoneDirectory.columns)
    private static let deletePhones = "DELETE FROM contact_phones WHERE contact_id = ?1"

    @Sendable static func write(_ writes: [SQLProfileStore.Write], _ connection: SQLiteDirectConnection) throws -> [Void] {
        for write in writes {
            let store = write.store, now = write.encoded.at
            for item in write.encoded.items {
                if item.change.endsSessions, case .edit(_, let id, _, _) = item.change { try connection.execute(deleteTokens, [.id(id)]) }
                switch item.change {
                case .add:
                    try connection.execute(insertContact, (item.contact ?? []).map(\.sqlite))
                case .edit(_, let id, _, let after):
                    try connection.execute(updateContact, after.sqlValues.map(\.sqlite) + [.date(now), .id(id), .id(store.siteId)])
                    try connection.execute(deletePhones, [.id(id)])
                case .delete(_, let id, _):
                    try connection.execute(deleteTokens, [.id(id)])
                    try connection.execute(deletePhones, [.id(id)])
                    try connection.execute(deleteContact, [.id(store.siteId), .id(id)])
                }
            }
            for item in write.encoded.items {
                for phone in item.phones { try connection.execute(insertPhone, phone.map(\.sqlite)) }
                try connection.execute(Audit.insertOne, item.event.values(at: now).map(\.sqlite))
            }
        }
        return writes.map { _ in () }
    }
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

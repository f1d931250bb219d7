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
            "SELECT \(SQLProfileStore.columns.joined(separator: ",")) FROM contacts WHERE site_id = ? AND \(column) IN (\(list))",
            [.id(siteId)] + values.map(\.sqlite))
        return try rows.map(Self.profile)
    }

    func writers(for count: Int) -> Int { 1 }

    static func profile(_ row: SQLiteRow) throws -> StoredProfile {
        let profile = ClientProfile(
            firstName: try SQLiteDirect.text(row, "first_name"), lastName: try SQLiteDirect.text(row, "last_name"),
            email: try SQLiteDirect.optionalText(row, "email"), storedPhones: Phone.decodeStored(try SQLiteDirect.text(row, "phones")),
            mobileProvider: try SQLiteDirect.optionalText(row, "mobile_provider"), smsGateway: try SQLiteDirect.optionalText(row, "sms_gateway"),
            thinClient: try SQLiteDirect.bool(row, "thin_client"), notes: try SQLiteDirect.optionalText(row, "notes"))
        return StoredProfile(id: try SQLiteDirect.uuid(row, "id"), profile: profile)
    }

    // `SQLProfileStore.writeBatch` on the group commit's connection, statements prepared once.
    private static let insertContact = BulkValue.insertStatement(into: Contact.schema, columns: SQLProfileStore.contactColumns)
    private static let updateContact = """
        UPDATE contacts SET first_name = ?1, last_name = ?2, email = ?3, phones = ?4, mobile_provider = ?5, sms_gateway = ?6,
        thin_client = ?7, notes = ?8, updated_at = ?9 WHERE id = ?10 AND site_id = ?11
        """
    private static let deleteTokens = "DELETE FROM api_tokens WHERE principal_id = ?1"
    private static let deleteContact = "DELETE FROM contacts WHERE site_id = ?1 AND id = ?2"

    @Sendable static func write(_ writes: [SQLProfileStore.Write], _ connection: SQLiteDirectConnection) throws -> [Void] {
        for write in writes {
            let store = write.store, now = write.encoded.at
            for item in write.encoded.items {
                if item.change.endsSessions, case .edit(_, let id, _, _) = item.change { try connection.execute(deleteTokens, [.id(id)]) }
                switch item.change {
                case .add:
                    try connection.execute(insertContact, (item.contact ?? []).map(\.sqlite))
                case .edit(_, let id, _, let after):
                    try connection.execute(
                        updateContact,
                        [
                            .text(after.firstName), .text(after.lastName), .optionalText(after.email), .text(SQLProfileStore.phonesJSON(after)),
                            .optionalText(after.mobileProvider), .optionalText(after.smsGateway), .boolean(after.thinClient),
                            .optionalText(after.notes), .date(now), .id(id), .id(store.siteId),
                        ])
                case .delete(_, let id, _):
                    try connection.execute(deleteTokens, [.id(id)])
                    try connection.execute(deleteContact, [.id(store.siteId), .id(id)])
                }
            }
            for item in write.encoded.items {
                try connection.execute(Audit.insertOne, item.event.values(at: now).map(\.sqlite))
            }
        }
        return writes.map { _ in () }
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore

/// Every contact's phone numbers in E.164 (`contact_phones`, indexed), so that caller identification
/// is one index lookup. Written with the contact, in its transaction, by every path that writes a
/// contact's phones: the contacts API, the client profiles API and the profile import.
enum PhoneDirectory {
    static let table = "contact_phones"
    static let columns = ["contact_id", "e164", "kind"]

    /// The directory rows of one contact's phones; a number that is not a valid E.164 number is left out.
    static func rows(_ contactId: UUID, _ phones: [(number: String, countryCode: String, kind: String)]) -> [[BulkValue]] {
        phones.compactMap { phone in
            PhoneNumber.e164(nationalDigits: phone.number, country: phone.countryCode).map { [.id(contactId), .text($0), .text(phone.kind)] }
        }
    }

    static func rows(_ contactId: UUID, _ phones: [ProfilePhone]) -> [[BulkValue]] {
        rows(contactId, phones.map { ($0.number, $0.countryCode, $0.kind.rawValue) })
    }

    /// Replaces the rows of these contacts with `rows`.
    static func replace(_ contactIds: [UUID], with rows: [[BulkValue]], on db: any Database) async throws {
        for chunk in contactIds.chunked(500) {
            try await db.sql.delete(from: table).where("contact_id", .in, SQLBind.group(Array(chunk))).run()
        }
        try await db.bulkInsert(into: table, columns: columns, rows: rows)
    }

    /// After a contact's save (the contacts API, the client profiles API).
    static func index(_ contact: Contact, on db: any Database) async throws {
        let id = try contact.requireID()
        try await replace([id], with: rows(id, contact.phones.map { ($0.number, $0.countryCode, $0.kind) }), on: db)
    }

    /// The contacts with this number, as E.164.
    static func contacts(with e164: String, on db: any Database) async throws -> [(contactId: UUID, kind: String)] {
        try await db.sql.select().columns("contact_id", "kind").from(table).where("e164", .equal, e164).limit(100).all().map {
            (try $0.decode(column: "contact_id", as: UUID.self), try $0.decode(column: "kind", as: String.self))
        }
    }
}

import Fluent
import Foundation
import SQLKit

/// `contact_phones`: every contact's numbers in E.164 for caller identification (`PhoneDirectory`),
/// filled here for the contacts that exist.
struct CreateContactPhones: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(PhoneDirectory.table)
            .field("contact_id", .uuid, .required, .references(Contact.schema, "id", onDelete: .cascade))
            .field("e164", .string, .required)
            .field("kind", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX contact_phones_e164 ON contact_phones (e164)").run()
        try await sql.raw("CREATE INDEX contact_phones_contact ON contact_phones (contact_id)").run()
        var after: UUID?
        while true {
            let query = Contact.query(on: database).sort(\.$id).limit(1000)
            if let after { query.filter(\.$id > after) }
            let contacts = try await query.all()
            let rows = contacts.flatMap { PhoneDirectory.rows($0.id!, $0.phones.map { ($0.number, $0.countryCode, $0.kind) }) }
            try await database.bulkInsert(into: PhoneDirectory.table, columns: PhoneDirectory.columns, rows: rows)
            guard contacts.count == 1000 else { break }
            after = contacts.last?.id
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(PhoneDirectory.table).delete()
    }
}

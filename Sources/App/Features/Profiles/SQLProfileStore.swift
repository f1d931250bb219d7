import FluentKit
import Foundation
import SQLKit
import Spreadsheets
import TandemCore

/// The client profiles of one site in the database, for the importer: batched lookups and batched writes.
struct SQLProfileStore: ProfileStore {
    let db: any Database
    let siteId: UUID
    let organizationId: UUID
    let actor: Principal?

    /// Rows per multi-row INSERT: a row's binds (`contactColumns`) times this stays far below both databases' bind limits.
    static let insertChunk = 200

    func find(ids: [UUID], emails: [String], names: [ProfileNameKey]) async throws -> [StoredProfile] {
        var found: [UUID: StoredProfile] = [:]
        func select(_ column: String, _ values: [BulkValue]) async throws {
            guard !values.isEmpty else { return }
            for profile in try await profiles(where: column, in: values) { found[profile.id] = profile }
        }
        try await select("id", Set(ids).map { .id($0) })
        try await select("email", Set(emails).map { .text($0) })
        try await select("last_name", Set(names.map(\.lastName)).map { .text($0) })
        return Array(found.values)
    }

    /// The site's profiles whose `column` is one of `values`: this database's way (`ProfileRows`), else SQLKit's.
    private func profiles(where column: String, in values: [BulkValue]) async throws -> [StoredProfile] {
        if let rows = try await db.profileRows.profiles(siteId: siteId, where: column, in: values, on: db) { return rows }
        return try await db.sql.select().columns(ClientProfile.storedColumns.map { SQLIdentifier($0) }).from(Contact.schema)
            .where("site_id", .equal, siteId).where(SQLIdentifier(column), .in, SQLGroupExpression(values.map(\.bind)))
            .all().map { try StoredProfile(reading: SQLProfileRow(row: $0)) }
    }

    func deletionBlockers(_ ids: [UUID]) async throws -> [UUID: String] {
        var blockers: [UUID: String] = [:]
        let group = SQLBind.group(ids)
        for row in try await db.sql.select().distinct().column("contact_id").from(Ticket.schema).where("contact_id", .in, group).all() {
            blockers[try row.decode(column: "contact_id", as: UUID.self)] = "the profile is the contact of tickets; it cannot be deleted"
        }
        for row in try await db.sql.select().column("contact_id").from(CoManagingUser.schema).where("contact_id", .in, group).all() {
            blockers[try row.decode(column: "contact_id", as: UUID.self)] = "the profile belongs to a co-managing user; it cannot be deleted"
        }
        return blockers
    }

    func portalLogins(_ ids: [UUID]) async throws -> Set<UUID> {
        var found = Set<UUID>()
        for chunk in ids.chunked(500) {
            for row in try await db.sql.select().column("id").from(Contact.schema).where("site_id", .equal, siteId)
                .where("id", .in, SQLBind.group(Array(chunk))).where("portal_password_hash", .isNot, SQLLiteral.null).all()
            {
                found.insert(try row.decode(column: "id", as: UUID.self))
            }
        }
        return found
    }

    /// Applies a batch, in as many transactions at once as the database's `ProfileRows.writers` says
    /// (PostgreSQL: two), a part of the batch each: every row is all-or-nothing by itself (the batch's
    /// transaction only saves commits). The parts touch different profiles (the importer changes a
    /// profile at most once per batch), so they never wait on each other.
    func apply(_ changes: [ProfileChange]) async throws -> [Int: String] {
        let writers = db.profileRows.writers(for: changes.count)
        guard writers > 1 else { return try await apply(encode(changes)) }
        let parts = changes.chunked((changes.count + writers - 1) / writers)
        return try await withThrowingTaskGroup(of: [Int: String].self) { group in
            for part in parts { group.addTask { try await apply(encode(Array(part))) } }
            var refused: [Int: String] = [:]
            for try await part in group { refused.merge(part) { first, _ in first } }
            return refused
        }
    }

    /// A batch's contact rows and audit events, built before its write transaction (which then holds
    /// the write lock less), in the import's write task beside the next batch's matching.
    struct Encoded: Sendable {
        struct Item: Sendable {
            let change: ProfileChange
            /// The new contact's row, for adds.
            let contact: [BulkValue]?
            let event: AuditEntry
            /// The contact's `contact_phones` rows (`PhoneDirectory`), for adds and edits.
            var phones: [[BulkValue]] = []
        }

        let items: [Item]
        let at: Date
    }

    func encode(_ changes: [ProfileChange]) -> Encoded {
        let now = db.now
        return Encoded(
            items: changes.map { change in
                switch change {
                case .add(_, let id, let profile):
                    Encoded.Item(
                        change: change,
                        contact: [.id(id), .id(organizationId), .id(siteId)] + profile.sqlValues + [.bool(false), .date(now), .date(now)],
                        event: entry("created", id, after: profile), phones: PhoneDirectory.rows(id, profile.phones))
                case .edit(_, let id, let before, let after):
                    Encoded.Item(
                        change: change, contact: nil, event: entry("updated", id, before: before, after: after),
                        phones: PhoneDirectory.rows(id, after.phones))
                case .delete(_, let id, let before):
                    Encoded.Item(change: change, contact: nil, event: entry("deleted", id, before: before))
                }
            }, at: now)
    }

    /// One transaction for the batch; when it fails, each row again on its own so only the guilty rows fail.
    /// Where the database can, the batch's statements run as one batch (`writeBatch`).
    func apply(_ encoded: Encoded) async throws -> [Int: String] {
        do {
            try await db.write(batch: Self.writeBatch, item: Write(store: self, encoded: encoded)) { tx in
                try await write(encoded.items, at: encoded.at, on: tx)
            }
            return [:]
        } catch {
            var refused: [Int: String] = [:]
            for item in encoded.items {
                do {
                    try await db.write { tx in try await write([item], at: encoded.at, on: tx) }
                } catch {
                    refused[item.change.row] = "the row could not be saved: \(String(describing: error))"
                }
            }
            return refused
        }
    }

    /// An import batch for `writeBatch`.
    struct Write: Sendable {
        let store: SQLProfileStore
        let encoded: Encoded
    }

    /// The columns of a new contact's row (`Encoded.Item.contact`).
    static let contactColumns =
        ["id", "organization_id", "site_id"] + ClientProfile.columns.map(\.name) + ["portal_organization_wide", "created_at", "updated_at"]
    /// The rows `write` writes, as one batch where the database's store has a way (`SQLiteProfileRows.write`);
    /// elsewhere `write` itself runs.
    static let writeBatch = WriteBatch<Write, Void>(name: "client-profile-import", sqlite: SQLiteProfileRows.write)

    private func write(_ items: [Encoded.Item], at now: Date, on tx: any Database) async throws {
        var deletes: [UUID] = []
        for item in items {
            switch item.change {
            case .add: break
            case .edit(_, let id, _, let after):
                // A new login email ends the contact's sessions, as the contact API's change does.
                if item.change.endsSessions { try await tx.sql.delete(from: APIToken.schema).where("principal_id", .equal, id).run() }
                let update = tx.sql.update(Contact.schema)
                for (column, value) in zip(ClientProfile.columns, after.sqlValues) { update.set(SQLColumn(column.name), to: value.bind) }
                try await update.set("updated_at", to: now).where("id", .equal, id).where("site_id", .equal, siteId).run()
            case .delete(_, let id, _):
                deletes.append(id)
            }
        }
        try await tx.bulkInsert(into: Contact.schema, columns: Self.contactColumns, rows: items.compactMap(\.contact), chunk: Self.insertChunk)
        let edited = items.compactMap { item -> UUID? in if case .edit(_, let id, _, _) = item.change { id } else { nil } }
        try await PhoneDirectory.replace(edited, with: items.flatMap(\.phones), on: tx)
        for chunk in deletes.chunked(500) {
            try await tx.sql.delete(from: APIToken.schema).where("principal_id", .in, SQLBind.group(Array(chunk))).run()
            try await tx.sql.delete(from: PhoneDirectory.table).where("contact_id", .in, SQLBind.group(Array(chunk))).run()
            try await tx.sql.delete(from: Contact.schema).where("site_id", .equal, siteId).where("id", .in, SQLBind.group(Array(chunk))).run()
        }
        try await Audit.recordAll(items.map(\.event), on: tx)
    }

    private func entry(_ action: String, _ id: UUID, before: ClientProfile? = nil, after: ClientProfile? = nil) -> AuditEntry {
        AuditEntry(
            action: action, entityType: Contact.schema, entityId: id, actor: actor, organizationId: organizationId,
            before: before?.auditJSON(id: id, organizationId: organizationId, siteId: siteId),
            after: after?.auditJSON(id: id, organizationId: organizationId, siteId: siteId),
            // An import is one event (`clientProfiles.imported`), not one per row.
            events: [])
    }

    /// Every profile of the site in id order, a page at a time (the export never holds the site whole).
    func forEachProfile(_ body: (StoredProfile) throws -> Void) async throws {
        var after: UUID?
        while true {
            var query = db.sql.select().columns(ClientProfile.storedColumns.map { SQLIdentifier($0) }).from(Contact.schema).where("site_id", .equal, siteId)
            if let after { query = query.where("id", .greaterThan, after) }
            let rows = try await query.orderBy("id").limit(1000).all()
            for row in rows {
                let stored = try StoredProfile(reading: SQLProfileRow(row: row))
                try body(stored)
                after = stored.id
            }
            if rows.count < 1000 { return }
        }
    }
}

/// A row of `ClientProfile.storedColumns` through SQLKit, by name.
private struct SQLProfileRow: ProfileColumnReader {
    let row: any SQLRow

    func id(_ index: Int, _ name: String) throws -> UUID { try row.decode(column: name, as: UUID.self) }
    func text(_ index: Int, _ name: String) throws -> String { try row.decode(column: name, as: String.self) }
    func optionalText(_ index: Int, _ name: String) throws -> String? { try row.decode(column: name, as: String?.self) }
    func bool(_ index: Int, _ name: String) throws -> Bool { try row.decode(column: name, as: Bool.self) }
}

import Foundation
import PostgresKit
import SQLKit
import TandemCore

/// The `tickets` table's columns, declared once: name, type, the API's JSON key, the model's value
/// and the DTO's field. The column lists, the inserts' binds, the PostgreSQL types, the row readers
/// (SQLKit's rows, PostgreSQL's composite bytes) and the JSON writers (`JSONWriter`, SQLite's
/// `json_object`) all follow `Ticket.columns`.
///
/// Adding a ticket field touches the model (`Ticket`), this list, a migration and the DTO
/// (`TicketDTO`'s property and its `init(_:assignees:)`), and nothing else.
final class TicketColumn: Sendable {
    enum Kind: Sendable {
        case id, optionalId, text, int, bool, optionalDate

        var postgresType: String {
            switch self {
            case .id, .optionalId: "uuid"
            case .text: "text"
            case .int: "bigint"
            case .bool: "boolean"
            case .optionalDate: "timestamptz"
            }
        }

        var postgresDataType: PostgresDataType {
            switch self {
            case .id, .optionalId: .uuid
            case .text: .text
            case .int: .int8
            case .bool: .bool
            case .optionalDate: .timestamptz
            }
        }
    }

    /// How the DTO's field is read and set, typed by the column's kind: the readers and writers call
    /// these closures (direct property access; key paths cost several times more per field, on every page).
    enum Access: Sendable {
        case id(get: @Sendable (TicketDTO) -> String, set: @Sendable (inout TicketDTO, String) -> Void)
        case optionalId(get: @Sendable (TicketDTO) -> String?, set: @Sendable (inout TicketDTO, String?) -> Void)
        case text(get: @Sendable (TicketDTO) -> String, set: @Sendable (inout TicketDTO, String) -> Void)
        case int(get: @Sendable (TicketDTO) -> Int, set: @Sendable (inout TicketDTO, Int) -> Void)
        case bool(get: @Sendable (TicketDTO) -> Bool, set: @Sendable (inout TicketDTO, Bool) -> Void)
        case date(get: @Sendable (TicketDTO) -> Date?, set: @Sendable (inout TicketDTO, Date?) -> Void)
        /// A column the API does not show (not in the DTO).
        case unshown(Kind)

        var kind: Kind {
            switch self {
            case .id: .id
            case .optionalId: .optionalId
            case .text: .text
            case .int: .int
            case .bool: .bool
            case .date: .optionalDate
            case .unshown(let kind): kind
            }
        }
    }

    let name: String
    /// The API's JSON key; nil for a column the API does not show.
    let key: StaticString?
    let field: TicketField?
    /// The model's value, for inserts.
    let bind: @Sendable (Ticket) -> BulkValue
    let access: Access

    var kind: Kind { access.kind }

    private init(_ name: String, _ key: StaticString?, bind: @escaping @Sendable (Ticket) -> BulkValue, _ access: Access) {
        self.name = name
        self.key = key
        field = key.flatMap { TicketField(rawValue: "\($0)") }
        self.bind = bind
        self.access = access
    }

    // One constructor per kind, so each column is a line: its name, JSON key, the model's key path
    // (for inserts), and the DTO's field read and set.

    static func id(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, UUID> & Sendable, _ get: @escaping @Sendable (TicketDTO) -> String,
        _ set: @escaping @Sendable (inout TicketDTO, String) -> Void
    ) -> Self {
        Self(name, key, bind: { .id($0[keyPath: model]) }, .id(get: get, set: set))
    }

    static func optionalId(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, UUID?> & Sendable, _ get: @escaping @Sendable (TicketDTO) -> String?,
        _ set: @escaping @Sendable (inout TicketDTO, String?) -> Void
    ) -> Self {
        Self(name, key, bind: { .id($0[keyPath: model]) }, .optionalId(get: get, set: set))
    }

    /// An id the API does not show.
    static func unshownId(_ name: String, _ model: any KeyPath<Ticket, UUID?> & Sendable) -> Self {
        Self(name, nil, bind: { .id($0[keyPath: model]) }, .unshown(.optionalId))
    }

    static func text(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, String> & Sendable, _ get: @escaping @Sendable (TicketDTO) -> String,
        _ set: @escaping @Sendable (inout TicketDTO, String) -> Void
    ) -> Self {
        Self(name, key, bind: { .text($0[keyPath: model]) }, .text(get: get, set: set))
    }

    static func int(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, Int> & Sendable, _ get: @escaping @Sendable (TicketDTO) -> Int,
        _ set: @escaping @Sendable (inout TicketDTO, Int) -> Void
    ) -> Self {
        Self(name, key, bind: { .int($0[keyPath: model]) }, .int(get: get, set: set))
    }

    static func bool(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, Bool> & Sendable, _ get: @escaping @Sendable (TicketDTO) -> Bool,
        _ set: @escaping @Sendable (inout TicketDTO, Bool) -> Void
    ) -> Self {
        Self(name, key, bind: { .bool($0[keyPath: model]) }, .bool(get: get, set: set))
    }

    static func date(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, Date?> & Sendable, _ get: @escaping @Sendable (TicketDTO) -> Date?,
        _ set: @escaping @Sendable (inout TicketDTO, Date?) -> Void
    ) -> Self {
        Self(name, key, bind: { .date($0[keyPath: model]) }, .date(get: get, set: set))
    }
}

extension Ticket {
    /// Every column of `tickets`, in table order.
    static let columns: [TicketColumn] = [
        .id("id", "id", \.uuid, { $0.id }, { $0.id = $1 }),
        .int("number", "number", \.number, { $0.number }, { $0.number = $1 }),
        .text("title", "title", \.title, { $0.title }, { $0.title = $1 }),
        .text("description", "description", \.description, { $0.description }, { $0.description = $1 }),
        .id("organization_id", "organizationId", \.organizationId, { $0.organizationId }, { $0.organizationId = $1 }),
        .optionalId("site_id", "siteId", \.siteId, { $0.siteId }, { $0.siteId = $1 }),
        .optionalId("contact_id", "contactId", \.contactId, { $0.contactId }, { $0.contactId = $1 }),
        .optionalId("queue_id", "queueId", \.queueId, { $0.queueId }, { $0.queueId = $1 }),
        .optionalId("team_id", "teamId", \.teamId, { $0.teamId }, { $0.teamId = $1 }),
        .text("status", "status", \.status, { $0.status }, { $0.status = $1 }),
        .text("priority", "priority", \.priority, { $0.priority }, { $0.priority = $1 }),
        .text("source", "source", \.source, { $0.source }, { $0.source = $1 }),
        .bool("co_managed_visible", "coManagedVisible", \.coManagedVisible, { $0.coManagedVisible }, { $0.coManagedVisible = $1 }),
        .date("due_at", "dueAt", \.dueAt, { $0.dueAt }, { $0.dueAt = $1 }),
        .int("version", "version", \.version, { $0.version }, { $0.version = $1 }),
        .unshownId("created_by_id", \.createdById),
        .date("created_at", "createdAt", \.createdAt, { $0.createdAt }, { $0.createdAt = $1 }),
        .date("updated_at", "updatedAt", \.updatedAt, { $0.updatedAt }, { $0.updatedAt = $1 }),
        .text("responsible_side", "responsibleSide", \.responsibleSide, { $0.responsibleSide }, { $0.responsibleSide = $1 }),
    ]

    /// The column names, for statements.
    static let sqlColumns = columns.map(\.name)

    /// `sqlColumns` qualified with the table, as SQLKit writes `SQLColumn`s (both databases quote
    /// with `"`), written once: serializing 18 columns took a tenth of a ticket page's CPU.
    static let qualifiedColumns = sqlColumns.map { "\"\(schema)\".\"\($0)\"" }.joined(separator: ", ")

    /// The PostgreSQL type of each of `sqlColumns`, for statements that cast their binds.
    static let postgresTypes = columns.map(\.kind.postgresType)

    /// The values of `sqlColumns`, for inserts.
    var sqlValues: [BulkValue] { Self.columns.map { $0.bind(self) } }

    /// The id as a non-optional, for the column list (a saved ticket always has one).
    var uuid: UUID { id! }

    /// The condition under which a new ticket's references hold, given the placeholders of its
    /// `sqlColumns` values: its organization exists; its site and contact, when given, belong to
    /// it; its queue and team, when given, exist (what `TicketService.checkReferences` checks, without assignees).
    static func referencesHold(_ values: [String]) -> String {
        func value(_ column: String) -> String { values[sqlColumns.firstIndex(of: column)!] }
        let (organization, site, contact, queue, team) = (value("organization_id"), value("site_id"), value("contact_id"), value("queue_id"), value("team_id"))
        return """
            EXISTS (SELECT 1 FROM \(Organization.schema) WHERE id = \(organization)) \
            AND (\(site) IS NULL OR EXISTS (SELECT 1 FROM \(Site.schema) WHERE id = \(site) AND organization_id = \(organization))) \
            AND (\(contact) IS NULL OR EXISTS (SELECT 1 FROM \(Contact.schema) WHERE id = \(contact) AND organization_id = \(organization))) \
            AND (\(queue) IS NULL OR EXISTS (SELECT 1 FROM \(Queue.schema) WHERE id = \(queue))) \
            AND (\(team) IS NULL OR EXISTS (SELECT 1 FROM \(Team.schema) WHERE id = \(team)))
            """
    }

    /// A one-row INSERT of `sqlColumns` (SQLite, `?1`…) that writes nothing unless `referencesHold`; answers the id when it wrote.
    static let insertIfReferencesHold: String = {
        let values = (1...sqlColumns.count).map { "?\($0)" }
        return
            "INSERT INTO \(schema) (\(sqlColumns.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) WHERE \(referencesHold(values)) RETURNING id"
    }()
}

/// A member of a ticket's JSON object, in the order `.sortedKeys` puts them: a column, or the
/// assignees (not a column of `tickets`).
enum TicketJSONMember: Sendable {
    case column(Int, TicketColumn)
    case assignees
    /// Derived from the number (`TicketReference`).
    case reference

    static let assigneesKey: StaticString = "assigneeIds"
    static let referenceKey: StaticString = "reference"
    /// Where the number is in `Ticket.columns`, for the reference.
    static let numberIndex = Ticket.columns.firstIndex { $0.field == .number }!

    /// The API's members, sorted by key.
    static let sorted: [TicketJSONMember] = {
        let columns = Ticket.columns.enumerated().compactMap { index, column in column.key.map { ("\($0)", TicketJSONMember.column(index, column)) } }
        return (columns + [("\(assigneesKey)", .assignees), ("\(referenceKey)", .reference)]).sorted { $0.0 < $1.0 }.map(\.1)
    }()

    var field: TicketField {
        switch self {
        case .column(_, let column): column.field!
        case .assignees: .assigneeIds
        case .reference: .reference
        }
    }
}

extension TicketDTO: JSONWritable {
    func write(to json: inout JSONWriter) {
        write(to: &json, showing: nil)
    }

    /// The ticket's JSON object; `fields` (`AccessPolicy.visibleTicketFields`) leaves the others out, nil writes all.
    func write(to json: inout JSONWriter, showing fields: Set<TicketField>?) {
        json.beginObject()
        for member in TicketJSONMember.sorted where fields?.contains(member.field) ?? true {
            switch member {
            case .assignees: json.member(TicketJSONMember.assigneesKey, assigneeIds)
            case .reference:
                // Derived for the API; storage (the audit's JSON, `.column`) keeps the number only, as `encode(to:)` does.
                if json.style == .api { json.member(TicketJSONMember.referenceKey, TicketReference.string(number: number)) }
            case .column(_, let column):
                let key = column.key!
                switch column.access {
                case .id(let get, _), .text(let get, _): json.member(key, get(self))
                case .optionalId(let get, _): json.member(key, get(self))
                case .int(let get, _): json.member(key, get(self))
                case .bool(let get, _): json.member(key, get(self))
                case .date(let get, _): json.member(key, get(self))
                case .unshown: break
                }
            }
        }
        json.endObject()
    }

    /// A DTO from a row of `Ticket.sqlColumns` (SQLKit decodes each column as its kind); the assignees are added by the caller.
    init(row: any SQLRow) throws {
        self.init()
        for column in Ticket.columns {
            let name = column.name
            switch column.access {
            case .id(_, let set): set(&self, try row.decode(column: name, as: UUID.self).text)
            case .optionalId(_, let set): set(&self, try row.decode(column: name, as: UUID?.self)?.text)
            case .text(_, let set): set(&self, try row.decode(column: name, as: String.self))
            case .int(_, let set): set(&self, try row.decode(column: name, as: Int.self))
            case .bool(_, let set): set(&self, try row.decode(column: name, as: Bool.self))
            case .date(_, let set): set(&self, try row.decode(column: name, as: Date?.self))
            case .unshown: break
            }
        }
    }
}

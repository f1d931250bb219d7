import Foundation
import PostgresKit
import TandemCore

/// The `tickets` table's columns, declared once: name, type, the API's JSON key, the model's value
/// and the DTO's field. The column lists, the inserts' binds, the PostgreSQL types, the row readers
/// (SQLite rows, PostgreSQL's composite bytes) and the JSON writers all follow `Ticket.columns`.
///
/// Adding a ticket field touches the model (`Ticket`), this list, a migration and the DTO
/// (`TicketDTO`'s property and its `init(_:assignees:)`), and nothing else.
struct TicketColumn: Sendable {
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

    /// A value of the DTO's field, as the readers and writers pass it.
    enum Value: Sendable {
        case id(String?), text(String), int(Int), bool(Bool), date(Date?)
    }

    let name: String
    let kind: Kind
    /// The API's JSON key; nil for a column the API does not show.
    let key: StaticString?
    let field: TicketField?
    /// The model's value, for inserts.
    let bind: @Sendable (Ticket) -> BulkValue
    let get: @Sendable (TicketDTO) -> Value
    let set: @Sendable (inout TicketDTO, Value) -> Void

    private init(
        _ name: String, _ kind: Kind, _ key: StaticString?, bind: @escaping @Sendable (Ticket) -> BulkValue,
        get: @escaping @Sendable (TicketDTO) -> Value = { _ in .id(nil) }, set: @escaping @Sendable (inout TicketDTO, Value) -> Void = { _, _ in }
    ) {
        self.name = name
        self.kind = kind
        self.key = key
        field = key.flatMap { TicketField(rawValue: "\($0)") }
        self.bind = bind
        self.get = get
        self.set = set
    }

    // One constructor per kind, so each column is a line: its name, key, model and DTO fields.

    static func id(_ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, UUID> & Sendable, _ dto: any WritableKeyPath<TicketDTO, String> & Sendable)
        -> Self
    {
        Self(name, .id, key, bind: { .id($0[keyPath: model]) }, get: { .id($0[keyPath: dto]) }, set: { if case .id(let id?) = $1 { $0[keyPath: dto] = id } })
    }

    static func optionalId(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, UUID?> & Sendable,
        _ dto: any WritableKeyPath<TicketDTO, String?> & Sendable
    ) -> Self {
        Self(
            name, .optionalId, key, bind: { .id($0[keyPath: model]) }, get: { .id($0[keyPath: dto]) },
            set: { if case .id(let id) = $1 { $0[keyPath: dto] = id } })
    }

    /// An id the API does not show.
    static func unshownId(_ name: String, _ model: any KeyPath<Ticket, UUID?> & Sendable) -> Self {
        Self(name, .optionalId, nil, bind: { .id($0[keyPath: model]) })
    }

    static func text(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, String> & Sendable, _ dto: any WritableKeyPath<TicketDTO, String> & Sendable
    ) -> Self {
        Self(
            name, .text, key, bind: { .text($0[keyPath: model]) }, get: { .text($0[keyPath: dto]) },
            set: { if case .text(let text) = $1 { $0[keyPath: dto] = text } })
    }

    static func int(_ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, Int> & Sendable, _ dto: any WritableKeyPath<TicketDTO, Int> & Sendable)
        -> Self
    {
        Self(
            name, .int, key, bind: { .int($0[keyPath: model]) }, get: { .int($0[keyPath: dto]) },
            set: { if case .int(let value) = $1 { $0[keyPath: dto] = value } })
    }

    static func bool(_ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, Bool> & Sendable, _ dto: any WritableKeyPath<TicketDTO, Bool> & Sendable)
        -> Self
    {
        Self(
            name, .bool, key, bind: { .bool($0[keyPath: model]) }, get: { .bool($0[keyPath: dto]) },
            set: { if case .bool(let value) = $1 { $0[keyPath: dto] = value } })
    }

    static func date(
        _ name: String, _ key: StaticString, _ model: any KeyPath<Ticket, Date?> & Sendable, _ dto: any WritableKeyPath<TicketDTO, Date?> & Sendable
    ) -> Self {
        Self(
            name, .optionalDate, key, bind: { .date($0[keyPath: model]) }, get: { .date($0[keyPath: dto]) },
            set: { if case .date(let date) = $1 { $0[keyPath: dto] = date } })
    }
}

extension Ticket {
    /// Every column of `tickets`, in table order.
    static let columns: [TicketColumn] = [
        .id("id", "id", \.uuid, \.id),
        .int("number", "number", \.number, \.number),
        .text("title", "title", \.title, \.title),
        .text("description", "description", \.description, \.description),
        .id("organization_id", "organizationId", \.organizationId, \.organizationId),
        .optionalId("site_id", "siteId", \.siteId, \.siteId),
        .optionalId("contact_id", "contactId", \.contactId, \.contactId),
        .optionalId("queue_id", "queueId", \.queueId, \.queueId),
        .optionalId("team_id", "teamId", \.teamId, \.teamId),
        .text("status", "status", \.status, \.status),
        .text("priority", "priority", \.priority, \.priority),
        .text("source", "source", \.source, \.source),
        .bool("co_managed_visible", "coManagedVisible", \.coManagedVisible, \.coManagedVisible),
        .date("due_at", "dueAt", \.dueAt, \.dueAt),
        .int("version", "version", \.version, \.version),
        .unshownId("created_by_id", \.createdById),
        .date("created_at", "createdAt", \.createdAt, \.createdAt),
        .date("updated_at", "updatedAt", \.updatedAt, \.updatedAt),
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

    static let assigneesKey: StaticString = "assigneeIds"

    /// The API's members, sorted by key.
    static let sorted: [TicketJSONMember] = {
        let columns = Ticket.columns.enumerated().compactMap { index, column in column.key.map { ("\($0)", TicketJSONMember.column(index, column)) } }
        return (columns + [("\(assigneesKey)", .assignees)]).sorted { $0.0 < $1.0 }.map(\.1)
    }()

    var field: TicketField {
        switch self {
        case .column(_, let column): column.field!
        case .assignees: .assigneeIds
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
            case .column(_, let column):
                let key = column.key!
                switch column.get(self) {
                case .id(let id): json.member(key, id)
                case .text(let text): json.member(key, text)
                case .int(let value): json.member(key, value)
                case .bool(let value): json.member(key, value)
                case .date(let date): json.member(key, date)
                }
            }
        }
        json.endObject()
    }

    /// A DTO read column by column (`value` answers each column's value); the assignees are added by the caller.
    init(reading value: (Int, TicketColumn) throws -> TicketColumn.Value) rethrows {
        self.init()
        for (index, column) in Ticket.columns.enumerated() where column.key != nil {
            column.set(&self, try value(index, column))
        }
    }
}

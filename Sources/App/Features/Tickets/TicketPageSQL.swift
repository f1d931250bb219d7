import Foundation
import SQLKit
import TandemCore

/// How a database writes a ticket's values as the API's JSON inside SQL: the ticket page's JSON is
/// written by the database (`json_build_object` on PostgreSQL, `json_object` on SQLite), one text
/// value per ticket, and the server copies those bytes into the page. Each store gives its dialect;
/// the object itself follows `Ticket.columns` (`ticketObject`), so a new column needs nothing here.
///
/// The values are what `JSONWriter` writes for a `TicketDTO`: ids as upper-case `uuidString`, dates
/// as `ISO8601.string` (whole seconds, UTC), nil members left out, the reference derived from the number.
struct TicketJSONDialect: Sendable {
    /// An id column's JSON string (upper case).
    let id: @Sendable (String) -> String
    /// A timestamp column's JSON string (`2026-12-05T05:31:03Z`), NULL for NULL.
    let date: @Sendable (String) -> String
    /// A boolean column's JSON value.
    let bool: @Sendable (String) -> String
    /// The ticket reference (`[#T-000042]`) of the number column.
    let reference: @Sendable (String) -> String
    /// The ticket's assignees (`tickets` in scope) as a JSON array of upper-case ids, in position order.
    let assignees: String
    /// An object of `key, value` pairs (already joined), its NULL members left out, as text.
    let object: @Sendable (String) -> String

    /// The JSON text of one ticket of the page query, with the members `fields` holds (nil: all).
    func ticketObject(fields: Set<TicketField>?) -> String {
        var members: [String] = []
        for member in TicketJSONMember.sorted where fields?.contains(member.field) ?? true {
            let value: String
            switch member {
            case .assignees: value = assignees
            case .reference: value = reference(Self.column(Ticket.columns[TicketJSONMember.numberIndex]))
            case .column(_, let column):
                let name = Self.column(column)
                switch column.kind {
                case .id, .optionalId: value = id(name)
                case .optionalDate: value = date(name)
                case .bool: value = bool(name)
                case .text, .int: value = name
                }
            }
            members.append("'\(member.field.rawValue)', \(value)")
        }
        return object(members.joined(separator: ", "))
    }

    private static func column(_ column: TicketColumn) -> String {
        "\"\(Ticket.schema)\".\"\(column.name)\""
    }

    static let postgres = TicketJSONDialect(
        id: { "upper(\($0)::text)" },
        date: { "to_char(\($0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" },
        bool: { $0 },
        reference: { "'[#T-' || CASE WHEN \($0) < 1000000 THEN lpad(\($0)::text, 6, '0') ELSE \($0)::text END || ']'" },
        // The array the `TicketAssigneeIds` triggers keep; its JSON has only ids, brackets and quotes.
        assignees: "upper(array_to_json(\"\(Ticket.schema)\".\"assignee_ids\")::text)::json",
        object: { "json_strip_nulls(json_build_object(\($0)))::text" })

    static let sqlite = TicketJSONDialect(
        // Ids are stored as `uuidString` writes them.
        id: { $0 },
        // Seconds rounded down, as `ISO8601.string` does (strftime would round to the millisecond).
        date: { "strftime('%Y-%m-%dT%H:%M:%SZ', CAST(\($0) AS INTEGER), 'unixepoch')" },
        bool: { "iif(\($0), json('true'), json('false'))" },
        reference: { "printf('[#T-%06d]', \($0))" },
        assignees: """
            json((SELECT json_group_array(principal_id ORDER BY position) FROM \(TicketAssignee.schema) \
            WHERE ticket_id = "\(Ticket.schema)"."id"))
            """,
        // A merge patch onto an empty object drops the members whose value is null.
        object: { "json_patch('{}', json_object(\($0)))" })
}

/// One row of a ticket page query written by the database: the ticket's number (for the cursor) and its JSON.
struct TicketJSONRow: Sendable {
    let number: Int
    let json: String

    /// The select list of such rows.
    static func selectList(_ dialect: TicketJSONDialect, fields: Set<TicketField>?) -> String {
        "\"\(Ticket.schema)\".\"number\" AS number, \(dialect.ticketObject(fields: fields)) AS ticket"
    }
}

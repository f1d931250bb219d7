import FluentKit
import Foundation
import TandemCore

/// A profile column of `contacts`, declared once: its name, the API's JSON key, the contact's field
/// and the profile's value (the spreadsheet's columns are TandemCore's `ProfileColumn`). The select
/// list, the insert's values, the updates (SQLKit's and SQLite's batch), the row readers (SQLite,
/// PostgreSQL, SQLKit), the contact's profile and the audit JSON all follow `ClientProfile.columns`.
///
/// Adding a profile field touches the model (`ClientProfile`, and the `Contact` field Fluent needs),
/// this list, a migration and the DTO (`ClientProfileDTO` and `ClientProfileInput`), and nothing else.
struct ContactColumn: Sendable {
    /// The contact's field, as its property (setting the property's value never reads it first, as a
    /// writable key path to the field itself would, which fails on a new contact).
    typealias Field<Value: Codable & Sendable> = any KeyPath<Contact, FieldProperty<Contact, Value>> & Sendable
    typealias OptionalField<Value: Codable & Sendable> = any KeyPath<Contact, OptionalFieldProperty<Contact, Value>> & Sendable
    typealias Get<Value> = @Sendable (ClientProfile) -> Value
    typealias Put<Value> = @Sendable (inout ClientProfile, Value) -> Void

    /// The contact's field, and how the profile's value is read and set, typed by the column's kind
    /// (closures: key paths cost several times more per field, on every row of an import).
    enum Access: Sendable {
        case text(Field<String>, Get<String>, Put<String>)
        case optionalText(OptionalField<String>, Get<String?>, Put<String?>)
        case bool(Field<Bool>, Get<Bool>, Put<Bool>)
        /// Text that is a JSON document, written into the API's JSON as it is.
        case json(Field<String>, Get<String>, Put<String>)
    }

    let name: String
    /// The key of `ClientProfileDTO`'s JSON.
    let key: String
    let access: Access

    init(_ name: String, _ key: String, _ access: Access) {
        self.name = name
        self.key = key
        self.access = access
    }

    /// The profile's value, for inserts and updates.
    func value(_ profile: ClientProfile) -> BulkValue {
        switch access {
        case .text(_, let get, _), .json(_, let get, _): .text(get(profile))
        case .optionalText(_, let get, _): .text(get(profile))
        case .bool(_, let get, _): .bool(get(profile))
        }
    }
}

extension ClientProfile {
    /// The profile columns of `contacts`.
    static let columns: [ContactColumn] = [
        .init("first_name", "firstName", .text(\.$firstName, { $0.firstName }, { $0.firstName = $1 })),
        .init("last_name", "lastName", .text(\.$lastName, { $0.lastName }, { $0.lastName = $1 })),
        .init("email", "email", .optionalText(\.$email, { $0.email }, { $0.email = $1 })),
        .init("phones", "phones", .json(\.$phonesJSON, { $0.phonesJSON }, { $0.phones = ClientProfile.phones(stored: $1) })),
        .init("mobile_provider", "mobileProvider", .optionalText(\.$mobileProvider, { $0.mobileProvider }, { $0.mobileProvider = $1 })),
        .init("sms_gateway", "smsGateway", .optionalText(\.$smsGateway, { $0.smsGateway }, { $0.smsGateway = $1 })),
        .init("thin_client", "thinClient", .bool(\.$thinClient, { $0.thinClient }, { $0.thinClient = $1 })),
        .init("notes", "notes", .optionalText(\.$notes, { $0.notes }, { $0.notes = $1 })),
    ]

    /// A stored profile's columns, as the store selects them: the id, then `columns`.
    static let storedColumns = ["id"] + columns.map(\.name)

    /// The values of `columns`, for inserts and updates.
    var sqlValues: [BulkValue] { Self.columns.map { $0.value(self) } }

    /// A profile read column by column: `read` answers each column's value by its index in
    /// `storedColumns` and its name, typed by the column's kind.
    init(reading read: some ProfileColumnReader) throws {
        self.init(firstName: "", lastName: "", phones: [])
        for (index, column) in Self.columns.enumerated() {
            switch column.access {
            case .text(_, _, let set), .json(_, _, let set): set(&self, try read.text(index + 1, column.name))
            case .optionalText(_, _, let set): set(&self, try read.optionalText(index + 1, column.name))
            case .bool(_, _, let set): set(&self, try read.bool(index + 1, column.name))
            }
        }
    }

    /// The `phones` column as written (`ClientProfileDTO.phonesJSON`).
    var phonesJSON: String {
        ClientProfileDTO.phonesJSON(phones.map { Phone(number: $0.number, countryCode: $0.countryCode, kind: $0.kind.rawValue) })
    }

    /// The stored phones in kind order, as the rules keep them; unknown kinds left out.
    static func phones(stored text: String) -> [ProfilePhone] {
        let order = PhoneKind.allCases
        return Phone.decodeStored(text).compactMap { phone in
            PhoneKind(rawValue: phone.kind).map { ProfilePhone(number: phone.number, countryCode: phone.countryCode, kind: $0) }
        }
        .sorted { order.firstIndex(of: $0.kind)! < order.firstIndex(of: $1.kind)! }
    }

    /// A member of the audit JSON, in the order `.sortedKeys` puts them: a column, or the profile's place.
    private enum AuditMember {
        case column(ContactColumn)
        case id, organizationId, siteId

        static let sorted: [AuditMember] =
            (ClientProfile.columns.map { ($0.key, AuditMember.column($0)) } + [("id", .id), ("organizationId", .organizationId), ("siteId", .siteId)])
            .sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The same JSON as `JSONColumn.encode(ClientProfileDTO(…))` (sorted keys, nil fields left out), written
    /// directly: JSONEncoder was the largest single cost of a 100,000-row import's audit events.
    func auditJSON(id: UUID, organizationId: UUID, siteId: UUID) -> String {
        var json = "{"
        var first = true
        func add(_ key: String, _ value: String) {
            if !first { json += "," }
            first = false
            json += "\"" + key + "\":" + value
        }
        for member in AuditMember.sorted {
            switch member {
            case .id: add("id", ClientProfileDTO.quoted(id.uuidString))
            case .organizationId: add("organizationId", ClientProfileDTO.quoted(organizationId.uuidString))
            case .siteId: add("siteId", ClientProfileDTO.quoted(siteId.uuidString))
            case .column(let column):
                switch column.access {
                case .text(_, let get, _): add(column.key, ClientProfileDTO.quoted(get(self)))
                case .optionalText(_, let get, _): if let value = get(self) { add(column.key, ClientProfileDTO.quoted(value)) }
                case .bool(_, let get, _): add(column.key, get(self) ? "true" : "false")
                case .json(_, let get, _): add(column.key, get(self))
                }
            }
        }
        return json + "}"
    }
}

extension Contact {
    /// The help-desk view of this contact; phones in kind order, as the rules keep them.
    var clientProfile: ClientProfile {
        var profile = ClientProfile(firstName: "", lastName: "", phones: [])
        for column in ClientProfile.columns {
            switch column.access {
            case .text(let field, _, let set), .json(let field, _, let set): set(&profile, self[keyPath: field].wrappedValue)
            case .optionalText(let field, _, let set): set(&profile, self[keyPath: field].wrappedValue)
            case .bool(let field, _, let set): set(&profile, self[keyPath: field].wrappedValue)
            }
        }
        return profile
    }

    func apply(_ profile: ClientProfile) {
        for column in ClientProfile.columns {
            switch column.access {
            case .text(let field, let get, _), .json(let field, let get, _): self[keyPath: field].wrappedValue = get(profile)
            case .optionalText(let field, let get, _): self[keyPath: field].wrappedValue = get(profile)
            case .bool(let field, let get, _): self[keyPath: field].wrappedValue = get(profile)
            }
        }
    }
}

/// Reads one row's profile columns by their index in `ClientProfile.storedColumns` (PostgreSQL's
/// rows) or their name (SQLite's and SQLKit's rows): what `StoredProfile(reading:)` needs.
protocol ProfileColumnReader {
    func id(_ index: Int, _ name: String) throws -> UUID
    func text(_ index: Int, _ name: String) throws -> String
    func optionalText(_ index: Int, _ name: String) throws -> String?
    func bool(_ index: Int, _ name: String) throws -> Bool
}

extension StoredProfile {
    /// A row of `ClientProfile.storedColumns`.
    init(reading read: some ProfileColumnReader) throws {
        self.init(id: try read.id(0, "id"), profile: try ClientProfile(reading: read))
    }
}

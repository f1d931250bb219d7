import Foundation
import Spreadsheets

/// A column of the client-profile spreadsheet (export, template and import).
public enum ProfileColumn: Hashable, Sendable {
    case id, firstName, lastName, email
    case phone(PhoneKind), phoneCountry(PhoneKind)
    case mobileProvider, smsGateway, thinClient, notes, delete

    /// The export's column order.
    public static let all: [ProfileColumn] =
        [.id, .firstName, .lastName, .email]
        + PhoneKind.allCases.flatMap { [ProfileColumn.phone($0), .phoneCountry($0)] }
        + [.mobileProvider, .smsGateway, .thinClient, .notes, .delete]

    public var header: String {
        switch self {
        case .id: "Id"
        case .firstName: "First Name"
        case .lastName: "Last Name"
        case .email: "Email"
        case .phone(let kind): "\(kind.rawValue.capitalized) Phone"
        case .phoneCountry(let kind): "\(kind.rawValue.capitalized) Phone Country"
        case .mobileProvider: "Mobile Provider"
        case .smsGateway: "SMS Gateway"
        case .thinClient: "Thin Client"
        case .notes: "Notes"
        case .delete: "Delete"
        }
    }

    public var isPhone: Bool {
        switch self {
        case .phone, .phoneCountry: true
        default: false
        }
    }

    /// Header text compared without case, spaces, dashes or underscores ("E-mail", "first_name").
    static func key(_ header: String) -> String {
        String(header.lowercased().filter { $0.isLetter || $0.isNumber })
    }

    static let byKey: [String: ProfileColumn] = {
        var map = Dictionary(uniqueKeysWithValues: all.map { (key($0.header), $0) })
        map["emailaddress"] = .email
        map["smsemailgateway"] = .smsGateway
        map["provider"] = .mobileProvider
        for kind in PhoneKind.allCases {
            map[key("\(kind.rawValue) Phone Country Code")] = .phoneCountry(kind)
            map[key("\(kind.rawValue) Country")] = .phoneCountry(kind)
            map[key("\(kind.rawValue) Country Code")] = .phoneCountry(kind)
        }
        return map
    }()
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
public func columnLetters(_ index: Int) -> String {
    var n = index + 1, letters = ""
    while n > 0 {
        let remainder = (n - 1) % 26
        letters = String(UnicodeScalar(UInt8(65 + remainder))) + letters
        n = (n - 1) / 26
    }
    return letters
}

/// Why a whole import file is refused before any row is read.
public struct ProfileFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where each profile column sits in an import file, read from its header row.
public struct ProfileSheetLayout: Sendable {
    public private(set) var index: [ProfileColumn: Int] = [:]
    public private(set) var warnings: [String] = []
    public let width: Int

    public init(header: [String]) throws(ProfileFileError) {
        width = header.count
        if header.allSatisfy({ ProfileRules.trim($0).isEmpty }) { throw ProfileFileError("the file is empty: its first row must be the header row") }
        for (position, raw) in header.enumerated() {
            let name = ProfileRules.trim(raw)
            if name.isEmpty { continue }
            guard let column = ProfileColumn.byKey[ProfileColumn.key(name)] else {
                warnings.append("column \(columnLetters(position)) '\(name)' is not a profile column; it was ignored")
                continue
            }
            if let earlier = index[column] {
                throw ProfileFileError(
                    "the column '\(column.header)' appears twice (columns \(columnLetters(earlier)) and \(columnLetters(position))); keep one")
            }
            index[column] = position
        }
        let missing = [ProfileColumn.firstName, .lastName].filter { index[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "'\($0.header)'" }.joined(separator: " and ")
            throw ProfileFileError("the required column \(names) is missing from the header row; export a template to see the columns")
        }
        if !PhoneKind.allCases.contains(where: { index[.phone($0)] != nil }) {
            throw ProfileFileError(
                "the file has no phone number column ('Office Phone', 'Mobile Phone', 'Home Phone' or 'Other Phone'); every profile needs one")
        }
        for kind in PhoneKind.allCases where (index[.phone(kind)] == nil) != (index[.phoneCountry(kind)] == nil) {
            let present = index[.phone(kind)] == nil ? ProfileColumn.phoneCountry(kind) : .phone(kind)
            let absent = present == .phone(kind) ? ProfileColumn.phoneCountry(kind) : .phone(kind)
            throw ProfileFileError("the column '\(present.header)' needs the column '\(absent.header)' beside it")
        }
    }

    /// The cell reference (`G7`) of a column in a row, when the file has that column.
    public func cell(_ column: ProfileColumn, row: Int) -> String? {
        index[column].map { "\(columnLetters($0))\(row)" }
    }
}

/// One row of an import file, read through the layout: what it asks for, not yet matched or validated.
public struct ProfileRow: Sendable {
    public enum Request: Sendable { case save, delete }

    public var number: Int
    /// The Id cell as given (trimmed), empty when none.
    public var id: String
    /// The Email cell lower-cased and trimmed, empty when none.
    public var email: String
    public var request: Request
    /// Only the columns the file has: an absent column leaves a stored field alone; an empty cell clears it.
    public var values: [ProfileColumn: String]

    /// Reads a row; a problem that fails the whole row (bad delete flag, extra cells) is thrown.
    public init(number: Int, cells: [String], layout: ProfileSheetLayout) throws(ProfileRowError) {
        self.number = number
        if cells.count > layout.width, cells[layout.width...].contains(where: { !ProfileRules.trim($0).isEmpty }) {
            throw ProfileRowError(
                row: number, column: nil, cell: nil,
                reason: "the row has \(cells.count) cells but the header has \(layout.width) columns (is a delimiter inside an unquoted cell?)")
        }
        var values: [ProfileColumn: String] = [:]
        values.reserveCapacity(layout.index.count)
        for (column, position) in layout.index {
            let raw = position < cells.count ? cells[position] : ""
            values[column] = CellSafety.restore(ProfileRules.trim(raw))
        }
        id = values[.id] ?? ""
        email = (values[.email] ?? "").lowercased()
        switch ProfileRules.flag(values[.delete]) {
        case .success(let delete): request = delete == true ? .delete : .save
        case .failure(let error):
            throw ProfileRowError(
                row: number, column: ProfileColumn.delete.header, cell: layout.cell(.delete, row: number),
                reason: "'\(error.value)' in the delete column: only a capital Y deletes the profile; N or nothing keeps it")
        }
        values[.delete] = nil
        self.values = values
    }

    public var isBlank: Bool { values.values.allSatisfy(\.isEmpty) && request == .save }

    /// Whether every cell of the row already says what the stored profile holds (as its export would):
    /// such a row changes nothing, even when the stored profile predates a rule.
    public func restates(_ profile: ClientProfile) -> Bool {
        values.allSatisfy { column, value in
            switch column {
            case .id: true
            case .email: value.lowercased() == CellText.value(.email, of: profile)
            default: value == CellText.value(column, of: profile)
            }
        }
    }

    /// The row's values laid over a stored profile (or over nothing for a new one).
    public func draft(over stored: ClientProfile?) -> ProfileDraft {
        var draft = stored.map(ProfileDraft.init) ?? ProfileDraft()
        func take(_ column: ProfileColumn, _ keyPath: WritableKeyPath<ProfileDraft, String?>) {
            if let value = values[column] { draft[keyPath: keyPath] = value }
        }
        take(.firstName, \.firstName)
        take(.lastName, \.lastName)
        take(.email, \.email)
        take(.mobileProvider, \.mobileProvider)
        take(.smsGateway, \.smsGateway)
        take(.thinClient, \.thinClient)
        take(.notes, \.notes)
        for kind in PhoneKind.allCases where values[.phone(kind)] != nil {
            draft.phones.removeAll { $0.kind == kind }
            draft.phones.append(.init(kind: kind, number: values[.phone(kind)], countryCode: values[.phoneCountry(kind)]))
        }
        return draft
    }
}

/// A failed row, as the import report lists it: spreadsheet row (header = 1), column, cell and reason.
public struct ProfileRowError: Error, Sendable, Equatable, Codable {
    public var row: Int
    public var column: String?
    public var cell: String?
    public var reason: String

    public init(row: Int, column: String?, cell: String?, reason: String) {
        self.row = row
        self.column = column
        self.cell = cell
        self.reason = reason
    }
}

/// The spreadsheet text of profiles.
public enum CellText {
    /// The export row of a stored profile.
    public static func exportRow(id: String, _ profile: ClientProfile) -> [String] {
        ProfileColumn.all.map { column in CellSafety.neutralize(column == .id ? id : value(column, of: profile)) }
    }

    /// A stored profile's text in one column, before neutralizing.
    public static func value(_ column: ProfileColumn, of profile: ClientProfile) -> String {
        switch column {
        case .id, .delete: ""
        case .firstName: profile.firstName
        case .lastName: profile.lastName
        case .email: profile.email ?? ""
        case .phone(let kind): profile.phone(kind)?.number ?? ""
        case .phoneCountry(let kind): profile.phone(kind)?.countryCode ?? ""
        case .mobileProvider: profile.mobileProvider ?? ""
        case .smsGateway: profile.smsGateway ?? ""
        case .thinClient: profile.thinClient ? "Y" : "N"
        case .notes: profile.notes ?? ""
        }
    }
}

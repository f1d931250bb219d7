import Foundation
import Spreadsheets
import TandemCore
import Vapor

/// A client profile as the API shows it: a contact of a site with its help-desk details.
struct ClientProfileDTO: Content {
    var id: String
    var organizationId: String
    var siteId: String
    var firstName: String
    var lastName: String
    var email: String?
    var phones: [Phone]
    var mobileProvider: String?
    var smsGateway: String?
    var thinClient: Bool
    var notes: String?

    init(id: UUID, organizationId: UUID, siteId: UUID, _ profile: ClientProfile) {
        self.id = id.uuidString
        self.organizationId = organizationId.uuidString
        self.siteId = siteId.uuidString
        firstName = profile.firstName
        lastName = profile.lastName
        email = profile.email
        phones = profile.phones.map { Phone(number: $0.number, countryCode: $0.countryCode, kind: $0.kind.rawValue) }
        mobileProvider = profile.mobileProvider
        smsGateway = profile.smsGateway
        thinClient = profile.thinClient
        notes = profile.notes
    }

    init(_ contact: Contact) {
        self.init(id: contact.id!, organizationId: contact.organizationId, siteId: contact.siteId!, contact.clientProfile)
    }

    /// `JSONColumn.encode(phones)`, written directly (sorted keys).
    static func phonesJSON(_ phones: [Phone]) -> String {
        "[" + phones.map { "{\"countryCode\":\(quoted($0.countryCode)),\"kind\":\(quoted($0.kind)),\"number\":\(quoted($0.number))}" }.joined(separator: ",")
            + "]"
    }

    static func quoted(_ text: String) -> String {
        // Most cells need no escaping at all.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) { return "\"" + text + "\"" }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A create or patch body; absent fields keep their value on a patch, `null` clears.
struct ClientProfileInput: Decodable, Sendable {
    var siteId: Patch<String> = .absent
    var firstName: Patch<String> = .absent
    var lastName: Patch<String> = .absent
    var email: Patch<String> = .absent
    var phones: Patch<[PhoneInput]> = .absent
    var mobileProvider: Patch<String> = .absent
    var smsGateway: Patch<String> = .absent
    var thinClient: Patch<Bool> = .absent
    var notes: Patch<String> = .absent

    /// The body laid over the stored profile, for the shared rules; unknown phone kinds are field errors.
    func draft(over stored: ClientProfile?, _ validator: inout FieldValidator) -> ProfileDraft {
        var draft = stored.map(ProfileDraft.init) ?? ProfileDraft()
        func take(_ patch: Patch<String>, _ keyPath: WritableKeyPath<ProfileDraft, String?>) {
            if !patch.isAbsent { draft[keyPath: keyPath] = patch.value }
        }
        take(firstName, \.firstName)
        take(lastName, \.lastName)
        take(email, \.email)
        take(mobileProvider, \.mobileProvider)
        take(smsGateway, \.smsGateway)
        take(notes, \.notes)
        if !thinClient.isAbsent { draft.thinClient = thinClient.value == true ? "Y" : "N" }
        if !phones.isAbsent { draft.phones = PhoneInput.drafts(phones.value ?? [], &validator) }
        return draft
    }
}

/// The spreadsheet formats the import and export speak.
extension TableFormat {
    var mediaType: HTTPMediaType {
        switch self {
        case .csv: HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        case .xlsx: HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        }
    }

    /// From a `format` parameter, or else from the upload's content type.
    static func from(parameter: String?, contentType: HTTPMediaType?) throws(TandemError) -> TableFormat {
        if let parameter {
            guard let format = TableFormat(rawValue: parameter.lowercased()) else { throw .invalid("format", "'\(parameter)' is not one of csv, xlsx") }
            return format
        }
        switch (contentType?.type, contentType?.subType) {
        case ("text", "csv"), ("text", "plain"), ("application", "csv"): return .csv
        case ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"): return .xlsx
        default:
            throw .unsupportedMediaType(
                "send the file as text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, or name it with ?format=csv|xlsx")
        }
    }
}

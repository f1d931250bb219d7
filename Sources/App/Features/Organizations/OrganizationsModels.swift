import Fluent
import Foundation
import TandemCore

final class Organization: Model, @unchecked Sendable {
    static let schema = "organizations"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "co_management_enabled") var coManagementEnabled: Bool
    /// A resource or a co-managing user.
    @OptionalField(key: "account_manager_id") var accountManagerId: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {
        coManagementEnabled = false
    }
}

final class Site: Model, @unchecked Sendable {
    static let schema = "sites"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .site: "id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "name") var name: String
    /// ISO 3166 alpha-2.
    @Field(key: "country") var country: String
    @OptionalField(key: "address") var address: String?
    @OptionalField(key: "internal_location_id") var internalLocationId: UUID?
    // The help desk profile (`SiteHelpDeskProfile`).
    @OptionalField(key: "main_phone") var mainPhone: String?
    @OptionalField(key: "main_phone_e164") var mainPhoneE164: String?
    /// '' when "no client email domain" was chosen; nil when not answered yet.
    @OptionalField(key: "client_email_domain") var clientEmailDomain: String?
    @OptionalField(key: "greeting_company_name") var greetingCompanyName: String?
    @OptionalField(key: "site_message") var siteMessage: String?
    @Field(key: "agent_install_opt_in") var agentInstallOptIn: Bool
    @OptionalField(key: "agent_install_fee_cents") var agentInstallFeeCents: Int64?
    @OptionalField(key: "help_desk_contact_id") var helpDeskContactId: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {
        agentInstallOptIn = false
    }
}

/// A phone number of a contact, digits only, with its ISO 3166 country.
struct Phone: Codable, Sendable, Equatable {
    var number: String
    var countryCode: String
    var kind: String

    /// The `phones` column as written (`ClientProfileDTO.phonesJSON`: sorted keys, plain strings),
    /// read without `JSONDecoder`, which was a seventh of a 100,000-row re-import's CPU. Any other
    /// JSON (escapes, other keys or order) goes to `JSONColumn.decode`.
    static func decodeStored(_ text: String) -> [Phone] {
        var text = text
        let fast: [Phone]? = text.withUTF8 { utf8 in
            var at = 0
            func literal(_ expected: StaticString) -> Bool {
                let count = expected.utf8CodeUnitCount
                guard at + count <= utf8.count else { return false }
                let matches = expected.withUTF8Buffer { $0.elementsEqual(UnsafeBufferPointer(rebasing: utf8[at..<at + count])) }
                if matches { at += count }
                return matches
            }
            func string() -> String? {
                guard at < utf8.count, utf8[at] == 0x22 else { return nil }
                let start = at + 1
                var end = start
                while end < utf8.count, utf8[end] != 0x22 {
                    if utf8[end] == 0x5C || utf8[end] < 0x20 { return nil }
                    end += 1
                }
                guard end < utf8.count else { return nil }
                at = end + 1
                return String(decoding: UnsafeBufferPointer(rebasing: utf8[start..<end]), as: UTF8.self)
            }
            var phones: [Phone] = []
            guard literal("[") else { return nil }
            if literal("]") { return at == utf8.count ? phones : nil }
            repeat {
                guard literal("{\"countryCode\":"), let countryCode = string(), literal(",\"kind\":"), let kind = string(),
                    literal(",\"number\":"), let number = string(), literal("}")
                else { return nil }
                phones.append(Phone(number: number, countryCode: countryCode, kind: kind))
            } while literal(",")
            return literal("]") && at == utf8.count ? phones : nil
        }
        return fast ?? JSONColumn.decode(text, default: [])
    }
}

/// A client's person; with a site, phones and help-desk details it is a client profile (SPEC §7).
final class Contact: Model, @unchecked Sendable {
    static let schema = "contacts"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .site: "site_id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @OptionalField(key: "site_id") var siteId: UUID?
    @Field(key: "first_name") var firstName: String
    @Field(key: "last_name") var lastName: String
    @OptionalField(key: "email") var email: String?
    @Field(key: "phones") var phonesJSON: String
    @Field(key: "portal_organization_wide") var portalOrganizationWide: Bool
    @OptionalField(key: "portal_password_hash") var portalPasswordHash: String?
    @OptionalField(key: "mobile_provider") var mobileProvider: String?
    @OptionalField(key: "sms_gateway") var smsGateway: String?
    @Field(key: "thin_client") var thinClient: Bool
    @OptionalField(key: "notes") var notes: String?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {
        thinClient = false
    }

    var fullName: String { "\(firstName) \(lastName)" }

    var phones: [Phone] {
        get { Phone.decodeStored(phonesJSON) }
        set { phonesJSON = JSONColumn.encode(newValue) }
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

struct OrganizationDTO: Content {
    var id: String
    var name: String
    var createdAt: Date?
    var updatedAt: Date?

    init(_ organization: Organization) {
        id = organization.id!.uuidString
        name = organization.name
        createdAt = organization.createdAt
        updatedAt = organization.updatedAt
    }
}

struct OrganizationInput: Decodable, Sendable {
    var name: Patch<String> = .absent
}

struct SiteDTO: Content {
    var id: String
    var organizationId: String
    var name: String
    var country: String
    var address: String?
    var internalLocationId: String?
    // The help desk profile.
    var mainPhone: String?
    /// The main phone in E.164, as caller identification matches it.
    var mainPhoneE164: String?
    /// Null when "no client email domain" was chosen (`noClientEmailDomain`) or nothing was yet.
    var clientEmailDomain: String?
    var noClientEmailDomain: Bool
    var greetingCompanyName: String?
    var siteMessage: String?
    var agentInstallOptIn: Bool
    /// Per occurrence, a decimal string ("25.00").
    var agentInstallFee: String?
    var helpDeskContactId: String?

    init(_ site: Site) {
        id = site.id!.uuidString
        organizationId = site.organizationId.uuidString
        name = site.name
        country = site.country
        address = site.address
        internalLocationId = site.internalLocationId?.uuidString
        mainPhone = site.mainPhone
        mainPhoneE164 = site.mainPhoneE164
        clientEmailDomain = site.clientEmailDomain.flatMap { $0.isEmpty ? nil : $0 }
        noClientEmailDomain = site.clientEmailDomain == ""
        greetingCompanyName = site.greetingCompanyName
        siteMessage = site.siteMessage
        agentInstallOptIn = site.agentInstallOptIn
        agentInstallFee = site.agentInstallFeeCents.map { MoneyAmount(cents: Int($0)).description }
        helpDeskContactId = site.helpDeskContactId?.uuidString
    }
}

struct SiteInput: Decodable, Sendable {
    var organizationId: Patch<String> = .absent
    var name: Patch<String> = .absent
    var country: Patch<String> = .absent
    var address: Patch<String> = .absent
    var internalLocationId: Patch<String> = .absent
    var mainPhone: Patch<String> = .absent
    /// Null chooses "no client email domain", as `noClientEmailDomain: true` does.
    var clientEmailDomain: Patch<String> = .absent
    var noClientEmailDomain: Patch<Bool> = .absent
    var greetingCompanyName: Patch<String> = .absent
    var siteMessage: Patch<String> = .absent
    var agentInstallOptIn: Patch<Bool> = .absent
    var agentInstallFee: Patch<String> = .absent
    var helpDeskContactId: Patch<String> = .absent
}

struct ContactDTO: Content {
    var id: String
    var organizationId: String
    var siteId: String?
    var firstName: String
    var lastName: String
    var email: String?
    var phones: [Phone]
    var portalOrganizationWide: Bool

    init(_ contact: Contact) {
        id = contact.id!.uuidString
        organizationId = contact.organizationId.uuidString
        siteId = contact.siteId?.uuidString
        firstName = contact.firstName
        lastName = contact.lastName
        email = contact.email
        phones = contact.phones
        portalOrganizationWide = contact.portalOrganizationWide
    }
}

struct PhoneInput: Decodable, Sendable {
    var number: String
    var countryCode: String
    var kind: String?

    /// The numbers for the shared rules; unknown kinds and empty numbers are field errors here.
    static func drafts(_ phones: [PhoneInput], _ validator: inout FieldValidator) -> [ProfileDraft.Phone] {
        phones.enumerated().compactMap { index, phone in
            guard let kind = validator.choice(phone.kind ?? "office", "phones[\(index)].kind", as: PhoneKind.self) else { return nil }
            // An empty number would read as "no phone of this kind"; the API asks for a number.
            if phone.number.isEmpty { validator.fail("phones[\(index)].number", "must not be empty") }
            return ProfileDraft.Phone(kind: kind, number: phone.number, countryCode: phone.countryCode)
        }
    }
}

struct ContactInput: Decodable, Sendable {
    var organizationId: Patch<String> = .absent
    var siteId: Patch<String> = .absent
    var firstName: Patch<String> = .absent
    var lastName: Patch<String> = .absent
    var email: Patch<String> = .absent
    var phones: Patch<[PhoneInput]> = .absent
    var portalOrganizationWide: Patch<Bool> = .absent
    /// Write only: lets the contact log in to the portal with their email.
    var password: Patch<String> = .absent
}

import Foundation

/// A contact (or client profile) whose phone number equals the caller's, with what the server loaded to tell
/// callers apart.
public struct CallerCandidate: Codable, Sendable, Equatable {
    public var contactId: UUID
    public var firstName: String
    public var lastName: String
    public var email: String?
    public var title: String?
    public var organizationId: UUID
    public var organizationName: String
    public var siteId: UUID?
    public var siteName: String?
    /// Which of the contact's numbers matched.
    public var phoneKind: PhoneKind?

    public init(
        contactId: UUID, firstName: String, lastName: String, email: String? = nil, title: String? = nil, organizationId: UUID,
        organizationName: String, siteId: UUID? = nil, siteName: String? = nil, phoneKind: PhoneKind? = nil
    ) {
        self.contactId = contactId
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.title = title
        self.organizationId = organizationId
        self.organizationName = organizationName
        self.siteId = siteId
        self.siteName = siteName
        self.phoneKind = phoneKind
    }
}

/// Someone the help desk may call before escalating a simple inquiry (the site notification rule).
public struct CallBeforeContact: Codable, Sendable, Equatable {
    public var contactId: UUID
    public var name: String
    /// E.164.
    public var phone: String?

    public init(contactId: UUID, name: String, phone: String? = nil) {
        self.contactId = contactId
        self.name = name
        self.phone = phone
    }
}

/// A site that may be the caller's: a matched contact's site, or a site whose main phone is the number called from.
public struct SiteCandidate: Codable, Sendable, Equatable {
    public var siteId: UUID
    public var siteName: String
    public var organizationId: UUID
    public var organizationName: String
    public var profile: SiteHelpDeskProfile?
    /// In the notification rule's order; empty when the rule has none.
    public var callBeforeEscalating: [CallBeforeContact]
    /// The site's security-request policy in a sentence (SPEC §6), once Tandem has one.
    public var securityRequests: String?
    /// Whether the number is the site's main phone (rather than one of its contacts').
    public var isMainPhone: Bool

    public init(
        siteId: UUID, siteName: String, organizationId: UUID, organizationName: String, profile: SiteHelpDeskProfile? = nil,
        callBeforeEscalating: [CallBeforeContact] = [], securityRequests: String? = nil, isMainPhone: Bool = false
    ) {
        self.siteId = siteId
        self.siteName = siteName
        self.organizationId = organizationId
        self.organizationName = organizationName
        self.profile = profile
        self.callBeforeEscalating = callBeforeEscalating
        self.securityRequests = securityRequests
        self.isMainPhone = isMainPhone
    }
}

/// The answer to "who is calling from this number?" (`GET /api/v1/identify?phone=`), shaped for the technician:
/// who it may be, what tells them apart, and what to say and know for the site.
public struct IdentifyAnswer: Codable, Sendable, Equatable {
    /// A caller as matched: who, where, and which of their numbers it was.
    public typealias Caller = CallerCandidate

    public struct Site: Codable, Sendable, Equatable {
        public var siteId: UUID
        public var siteName: String
        public var organizationId: UUID
        public var organizationName: String
    }

    /// E.164 of the number asked about.
    public var phone: String
    public var callers: [Caller]
    /// The site when the number settles it.
    public var site: Site?
    /// Several people or places fit: the technician asks before acting. No caller and no site is not ambiguous
    /// but unknown.
    public var ambiguous: Bool
    public var ambiguityReason: String?
    public var greeting: String?
    public var siteMessage: String?
    public var callBeforeEscalating: [CallBeforeContact]
    public var securityRequests: String?
}

/// Shapes the caller identification answer from what the server matched; no look-ups here.
public enum CallerIdentification {
    /// `sites` holds every matched contact's site and every site whose main phone is the number.
    public static func identify(phone: PhoneNumber, callers: [CallerCandidate], sites: [SiteCandidate]) -> IdentifyAnswer {
        // The site is settled when every caller and every main-phone match points to the same one.
        var siteIds: [UUID] = []
        for id in callers.compactMap(\.siteId) + sites.filter(\.isMainPhone).map(\.siteId) where !siteIds.contains(id) { siteIds.append(id) }
        let organizations = Set(callers.map(\.organizationId) + sites.filter(\.isMainPhone).map(\.organizationId))
        let site = siteIds.count == 1 ? sites.first { $0.siteId == siteIds[0] } : nil

        var reasons: [String] = []
        if callers.count > 1 { reasons.append("\(callers.count) contacts share this number: ask the caller's name") }
        if organizations.count > 1 {
            reasons.append("the number belongs to \(organizations.count) organizations: ask which company they call for")
        } else if siteIds.count > 1 {
            reasons.append("the number belongs to \(siteIds.count) sites: ask where the caller is")
        }

        // A greeting needs a company: the site's, else the one organization everybody belongs to.
        let organizationName = organizations.count == 1 ? (callers.first?.organizationName ?? sites.first { $0.isMainPhone }?.organizationName) : nil
        let greeting: String? =
            if let site { SiteHelpDeskRules.greeting(for: site.profile, fallbackCompany: site.organizationName) } else {
                organizationName.map { SiteHelpDeskRules.greeting(for: nil, fallbackCompany: $0) }
            }
        return IdentifyAnswer(
            phone: phone.e164, callers: callers,
            site: site.map { .init(siteId: $0.siteId, siteName: $0.siteName, organizationId: $0.organizationId, organizationName: $0.organizationName) },
            ambiguous: !reasons.isEmpty,
            ambiguityReason: reasons.isEmpty ? nil : reasons.joined(separator: "; "), greeting: greeting, siteMessage: site?.profile?.siteMessage,
            callBeforeEscalating: site?.callBeforeEscalating ?? [], securityRequests: site?.securityRequests)
    }
}

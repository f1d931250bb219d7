/// A site's Help Desk profile (SPEC §6, ConnectWise's Help Desk tab, basic information): what identifies the
/// site on a call or an email, and what the technician says and knows when answering. The notification rule
/// is the site's `SiteNotificationRule`, kept apart.
public struct SiteHelpDeskProfile: Codable, Sendable, Equatable {
    /// The client's main number, in E.164 for matching calls.
    public var mainPhone: PhoneNumber?
    /// The main number as it was entered (whitespace tidied), to show it back the way its people write it.
    public var mainPhoneDisplay: String?
    /// Normalized; mail from exactly this domain identifies the site. Never a public mail domain.
    public var clientEmailDomain: String?
    /// "No client email domain" chosen on purpose (the client uses a public domain such as Gmail): tells a
    /// finished answer from a missing one, for the activation checklist. Mail then needs a known contact.
    public var noClientEmailDomain: Bool
    /// The name in "Thank you for calling …" and in SMS to the client; the organization's name when nil.
    public var greetingCompanyName: String?
    /// Critical information for the technician ("Email is down tonight for maintenance"). It never expires:
    /// it stays until someone edits or clears it by hand.
    public var siteMessage: String?
    /// Whether the help desk may install the RMM agent on a caller's machine that has none.
    public var agentInstallOptIn: Bool
    /// What each such install costs, per occurrence.
    public var agentInstallFee: MoneyAmount?

    public init(
        mainPhone: PhoneNumber? = nil, mainPhoneDisplay: String? = nil, clientEmailDomain: String? = nil, noClientEmailDomain: Bool = false,
        greetingCompanyName: String? = nil, siteMessage: String? = nil, agentInstallOptIn: Bool = false, agentInstallFee: MoneyAmount? = nil
    ) {
        self.mainPhone = mainPhone
        self.mainPhoneDisplay = mainPhoneDisplay
        self.clientEmailDomain = clientEmailDomain
        self.noClientEmailDomain = noClientEmailDomain
        self.greetingCompanyName = greetingCompanyName
        self.siteMessage = siteMessage
        self.agentInstallOptIn = agentInstallOptIn
        self.agentInstallFee = agentInstallFee
    }
}

/// A Help Desk profile as given (the API's body, the page's form), before the rules. Every field may be
/// missing: a profile is filled in over time, and the activation checklist says what is still needed.
public struct SiteHelpDeskDraft: Codable, Sendable, Equatable {
    /// Any common format; national forms are read in the site's country.
    public var mainPhone: String?
    public var clientEmailDomain: String?
    public var noClientEmailDomain: Bool?
    public var greetingCompanyName: String?
    public var siteMessage: String?
    public var agentInstallOptIn: Bool?
    /// A decimal string ("25.00").
    public var agentInstallFee: String?

    public init(
        mainPhone: String? = nil, clientEmailDomain: String? = nil, noClientEmailDomain: Bool? = nil, greetingCompanyName: String? = nil,
        siteMessage: String? = nil, agentInstallOptIn: Bool? = nil, agentInstallFee: String? = nil
    ) {
        self.mainPhone = mainPhone
        self.clientEmailDomain = clientEmailDomain
        self.noClientEmailDomain = noClientEmailDomain
        self.greetingCompanyName = greetingCompanyName
        self.siteMessage = siteMessage
        self.agentInstallOptIn = agentInstallOptIn
        self.agentInstallFee = agentInstallFee
    }
}

/// The rules of a site's Help Desk profile, whatever the input path; every problem is reported at once.
public enum SiteHelpDeskRules {
    public static let maxGreetingCompanyName = 200
    public static let maxSiteMessage = 2000

    public static func validate(_ draft: SiteHelpDeskDraft, publicDomains: PublicMailDomains, siteCountry: String?) -> Result<
        SiteHelpDeskProfile, TandemError
    > {
        var validator = FieldValidator()
        var profile = SiteHelpDeskProfile()

        // One-line text first (no control characters, bounded), then each field's own grammar.
        if let text = validator.text(draft.mainPhone, "mainPhone", max: 100, required: false), !text.isEmpty {
            switch PhoneNumber.parse(text, defaultCountry: siteCountry) {
            case .success(let phone):
                profile.mainPhone = phone
                profile.mainPhoneDisplay = tidy(text)
            case .failure(let problem): validator.fail("mainPhone", problem.message)
            }
        }

        profile.noClientEmailDomain = draft.noClientEmailDomain ?? false
        if let text = validator.text(draft.clientEmailDomain, "clientEmailDomain", max: 253, required: false), !text.isEmpty {
            switch MailDomain.normalize(text) {
            case .success(let domain) where publicDomains.isPublic(domain):
                validator.fail(
                    "clientEmailDomain",
                    "\(domain) is a public mail domain; a client email domain must belong to the client (or choose no client email domain)")
            case .success(let domain) where profile.noClientEmailDomain:
                validator.fail("clientEmailDomain", "\(domain) was given with no client email domain: choose one or the other")
            case .success(let domain): profile.clientEmailDomain = domain
            case .failure(let problem): validator.fail("clientEmailDomain", "'\(text)': \(problem.message)")
            }
        }

        profile.greetingCompanyName = nonEmpty(validator.text(draft.greetingCompanyName, "greetingCompanyName", max: maxGreetingCompanyName, required: false))
        profile.siteMessage = nonEmpty(validator.text(draft.siteMessage, "siteMessage", max: maxSiteMessage, required: false, multiline: true))

        profile.agentInstallOptIn = draft.agentInstallOptIn ?? false
        if let text = validator.text(draft.agentInstallFee, "agentInstallFee", max: 20, required: false), !text.isEmpty {
            switch MoneyAmount.parse(text) {
            case .success(let fee): profile.agentInstallFee = fee
            case .failure(let problem): validator.fail("agentInstallFee", problem.message)
            }
        } else if profile.agentInstallOptIn, !validator.errors.contains(where: { $0.field == "agentInstallFee" }) {
            // Opting in is agreeing to a charge: the client must see what it is (0.00 for none).
            validator.fail("agentInstallFee", "opting in to agent installs needs the fee per occurrence (0.00 for none)")
        }

        return validator.errors.isEmpty ? .success(profile) : .failure(.validation(validator.errors))
    }

    /// What the technician says when answering the site's calls.
    public static func greeting(for profile: SiteHelpDeskProfile?, fallbackCompany: String) -> String {
        "Thank you for calling " + (profile?.greetingCompanyName ?? Whitespace.trim(fallbackCompany))
    }

    static func nonEmpty(_ text: String?) -> String? { text?.isEmpty == false ? text : nil }

    /// Runs of whitespace (NBSP, tabs) as one space.
    static func tidy(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

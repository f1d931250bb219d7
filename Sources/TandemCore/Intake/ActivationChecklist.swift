/// What the server knows about a site when it draws the activation checklist; each fact is loaded by the
/// feature that owns it.
public struct ActivationFacts: Codable, Sendable, Equatable {
    public var hasMainPhone: Bool
    public var clientEmailDomain: String?
    public var noClientEmailDomain: Bool
    public var greetingCompanyName: String?
    /// Contacts on the site notification rule's escalation list (0 without a rule).
    public var escalationContacts: Int
    /// The designated help desk contact's name, nil when none is designated.
    public var helpDeskContactName: String?
    public var clientProfiles: Int
    /// The site's managed devices with the agent installed.
    public var managedDevicesWithAgent: Int
    /// nil while Tandem has no security-request settings: the item is left out rather than shown undoable.
    public var securityRequestsConfigured: Bool?
    /// nil while Tandem has no network information: the item is left out.
    public var networkInformationPresent: Bool?

    public init(
        hasMainPhone: Bool = false, clientEmailDomain: String? = nil, noClientEmailDomain: Bool = false, greetingCompanyName: String? = nil,
        escalationContacts: Int = 0, helpDeskContactName: String? = nil, clientProfiles: Int = 0, managedDevicesWithAgent: Int = 0,
        securityRequestsConfigured: Bool? = nil, networkInformationPresent: Bool? = nil
    ) {
        self.hasMainPhone = hasMainPhone
        self.clientEmailDomain = clientEmailDomain
        self.noClientEmailDomain = noClientEmailDomain
        self.greetingCompanyName = greetingCompanyName
        self.escalationContacts = escalationContacts
        self.helpDeskContactName = helpDeskContactName
        self.clientProfiles = clientProfiles
        self.managedDevicesWithAgent = managedDevicesWithAgent
        self.securityRequestsConfigured = securityRequestsConfigured
        self.networkInformationPresent = networkInformationPresent
    }

    /// The profile's part of the facts; the rest is the caller's to fill in.
    public init(profile: SiteHelpDeskProfile?) {
        self.init(
            hasMainPhone: profile?.mainPhone != nil, clientEmailDomain: profile?.clientEmailDomain,
            noClientEmailDomain: profile?.noClientEmailDomain ?? false, greetingCompanyName: profile?.greetingCompanyName)
    }
}

/// One line of the checklist. `key` is stable (clients and checks read it); `detail` is for people.
public struct ChecklistItem: Codable, Sendable, Equatable {
    public var key: String
    public var done: Bool
    public var detail: String

    public init(key: String, done: Bool, detail: String) {
        self.key = key
        self.done = done
        self.detail = detail
    }
}

/// What a site still needs before its help desk can go live (ConnectWise's activation checklist), in a fixed
/// order: the Help Desk tab's basic information, the notification rule, people, devices, then the later steps.
public struct ActivationChecklist: Codable, Sendable, Equatable {
    public var ready: Bool
    public var items: [ChecklistItem]

    public init(ready: Bool, items: [ChecklistItem]) {
        self.ready = ready
        self.items = items
    }

    public enum Key {
        public static let mainPhone = "mainPhone"
        public static let clientEmailDomain = "clientEmailDomain"
        public static let greetingCompanyName = "greetingCompanyName"
        public static let notificationRule = "notificationRule"
        public static let helpDeskContact = "helpDeskContact"
        public static let clientProfiles = "clientProfiles"
        public static let managedDevices = "managedDevices"
        public static let securityRequests = "securityRequests"
        public static let networkInformation = "networkInformation"
    }

    public static func evaluate(_ facts: ActivationFacts) -> ActivationChecklist {
        var items: [ChecklistItem] = []
        func add(_ key: String, _ done: Bool, _ doneDetail: String, _ missingDetail: String) {
            items.append(ChecklistItem(key: key, done: done, detail: done ? doneDetail : missingDetail))
        }
        add(
            Key.mainPhone, facts.hasMainPhone, "The client's main phone number identifies the site on calls",
            "No main phone number: add the client's main number on the Help Desk profile")
        add(
            Key.clientEmailDomain, facts.clientEmailDomain != nil || facts.noClientEmailDomain,
            facts.clientEmailDomain.map { "Mail from \($0) identifies the site" }
                ?? "No client email domain: only mail from known contacts becomes tickets",
            "No client email domain: add the client's own domain, or choose no client email domain if they use a public one")
        add(
            Key.greetingCompanyName, facts.greetingCompanyName != nil, "Calls are answered \"Thank you for calling \(facts.greetingCompanyName ?? "")\"",
            "No company name for the greeting: add the name the help desk answers with")
        add(
            Key.notificationRule, facts.escalationContacts > 0,
            "The notification rule escalates to \(count(facts.escalationContacts, "contact"))",
            "No notification rule: name at least one contact the help desk escalates to")
        add(
            Key.helpDeskContact, facts.helpDeskContactName != nil, "\(facts.helpDeskContactName ?? "") is the help desk contact",
            "No help desk contact: designate who activates the site and is the first point of contact")
        add(
            Key.clientProfiles, facts.clientProfiles > 0, count(facts.clientProfiles, "client profile"),
            "No client profiles: add the people the help desk supports, one at a time or in bulk")
        add(
            Key.managedDevices, facts.managedDevicesWithAgent > 0, "\(count(facts.managedDevicesWithAgent, "managed device")) with the agent installed",
            "No managed device with an agent installed: install the agent on at least one device of this site")
        if let configured = facts.securityRequestsConfigured {
            add(
                Key.securityRequests, configured, "Security-related requests have their approvers",
                "No security-related request settings: name approvers, or choose no approval needed, for each request type")
        }
        if let present = facts.networkInformationPresent {
            add(
                Key.networkInformation, present, "Network information is provided",
                "No network information: describe the site's devices, email, remote access, backup and key software")
        }
        return ActivationChecklist(ready: items.allSatisfy(\.done), items: items)
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}

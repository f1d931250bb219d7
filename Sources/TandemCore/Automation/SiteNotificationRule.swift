import Foundation

/// A site's help desk notification rule (ConnectWise): whom the help desk contacts, in order, and when;
/// and whom to call before escalating a simple inquiry. Stored as JSON per site.
public struct SiteNotificationRule: Codable, Sendable, Equatable {
    /// When an escalation contact may be called.
    public enum Hours: String, Codable, Sendable, CaseIterable {
        case businessHours, afterHours, always
    }

    public struct Contact: Codable, Sendable, Equatable {
        public var contactId: UUID
        public var hours: Hours
        /// What the technician should know ("mobile only after 8 pm").
        public var instructions: String?

        public init(contactId: UUID, hours: Hours = .always, instructions: String? = nil) {
            self.contactId = contactId
            self.hours = hours
            self.instructions = instructions
        }
    }

    /// In the order they are to be tried.
    public var escalation: [Contact]
    /// "Call before escalating for a simple inquiry": nil when the help desk escalates without calling.
    public var callBeforeEscalating: [UUID]?

    public init(escalation: [Contact] = [], callBeforeEscalating: [UUID]? = nil) {
        self.escalation = escalation
        self.callBeforeEscalating = callBeforeEscalating
    }

    /// The escalation contacts to try now, in order; `businessHours` comes from the site's internal location
    /// (its time zone, business hours and holidays), which the server evaluates.
    public func escalationContacts(businessHours: Bool) -> [Contact] {
        escalation.filter { $0.hours == .always || ($0.hours == .businessHours) == businessHours }
    }

    public var references: AutomationReferences {
        var references = AutomationReferences()
        references.add(.contact, Set(escalation.map(\.contactId) + (callBeforeEscalating ?? [])))
        return references
    }

    public func validate() throws(TandemError) {
        var validator = FieldValidator()
        if escalation.isEmpty { validator.fail("escalation", "name at least one contact the help desk escalates to") }
        if Set(escalation.map(\.contactId)).count != escalation.count { validator.fail("escalation", "each contact appears once") }
        for (index, contact) in escalation.enumerated() {
            _ = validator.text(contact.instructions, "escalation[\(index)].instructions", max: 500, required: false, multiline: true)
        }
        if callBeforeEscalating?.isEmpty == true {
            validator.fail("callBeforeEscalating", "name whom to call, or leave it out to escalate without calling")
        }
        try validator.check()
    }
}

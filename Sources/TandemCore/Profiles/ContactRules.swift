import Foundation

/// A contact's own fields as given, before the rules: the contacts API, the co-managing user wizard's new
/// contact and the client profile paths all fill one in.
public struct ContactDraft: Sendable, Equatable {
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var phones: [ProfileDraft.Phone]
    /// A contact with a site is a client profile (SPEC §7): it is exported, so it needs a phone number.
    public var hasSite: Bool

    public init(firstName: String?, lastName: String?, email: String?, phones: [ProfileDraft.Phone] = [], hasSite: Bool) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phones = phones
        self.hasSite = hasSite
    }
}

/// A contact's fields once the rules accept them.
public struct ContactFields: Sendable, Equatable {
    public var firstName: String
    public var lastName: String
    /// Lower-cased.
    public var email: String?
    /// One per kind, in `PhoneKind` order, country codes upper-cased.
    public var phones: [ProfilePhone]

    public init(firstName: String, lastName: String, email: String?, phones: [ProfilePhone]) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phones = phones
    }
}

/// The one rule for a contact's names, email and phones: the client profile rules (`ProfileRules`), so a
/// contact saved through any path exports as a profile row that imports again (no 'N/A', a country per
/// phone, at least one phone once it has a site).
public enum ContactRules {
    public static func validate(_ draft: ContactDraft) -> Result<ContactFields, ProfileErrors> {
        var problems: [ProfileProblem] = []
        let firstName = ProfileRules.text(draft.firstName, .firstName, max: ProfileRules.maxName, required: true, &problems)
        let lastName = ProfileRules.text(draft.lastName, .lastName, max: ProfileRules.maxName, required: true, &problems)
        let email = ProfileRules.email(draft.email, &problems)
        let phones = ProfileRules.phones(draft.phones, required: draft.hasSite, &problems)
        guard problems.isEmpty, let firstName, let lastName else { return .failure(ProfileErrors(problems: problems)) }
        return .success(ContactFields(firstName: firstName, lastName: lastName, email: email, phones: phones))
    }
}

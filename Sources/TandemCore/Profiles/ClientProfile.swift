import Foundation

/// The kinds of phone number a client profile holds, one number of each at most.
public enum PhoneKind: String, Codable, Sendable, CaseIterable {
    case office, mobile, home, other
}

/// A phone number: ASCII digits only, with the ISO 3166 alpha-2 country it belongs to.
public struct ProfilePhone: Codable, Sendable, Equatable {
    public var number: String
    public var countryCode: String
    public var kind: PhoneKind

    public init(number: String, countryCode: String, kind: PhoneKind) {
        self.number = number
        self.countryCode = countryCode
        self.kind = kind
    }
}

/// A contact's help-desk details (SPEC §7): what the profile forms, the API and the spreadsheets carry.
public struct ClientProfile: Sendable, Equatable {
    public var firstName: String
    public var lastName: String
    /// Lower-cased.
    public var email: String?
    /// In `PhoneKind` order, one per kind.
    public var phones: [ProfilePhone]
    public var mobileProvider: String?
    /// A domain with a leading `@`, lower-cased (`@txt.att.com`).
    public var smsGateway: String?
    public var thinClient: Bool
    public var notes: String?

    public init(
        firstName: String, lastName: String, email: String? = nil, phones: [ProfilePhone], mobileProvider: String? = nil,
        smsGateway: String? = nil, thinClient: Bool = false, notes: String? = nil
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phones = phones
        self.mobileProvider = mobileProvider
        self.smsGateway = smsGateway
        self.thinClient = thinClient
        self.notes = notes
    }

    public func phone(_ kind: PhoneKind) -> ProfilePhone? { phones.first { $0.kind == kind } }
}

/// A profile as given, text for every field, before the rules turn it into a `ClientProfile`.
/// The API, the pages, the spreadsheet import (and later a PSA contact sync) all fill one in.
public struct ProfileDraft: Sendable, Equatable {
    public struct Phone: Sendable, Equatable {
        public var kind: PhoneKind
        public var number: String?
        public var countryCode: String?

        public init(kind: PhoneKind, number: String?, countryCode: String?) {
            self.kind = kind
            self.number = number
            self.countryCode = countryCode
        }
    }

    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var phones: [Phone]
    public var mobileProvider: String?
    public var smsGateway: String?
    /// `Y`, `N` or empty (N).
    public var thinClient: String?
    public var notes: String?

    public init(
        firstName: String? = nil, lastName: String? = nil, email: String? = nil, phones: [Phone] = [], mobileProvider: String? = nil,
        smsGateway: String? = nil, thinClient: String? = nil, notes: String? = nil
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phones = phones
        self.mobileProvider = mobileProvider
        self.smsGateway = smsGateway
        self.thinClient = thinClient
        self.notes = notes
    }

    /// The draft that describes a stored profile exactly (what an unchanged row holds).
    public init(_ profile: ClientProfile) {
        self.init(
            firstName: profile.firstName, lastName: profile.lastName, email: profile.email,
            phones: profile.phones.map { Phone(kind: $0.kind, number: $0.number, countryCode: $0.countryCode) },
            mobileProvider: profile.mobileProvider, smsGateway: profile.smsGateway, thinClient: profile.thinClient ? "Y" : "N",
            notes: profile.notes)
    }
}

/// One field's problem, named by the spreadsheet column it lives in; the API maps columns to its field names.
public struct ProfileProblem: Sendable, Equatable {
    public var column: ProfileColumn
    /// Which entry of `ProfileDraft.phones` it concerns, for phone columns.
    public var phoneIndex: Int?
    public var message: String

    public init(_ column: ProfileColumn, _ message: String, phoneIndex: Int? = nil) {
        self.column = column
        self.message = message
        self.phoneIndex = phoneIndex
    }
}

/// The rules of SPEC §7 for one profile, whatever the input path.
public enum ProfileRules {
    public static let maxName = 100
    public static let maxEmail = 254
    public static let maxPhoneDigits = 20
    public static let maxProvider = 100
    public static let maxNotes = 4000

    public static func validate(_ draft: ProfileDraft) -> Result<ClientProfile, ProfileErrors> {
        var problems: [ProfileProblem] = []
        let firstName = text(draft.firstName, .firstName, max: maxName, required: true, &problems)
        let lastName = text(draft.lastName, .lastName, max: maxName, required: true, &problems)
        let email = self.email(draft.email, &problems)
        let mobileProvider = text(draft.mobileProvider, .mobileProvider, max: maxProvider, required: false, &problems)
        let smsGateway = self.smsGateway(draft.smsGateway, &problems)
        let notes = text(draft.notes, .notes, max: maxNotes, required: false, multiline: true, &problems)
        let thinClient = yesNo(draft.thinClient, .thinClient, &problems) ?? false

        let phones = self.phones(draft.phones, required: true, &problems)
        guard problems.isEmpty, let firstName, let lastName else { return .failure(ProfileErrors(problems: problems)) }
        return .success(
            ClientProfile(
                firstName: firstName, lastName: lastName, email: email, phones: phones, mobileProvider: mobileProvider,
                smsGateway: smsGateway, thinClient: thinClient, notes: notes))
    }

    /// The phone numbers of a profile or contact: one per kind, ASCII digits with an ISO 3166 country, in kind
    /// order; `required` asks for at least one (a client profile).
    static func phones(_ drafts: [ProfileDraft.Phone], required: Bool, _ problems: inout [ProfileProblem]) -> [ProfilePhone] {
        var phones: [ProfilePhone] = []
        var seenKinds: Set<PhoneKind> = []
        for (index, phone) in drafts.enumerated() {
            let numberColumn = ProfileColumn.phone(phone.kind), countryColumn = ProfileColumn.phoneCountry(phone.kind)
            let number = phone.number.map(trim) ?? "", country = phone.countryCode.map(trim) ?? ""
            if number.isEmpty && country.isEmpty { continue }
            if !seenKinds.insert(phone.kind).inserted {
                problems.append(.init(numberColumn, "only one \(phone.kind.rawValue) number per profile", phoneIndex: index))
                continue
            }
            var ok = true
            if isNotApplicable(number) {
                problems.append(.init(numberColumn, notApplicableMessage, phoneIndex: index)); ok = false
            } else if number.isEmpty {
                problems.append(.init(countryColumn, "a country code without a phone number: remove the country code or add the number", phoneIndex: index));
                ok = false
            } else if let bad = number.first(where: { !($0.isASCII && $0.isNumber) }) {
                problems.append(
                    .init(
                        numberColumn, "'\(number)' contains '\(bad)': phone numbers are digits only, without spaces, dashes, dots, parentheses or +",
                        phoneIndex: index));
                ok = false
            } else if number.count > maxPhoneDigits {
                problems.append(.init(numberColumn, "must be at most \(maxPhoneDigits) digits (got \(number.count))", phoneIndex: index)); ok = false
            }
            let code = country.uppercased()
            if isNotApplicable(country) {
                problems.append(.init(countryColumn, notApplicableMessage, phoneIndex: index)); ok = false
            } else if country.isEmpty {
                if !number.isEmpty {
                    problems.append(.init(countryColumn, "a phone number needs its ISO 3166 alpha-2 country code (such as US, GB, AU)", phoneIndex: index));
                    ok = false
                }
            } else if !Countries.isValid(code) {
                problems.append(
                    .init(countryColumn, "'\(country)' is not an ISO 3166 alpha-2 country code (two letters such as US, GB, AU)", phoneIndex: index));
                ok = false
            }
            if ok { phones.append(ProfilePhone(number: number, countryCode: code, kind: phone.kind)) }
        }
        if required, phones.isEmpty && !problems.contains(where: \.column.isPhone) {
            problems.append(.init(.phone(.office), "a profile needs at least one phone number"))
        }
        return phones.sorted { PhoneKind.allCases.firstIndex(of: $0.kind)! < PhoneKind.allCases.firstIndex(of: $1.kind)! }
    }

    static let notApplicableMessage = "'N/A' is not accepted: leave the cell empty when it does not apply"

    static func isNotApplicable(_ text: String) -> Bool {
        guard text.utf8.count == 3 else { return false }
        let folded = text.uppercased()
        return folded == "N/A" || folded == "N\\A"
    }

    /// Spreadsheets leave trailing (and leading) spaces; what is inside is kept (and checked by the field's rules).
    public static func trim(_ text: String) -> String { Whitespace.trim(text) }

    static func text(
        _ value: String?, _ column: ProfileColumn, max: Int, required: Bool, multiline: Bool = false,
        _ problems: inout [ProfileProblem]
    ) -> String? {
        let text = value.map(trim) ?? ""
        if text.isEmpty {
            if required { problems.append(.init(column, "is required")) }
            return nil
        }
        if isNotApplicable(text) { problems.append(.init(column, notApplicableMessage)); return nil }
        // At most as many characters as UTF-8 bytes: count characters only when the bytes could be too many.
        if text.utf8.count > max, text.count > max { problems.append(.init(column, "must be at most \(max) characters (got \(text.count))")); return nil }
        if ControlCharacters.refused(in: text, multiline: multiline) {
            problems.append(.init(column, ControlCharacters.message(multiline: multiline)))
            return nil
        }
        return text
    }

    static func email(_ value: String?, _ problems: inout [ProfileProblem]) -> String? {
        guard let text = text(value, .email, max: maxEmail, required: false, &problems) else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !containsWhitespace(text)
        else {
            problems.append(.init(.email, "'\(text)' is not an email address"))
            return nil
        }
        return text.lowercased()
    }

    /// Any whitespace, on UTF-8 bytes when the text is ASCII (the usual email).
    static func containsWhitespace(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte >= 0x80 { ascii = false; break }
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { return true }
        }
        return ascii ? false : text.contains(where: \.isWhitespace)
    }

    /// `@txt.att.com` or `txt.att.com`, kept as `@txt.att.com`.
    static func smsGateway(_ value: String?, _ problems: inout [ProfileProblem]) -> String? {
        guard let text = text(value, .smsGateway, max: 254, required: false, &problems) else { return nil }
        let domain = (text.hasPrefix("@") ? String(text.dropFirst()) : text).lowercased()
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            labels.count >= 2
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
        guard valid else {
            problems.append(.init(.smsGateway, "'\(text)' is not an SMS email gateway domain (such as @txt.att.com)"))
            return nil
        }
        return "@" + domain
    }

    /// A Y/N cell (SPEC §7): exactly `Y` or `N` once trimmed, nil when empty. Nothing else is guessed at: not
    /// `yes`, not `y`, not `1`; a delete must never hang on a reading of the user's intent.
    static func flag(_ value: String?) -> Result<Bool?, FlagError> {
        switch value.map(trim) ?? "" {
        case "": .success(nil)
        case "Y": .success(true)
        case "N": .success(false)
        case let other: .failure(FlagError(value: other))
        }
    }

    struct FlagError: Error {
        var value: String
    }

    static func yesNo(_ value: String?, _ column: ProfileColumn, _ problems: inout [ProfileProblem]) -> Bool? {
        switch flag(value) {
        case .success(let flag): return flag
        case .failure(let error):
            problems.append(
                .init(column, isNotApplicable(error.value) ? notApplicableMessage : "'\(error.value)' must be Y or N (a capital letter; empty means N)"))
            return nil
        }
    }
}

/// Why a profile was refused: every problem at once.
public struct ProfileErrors: Error, Sendable, Equatable {
    public var problems: [ProfileProblem]
}

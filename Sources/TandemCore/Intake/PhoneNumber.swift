/// A telephone number in E.164, the one form callers are matched on: however a number was written
/// (`+44 (0)20 7946 0958`, `020 7946 0958` at a British site, `0044 20 7946 0958`), it has one E.164.
public struct PhoneNumber: Codable, Sendable, Equatable, Hashable {
    /// `+` and at most 15 digits ("+442079460958"); never the extension.
    public var e164: String
    /// Without `+` ("44").
    public var countryCallingCode: String
    /// The national significant number: no trunk prefix ("2079460958"; Italy's keeps its 0: "0612345678").
    public var nationalNumber: String
    /// ISO 3166 alpha-2, read from the number: its calling code, and for a shared code (+1, +44, +7) how it
    /// starts; nil for non-geographic numbers (+800). A national number is of its default country's code.
    public var country: String?
    /// Digits dialled after the call is answered (`x123`, `ext. 123`, `;ext=123`): kept apart, never in the E.164.
    public var `extension`: String?

    public init(countryCallingCode: String, nationalNumber: String, country: String?, extension: String? = nil) {
        self.e164 = "+" + countryCallingCode + nationalNumber
        self.countryCallingCode = countryCallingCode
        self.nationalNumber = nationalNumber
        self.country = country
        self.extension = `extension`
    }

    /// E.164's limit on the calling code and national number together.
    public static let maxDigits = 15
    /// Longer extensions are not extensions but a mistake (two numbers pasted together).
    public static let maxExtensionDigits = 10

    /// Reads a number as people write it. International forms (`+`, `00`, or the default country's own
    /// international prefix such as `011` in the US) need no country; a national form takes `defaultCountry`
    /// (the site's), whose trunk prefix is dropped where it has one. Separators (spaces, NBSP, dashes, dots,
    /// slashes, parentheses), `tel:` URIs and extensions are accepted; letters are not.
    public static func parse(_ input: String, defaultCountry: String?) -> Result<PhoneNumber, PhoneProblem> {
        var text = Whitespace.trim(input)
        var ext: String?
        if text.lowercased().hasPrefix("tel:") {
            // RFC 3966: `tel:+49-30-123456;ext=12`; other parameters (phone-context, isub) say nothing we use.
            let parts = text.dropFirst(4).split(separator: ";", omittingEmptySubsequences: false)
            text = String(parts.first ?? "")
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("ext=") {
                ext = String(parameter.dropFirst(4))
            }
        }
        let (main, marked) = splitExtension(text)
        if let marked { ext = marked }
        if let given = ext {
            let digits = Whitespace.trim(given)
            guard !digits.isEmpty, digits.count <= maxExtensionDigits, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return .failure(.invalidExtension(given))
            }
            ext = digits
        }
        let scanned: Scanned
        switch scan(main) {
        case .success(let value): scanned = value
        case .failure(let problem): return .failure(problem)
        }
        guard !scanned.digits.isEmpty else { return .failure(.noDigits) }

        let country = defaultCountry.map { Whitespace.trim($0).uppercased() }.flatMap { $0.isEmpty ? nil : $0 }
        if let country, !Countries.isValid(country) { return .failure(.unknownCountry(country)) }
        let plan = country.flatMap(NumberingPlan.plan(for:))

        if scanned.plus { return international(scanned.digits, parenZeroAt: scanned.parenZeroAt, extension: ext) }
        if let plan, plan.plan.internationalPrefix != "00", scanned.digits.hasPrefix(plan.plan.internationalPrefix) {
            let prefix = plan.plan.internationalPrefix.count
            return international(
                String(scanned.digits.dropFirst(prefix)), parenZeroAt: scanned.parenZeroAt.map { $0 - prefix },
                extension: ext)
        }
        if scanned.digits.hasPrefix("00") {
            return international(
                String(scanned.digits.dropFirst(2)), parenZeroAt: scanned.parenZeroAt.map { $0 - 2 }, extension: ext)
        }
        guard let country else { return .failure(.needsCountry) }
        guard let plan else { return .failure(.nationalFormUnknown(country: country, callingCode: nil)) }
        guard plan.nationalDialling else { return .failure(.nationalFormUnknown(country: country, callingCode: plan.plan.callingCode)) }
        return national(scanned.digits, plan: plan.plan, extension: ext)
    }

    /// The E.164 of a stored number (ASCII national digits and its alpha-2 country, as client profiles keep
    /// them): nil when the two do not make a number.
    public static func e164(nationalDigits: String, country: String) -> String? {
        guard !nationalDigits.isEmpty, nationalDigits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return try? parse(nationalDigits, defaultCountry: country).get().e164
    }

    // MARK: - Reading

    struct Scanned {
        var digits: String
        var plus: Bool
        /// Where a `(0)` put its 0 in `digits`: the trunk prefix shown for callers dialling from inside.
        var parenZeroAt: Int?
    }

    /// The digits and a leading `+`; anything but separators is refused, so a typo is never half-read.
    static func scan(_ text: String) -> Result<Scanned, PhoneProblem> {
        var digits = "", plus = false, parenZeroAt: Int?
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            defer { index += 1 }
            if let digit = decimalDigit(character) {
                digits.append(digit)
            } else if character == "+" || character == "\u{FF0B}" {
                guard digits.isEmpty, !plus else { return .failure(.misplacedPlus) }
                plus = true
            } else if character == "(", index + 2 < characters.count, decimalDigit(characters[index + 1]) == "0", characters[index + 2] == ")" {
                parenZeroAt = digits.count
                digits.append("0")
                index += 2
            } else if !isSeparator(character) {
                return .failure(.invalidCharacter(String(character)))
            }
        }
        return .success(Scanned(digits: digits, plus: plus, parenZeroAt: parenZeroAt))
    }

    /// A decimal digit of any script (fullwidth, Arabic-Indic) as its ASCII digit; not superscripts or fractions.
    static func decimalDigit(_ character: Character) -> Character? {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first,
            scalar.properties.numericType == .decimal, let value = character.wholeNumberValue
        else { return nil }
        return Character(String(value))
    }

    static func isSeparator(_ character: Character) -> Bool {
        character.isWhitespace || "-.‐‑‒–—−/()[]".contains(character)
    }

    /// The number and what follows an extension marker, found only after a digit (so `x` in a name is refused,
    /// not read as an extension).
    static func splitExtension(_ text: String) -> (String, String?) {
        let lowered = Array(text.lowercased())
        let markers = [";ext=", "extension", "ext.", "ext:", "ext", "x", "#"].map(Array.init)
        var sawDigit = false
        for index in lowered.indices {
            if decimalDigit(lowered[index]) != nil {
                sawDigit = true
                continue
            }
            guard sawDigit else { continue }
            for marker in markers where lowered[index...].starts(with: marker) {
                let rest = String(Array(text)[(index + marker.count)...])
                let trimmed = rest.drop { $0.isWhitespace || $0 == "." || $0 == ":" || $0 == "=" }
                return (String(Array(text)[..<index]), String(trimmed))
            }
        }
        return (text, nil)
    }

    static func international(_ digits: String, parenZeroAt: Int?, extension: String?) -> Result<PhoneNumber, PhoneProblem> {
        guard !digits.isEmpty else { return .failure(.noDigits) }
        guard let code = NumberingPlan.callingCode(prefixOf: digits) else { return .failure(.unassignedCallingCode(String(digits.prefix(3)))) }
        var national = String(digits.dropFirst(code.count))
        let country = NumberingPlan.country(callingCode: code, national: national)
        let plan = country.flatMap { NumberingPlan.known[$0] }
        if national.hasPrefix("0") {
            // `+44 (0)20 …` shows the trunk prefix for callers inside the country; `+44 020 …` is the usual slip.
            // Neither is dialled from abroad, except in Italy, San Marino and the Vatican, where the 0 is the number's.
            let keepsZero = country.map(NumberingPlan.leadingZeroIsPartOfNumber.contains) ?? false
            if !keepsZero && (parenZeroAt == code.count || plan?.trunkPrefix == "0") { national.removeFirst() }
        }
        return finish(code: code, national: national, country: country, lengths: plan?.lengths ?? NumberingPlan.defaultLengths, extension: `extension`)
    }

    static func national(_ digits: String, plan: NumberingPlan, extension: String?) -> Result<PhoneNumber, PhoneProblem> {
        // Written with its trunk prefix (the usual), without it, or with the calling code but no `+`: the first
        // reading of the right length wins, in that order.
        var readings: [String] = []
        if let trunk = plan.trunkPrefix, digits.hasPrefix(trunk) {
            readings.append(String(digits.dropFirst(trunk.count)))
            // A national significant number never starts with a 0 trunk prefix; it may start with Russia's 8 (800 …).
            if !trunk.hasPrefix("0") { readings.append(digits) }
        } else {
            readings.append(digits)
            if digits.hasPrefix(plan.callingCode) {
                var rest = String(digits.dropFirst(plan.callingCode.count))
                if let trunk = plan.trunkPrefix, plan.callingCode != "1", rest.hasPrefix(trunk) { rest.removeFirst(trunk.count) }
                readings.append(rest)
            }
        }
        let national = readings.first { plan.lengths.contains($0.count) } ?? readings[0]
        let country = NumberingPlan.country(callingCode: plan.callingCode, national: national)
        return finish(code: plan.callingCode, national: national, country: country, lengths: plan.lengths, extension: `extension`)
    }

    static func finish(code: String, national: String, country: String?, lengths: ClosedRange<Int>, extension: String?) -> Result<PhoneNumber, PhoneProblem> {
        let place = country ?? "+" + code
        if national.count < lengths.lowerBound { return .failure(.tooShort(place: place, digits: national.count, minimum: lengths.lowerBound)) }
        if national.count > lengths.upperBound { return .failure(.tooLong(place: place, digits: national.count, maximum: lengths.upperBound)) }
        if code.count + national.count > maxDigits { return .failure(.tooLongForE164(digits: code.count + national.count)) }
        if code == "1" {
            // NANP: a 3-digit area code and a 3-digit exchange, each starting with 2 to 9.
            let digits = Array(national)
            if digits[0] < "2" || digits[3] < "2" { return .failure(.invalidNANP(national)) }
        }
        return .success(PhoneNumber(countryCallingCode: code, nationalNumber: national, country: country, extension: `extension`))
    }
}

/// Why a phone number was refused, in words a person can act on.
public enum PhoneProblem: Error, Sendable, Equatable {
    case noDigits
    case invalidCharacter(String)
    case misplacedPlus
    case invalidExtension(String)
    /// The first digits after `+` or `00` (up to three) that no calling code starts.
    case unassignedCallingCode(String)
    /// A national number and no default country to read it in.
    case needsCountry
    case unknownCountry(String)
    /// A country whose national dialling Tandem does not know: its numbers must be written in international form.
    case nationalFormUnknown(country: String, callingCode: String?)
    /// `place` is the country, or `+code` when the country is not known.
    case tooShort(place: String, digits: Int, minimum: Int)
    case tooLong(place: String, digits: Int, maximum: Int)
    case tooLongForE164(digits: Int)
    case invalidNANP(String)

    public var message: String {
        switch self {
        case .noDigits: "no digits"
        case .invalidCharacter(let character):
            "'\(character)' is not part of a phone number: digits, a leading +, spaces, dashes, dots, slashes and parentheses only"
        case .misplacedPlus: "a + can only start the number"
        case .invalidExtension(let text): "'\(text)' is not an extension: 1 to \(PhoneNumber.maxExtensionDigits) digits after x, ext or ;ext="
        case .unassignedCallingCode(let digits): "country code +\(digits) is not assigned"
        case .needsCountry: "needs a country: a national number without + or 00 and no site country"
        case .unknownCountry(let code): "'\(code)' is not an ISO 3166 alpha-2 country code"
        case .nationalFormUnknown(let country, let code?): "write numbers of \(country) in international form (+\(code) …)"
        case .nationalFormUnknown(let country, nil): "\(country) has no telephone calling code: write the number in international form (+ …)"
        case .tooShort(let place, let digits, let minimum):
            "too short for \(place) (\(digits) digit\(digits == 1 ? "" : "s") after the country code and trunk prefix; at least \(minimum))"
        case .tooLong(let place, let digits, let maximum):
            "too long for \(place) (\(digits) digits after the country code and trunk prefix; at most \(maximum))"
        case .tooLongForE164(let digits): "too long: an international number has at most \(PhoneNumber.maxDigits) digits (got \(digits))"
        case .invalidNANP(let national):
            "\(national) is not a North American number: the area code and the exchange (digits 1 and 4) start with 2 to 9"
        }
    }
}

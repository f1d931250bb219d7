/// Mail domains as intake compares them. Matching is exact (the issue's "Domains match exactly"): a site's
/// client email domain `acme.example` takes `bob@acme.example`, and neither `bob@mail.acme.example` (a
/// subdomain may be run by anyone the owner delegates it to, and a site that wants it names it) nor
/// `acme.example.evil.test` nor `evilacme.example` (suffix tricks an attacker controls).
public enum MailDomain {
    public static let maxLength = 253
    public static let maxLabel = 63

    /// Why a text is not a domain.
    public enum Problem: Error, Sendable, Equatable {
        case empty
        case leadingAt
        case emptyLabel
        case singleLabel
        case invalidCharacter(String)
        case hyphenAtLabelEdge
        case tooLong

        public var message: String {
            switch self {
            case .empty: "is empty"
            case .leadingAt: "write the domain without '@' (acme.example)"
            case .emptyLabel: "has an empty label (two dots in a row, or a dot at the start)"
            case .singleLabel: "needs at least two labels (acme.example)"
            case .invalidCharacter(let character):
                "'\(character)' is not allowed: letters a-z, digits, hyphens and dots (an internationalized domain in its xn-- form)"
            case .hyphenAtLabelEdge: "a label cannot start or end with a hyphen"
            case .tooLong: "is longer than \(maxLength) characters, or has a label longer than \(maxLabel)"
            }
        }
    }

    /// The canonical form: trimmed, lower-cased, one trailing dot (the DNS root) dropped. ASCII only, so two
    /// spellings of one domain are never told apart and look-alike Unicode never matches.
    public static func normalize(_ text: String) -> Result<String, Problem> {
        var domain = Whitespace.trim(text).lowercased()
        if domain.isEmpty { return .failure(.empty) }
        if domain.hasPrefix("@") { return .failure(.leadingAt) }
        if domain.hasSuffix(".") { domain.removeLast() }
        if domain.utf8.count > maxLength { return .failure(.tooLong) }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty { return .failure(.emptyLabel) }
            if label.utf8.count > maxLabel { return .failure(.tooLong) }
            if let bad = label.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-")) }) {
                return .failure(.invalidCharacter(String(bad)))
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return .failure(.hyphenAtLabelEdge) }
        }
        if labels.count < 2 { return .failure(.singleLabel) }
        return .success(domain)
    }

    /// The normalized domain of an address (after its last `@`), nil when there is none.
    public static func of(address: String) -> String? {
        let trimmed = Whitespace.trim(address)
        guard let at = trimmed.lastIndex(of: "@"), at != trimmed.startIndex else { return nil }
        return try? normalize(String(trimmed[trimmed.index(after: at)...])).get()
    }

    /// Whether the address is at exactly this domain.
    public static func matches(address: String, domain: String) -> Bool {
        guard let addressDomain = of(address: address), let domain = try? normalize(domain).get() else { return false }
        return addressDomain == domain
    }
}

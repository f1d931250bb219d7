import Foundation

/// A site's templates for new accounts (ConnectWise: "a template for the username format and any
/// default security groups"): formats with placeholders, and the groups a new account joins.
public struct AccountTemplates: Codable, Sendable, Equatable {
    /// For example `{first}.{last}` or `{f}{last}`.
    public var usernameFormat: String?
    public var defaultSecurityGroups: [String]
    /// For example `{first}.{last}@contoso.com`.
    public var emailFormat: String?
    public var defaultDistributionGroups: [String]

    public init(usernameFormat: String? = nil, defaultSecurityGroups: [String] = [], emailFormat: String? = nil, defaultDistributionGroups: [String] = []) {
        self.usernameFormat = usernameFormat
        self.defaultSecurityGroups = defaultSecurityGroups
        self.emailFormat = emailFormat
        self.defaultDistributionGroups = defaultDistributionGroups
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        usernameFormat = try container.decodeIfPresent(String.self, forKey: .usernameFormat)
        defaultSecurityGroups = try container.decodeIfPresent([String].self, forKey: .defaultSecurityGroups) ?? []
        emailFormat = try container.decodeIfPresent(String.self, forKey: .emailFormat)
        defaultDistributionGroups = try container.decodeIfPresent([String].self, forKey: .defaultDistributionGroups) ?? []
    }

    /// The placeholders a format may use.
    public static let placeholders = ["first", "last", "f", "l"]

    public func problems(field: String) -> [FieldError] {
        var validator = FieldValidator()
        for (name, format) in [("usernameFormat", usernameFormat), ("emailFormat", emailFormat)] {
            guard let format, validator.text(format, "\(field).\(name)") != nil else { continue }
            if let problem = Self.formatProblem(format) {
                validator.fail("\(field).\(name)", problem)
            } else if name == "emailFormat", case let sample = Self.render(format, first: "Ann", last: "Lee"), !MailAddress.isValid(sample) {
                validator.fail("\(field).emailFormat", "does not make an email address (for Ann Lee: \(sample))")
            }
        }
        for (name, groups) in [("defaultSecurityGroups", defaultSecurityGroups), ("defaultDistributionGroups", defaultDistributionGroups)] {
            if groups.count > 50 { validator.fail("\(field).\(name)", "at most 50 groups") }
            for group in groups { _ = validator.text(group, "\(field).\(name)") }
        }
        return validator.errors
    }

    /// What the templates make for one person: the preview on the settings page and the request's defaults.
    public func preview(first: String, last: String) -> AccountPreview {
        AccountPreview(
            username: usernameFormat.map { Self.render($0, first: first, last: last) }, email: emailFormat.map { Self.render($0, first: first, last: last) },
            securityGroups: defaultSecurityGroups, distributionGroups: defaultDistributionGroups)
    }

    /// Nil when the format is usable: braces only around known placeholders, at least one of them.
    static func formatProblem(_ format: String) -> String? {
        guard !format.isEmpty, format.count <= 200 else { return "a format of 1 to 200 characters" }
        var rest = Substring(format)
        var used = 0
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else { return "braces must enclose a placeholder" }
            let name = String(rest[rest.index(after: open)..<close])
            guard placeholders.contains(name) else {
                return "unknown placeholder {\(name)}; use \(placeholders.map { "{\($0)}" }.joined(separator: ", "))"
            }
            used += 1
            rest = rest[rest.index(after: close)...]
        }
        return used == 0 ? "use at least one placeholder: \(placeholders.map { "{\($0)}" }.joined(separator: ", "))" : nil
    }

    /// The format with the person's names in place: lower case, accents dropped, only letters,
    /// digits, dots, hyphens and underscores kept of each name (an account name has no spaces).
    static func render(_ format: String, first: String, last: String) -> String {
        func clean(_ name: String) -> String {
            let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
            return String(
                folded.lowercased().unicodeScalars.filter { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
        }
        let first = clean(first), last = clean(last)
        let values = ["first": first, "last": last, "f": String(first.prefix(1)), "l": String(last.prefix(1))]
        var output = ""
        var rest = Substring(format)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            output += rest[..<open]
            output += values[String(rest[rest.index(after: open)..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }
}

public struct AccountPreview: Codable, Sendable, Equatable {
    public var username: String?
    public var email: String?
    public var securityGroups: [String]
    public var distributionGroups: [String]
}

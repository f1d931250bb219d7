import Foundation
import Ink

/// A reference (SPEC §9, ConnectWise "References"): a free-text Markdown document of a site, or global
/// (the MSP's own, for every site), with tags such as `security-related-requests` that other parts of
/// the product look for.
public struct ReferenceContent: Sendable, Equatable {
    public static let maxTitle = 200
    public static let maxBody = 100_000
    public static let maxTags = 20
    public static let maxTagLength = 50

    public var title: String
    public var body: String
    public var tags: [String]

    public init(title: String, body: String, tags: [String]) {
        self.title = title
        self.body = body
        self.tags = tags
    }

    /// Checks a reference's fields, naming every problem at once. Tags are normalized (`Tag.normalize`),
    /// duplicates dropped, in the order given.
    public static func validated(title: String?, body: String?, tags: [String]?) throws(TandemError) -> ReferenceContent {
        var validator = FieldValidator()
        let title = validator.text(title, "title", max: maxTitle)
        let body = validator.text(body ?? "", "body", max: maxBody, required: false, multiline: true) ?? ""
        var normalized: [String] = []
        for (index, given) in (tags ?? []).enumerated() {
            guard let tag = Tag.normalize(given) else {
                validator.fail(
                    "tags[\(index)]", "must be 1 to \(maxTagLength) letters, digits or dashes (a space becomes a dash), like \"security-related-requests\"")
                continue
            }
            if !normalized.contains(tag) { normalized.append(tag) }
        }
        if normalized.count > maxTags { validator.fail("tags", "must be at most \(maxTags) tags (got \(normalized.count))") }
        try validator.check()
        return ReferenceContent(title: title!, body: body, tags: normalized)
    }

    public enum Tag {
        /// The tag that marks the references a technician reads before a security-related request.
        public static let securityRelatedRequests = "security-related-requests"

        /// Lower case, spaces and underscores as dashes, letters, digits and dashes only; nil when nothing is left
        /// or it is too long.
        public static func normalize(_ text: String) -> String? {
            let lowered = Whitespace.trim(text).lowercased()
            var tag = ""
            for character in lowered {
                if character == " " || character == "_" || character == "-" {
                    if !tag.isEmpty && !tag.hasSuffix("-") { tag.append("-") }
                } else if character.isLetter || character.isNumber {
                    tag.append(character)
                } else {
                    return nil
                }
            }
            while tag.hasSuffix("-") { tag.removeLast() }
            guard !tag.isEmpty, tag.count <= ReferenceContent.maxTagLength else { return nil }
            return tag
        }
    }
}

/// Markdown to safe HTML: JohnSundell/Ink parses, `SafeHTML` keeps only what the allow-list allows (Ink
/// passes raw HTML through, as Markdown does).
public enum Markdown {
    public static func html(_ markdown: String) -> String {
        // Ink reads a document that starts with `---` lines as metadata and drops them; an empty comment
        // first makes it a document like any other (the sanitizer drops the comment).
        let parsed = MarkdownParser().html(from: "<!-- -->\n" + markdown)
        return SafeHTML.sanitize(parsed)
    }
}

extension AccessPolicy {
    /// A site's documentation (SPEC §9: network information, references): sites the principal sees, as its
    /// level's documentation area allows the operation. Co-managing users reach their co-managed
    /// organizations' sites; contacts never see documentation. Facts: `.organization`.
    public static func siteDocumentationScope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        .allOf([organizationScope(for: principal, area: .sites, .view), organizationScope(for: principal, area: .documentation, operation)])
    }

    /// References: a site's as `siteDocumentationScope`; global ones (no organization) are the MSP's: every
    /// MSP resource whose level opens documentation reads them, and only those without client restrictions
    /// change them (they serve every client). Facts: `.organization` (nil for a global reference).
    public static func referenceScope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        let site = siteDocumentationScope(for: principal, operation)
        guard principal.kind == .resource, principal.permissions.allows(operation.requiredLevel, on: .documentation) else { return site }
        return .anyOf([operation == .view || principal.clientRestrictions == nil ? .noOrganization : .none, site])
    }
}

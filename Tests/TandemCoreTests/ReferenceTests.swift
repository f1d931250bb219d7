import Foundation
import TandemCore
import Testing

/// References: Markdown rendered to safe HTML, tags, validation, and who reads and changes them.
@Suite struct ReferenceTests {
    static let payloads: [String] = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/xss/payloads.json")
        return (try? JSONDecoder().decode([String].self, from: Data(contentsOf: file))) ?? []
    }()

    static let allowedTags: Set<String> = [
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
        "img", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
    ]
    static let allowedAttributes: Set<String> = ["href", "title", "src", "alt", "class", "align", "start", "rel"]

    /// An independent reading of the output (regular expressions, not the sanitizer's parser): every tag
    /// allowed, every attribute allowed and quoted, no URL but http(s), mailto or relative.
    static func problems(in html: String) -> [String] {
        var found: [String] = []
        let tag = try! Regex("<(/?)([^\\s/>]*)([^>]*)>")
        let attribute = try! Regex("\\s([^\\s=]+)=\"([^\"]*)\"")
        for match in html.matches(of: tag) {
            let name = String(match.output[2].substring ?? "")
            if !allowedTags.contains(name) { found.append("tag <\(name)>") }
            let rest = String(match.output[3].substring ?? "")
            var stripped = rest
            for pair in rest.matches(of: attribute) {
                let key = String(pair.output[1].substring ?? "")
                let value = decoded(String(pair.output[2].substring ?? "")).lowercased()
                if !allowedAttributes.contains(key) { found.append("attribute \(key)") }
                if key == "href" || key == "src" {
                    let scheme = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                    if value.contains(":") && !["http", "https", "mailto"].contains(scheme) && !scheme.contains("/") && !scheme.contains("?")
                        && !scheme.contains("#")
                    {
                        found.append("url \(value)")
                    }
                }
            }
            stripped = stripped.replacing(attribute, with: "")
            if !Whitespace.trim(stripped).isEmpty && Whitespace.trim(stripped) != "/" { found.append("unparsed attributes \(stripped)") }
        }
        // Outside tags, no `<` may remain: every other one is escaped.
        let text = html.replacing(tag, with: "")
        if text.contains("<") { found.append("a raw < in text") }
        return found
    }

    /// Character references as a browser decodes them in an attribute (`&#106;`, `&#x6A;`, `&amp;`, `&colon;`).
    static func decoded(_ value: String) -> String {
        var text = value
        for (name, character) in [("&amp;", "&"), ("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&colon;", ":")] {
            text = text.replacingOccurrences(of: name, with: character)
        }
        let numeric = try! Regex("&#(x?)([0-9a-fA-F]+);?")
        return text.replacing(numeric) { match in
            let hex = !(match.output[1].substring ?? "").isEmpty
            let number = UInt32(String(match.output[2].substring ?? ""), radix: hex ? 16 : 10) ?? 0xFFFD
            return String(Character(Unicode.Scalar(number) ?? "?"))
        }
    }

    @Test func theCorpusIsLargeEnough() {
        #expect(Self.payloads.count >= 50)
    }

    @Test func everyPayloadRendersInert() {
        for payload in Self.payloads {
            let html = Markdown.html(payload)
            #expect(Self.problems(in: html).isEmpty, "\(payload.debugDescription) → \(html.debugDescription): \(Self.problems(in: html))")
            let lowered = html.lowercased()
            for word in ["<script", "=\"javascript:", "=\"vbscript:", "=\"data:", " onerror", " onload", " onclick", " onfocus", "<iframe", "<svg", "<style"] {
                #expect(!lowered.contains(word), "\(payload.debugDescription) → \(html.debugDescription)")
            }
        }
    }

    @Test func markdownStillRenders() {
        let html = Markdown.html(
            """
            # Printers

            The **main** printer is *HP*; see [the guide](https://example.com/guide?a=1&b=2) or [mail us](mailto:it@example.com).

            - one
            - two

            | Name | IP |
            |---|---|
            | Front desk | 10.0.0.5 |

            ```swift
            let x = 1 < 2
            ```

            ![logo](https://example.com/logo.png)
            """)
        #expect(html.contains("<h1>Printers</h1>"))
        #expect(html.contains("<strong>main</strong>"))
        #expect(html.contains("<a href=\"https://example.com/guide?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\">the guide</a>"))
        #expect(html.contains("<a href=\"mailto:it@example.com\" rel=\"noopener noreferrer nofollow\">mail us</a>"))
        #expect(html.contains("<li>one</li>"))
        #expect(html.contains("<td>10.0.0.5</td>"))
        #expect(html.contains("<code class=\"language-swift\">let x = 1 &lt; 2"))
        #expect(html.contains("<img src=\"https://example.com/logo.png\" alt=\"logo\">"))
        #expect(Self.problems(in: html).isEmpty, "\(html)")
    }

    /// Web addresses written as text become links (as in GitHub's Markdown); not inside code or a link, not the
    /// sentence's punctuation, and never anything but http and https.
    @Test func bareWebAddressesAreLinked() {
        func link(_ url: String, _ text: String? = nil) -> String {
            "<a href=\"\(url)\" rel=\"noopener noreferrer nofollow\">\(text ?? url)</a>"
        }
        #expect(Markdown.html("The portal is https://portal.example.com/login.") == "<p>The portal is \(link("https://portal.example.com/login")).</p>")
        #expect(
            Markdown.html("See http://10.0.0.5:8080/admin?a=1&b=2, then call.") == "<p>See \(link("http://10.0.0.5:8080/admin?a=1&amp;b=2")), then call.</p>")
        #expect(Markdown.html("(docs at https://example.com/wiki/Printer_(HP))") == "<p>(docs at \(link("https://example.com/wiki/Printer_(HP)")))</p>")
        #expect(Markdown.html("`https://example.com/in-code`") == "<p><code>https://example.com/in-code</code></p>")
        #expect(Markdown.html("[the guide](https://example.com/guide)") == "<p>\(link("https://example.com/guide", "the guide"))</p>")
        #expect(Markdown.html("xhttps://example.com and https:// alone") == "<p>xhttps://example.com and https:// alone</p>")
        #expect(SafeHTML.sanitize("HTTPS://EXAMPLE.COM/X\"onmouseover=alert(1)") == link("HTTPS://EXAMPLE.COM/X") + "&quot;onmouseover=alert(1)")
        #expect(SafeHTML.sanitize("javascript://example.com/%0Aalert(1)") == "javascript://example.com/%0Aalert(1)")
    }

    /// A reference body of one address and a long run of closing parentheses (its largest allowed size) renders in
    /// linear time: each stripped `)` once recounted them all. The bound is for debug builds; quadratic took minutes.
    @Test func aLongRunAfterAnAddressRendersInLinearTime() {
        let clock = ContinuousClock()
        var html = ""
        let took = clock.measure { html = Markdown.html("http://x" + String(repeating: ")", count: ReferenceContent.maxBody - 10)) }
        #expect(html.hasPrefix("<p><a href=\"http://x\"") && html.hasSuffix("))</p>"))
        #expect(took < .seconds(10), "\(took)")
    }

    @Test func aLeadingRuleIsNotMetadata() {
        let html = Markdown.html("---\ntitle: x\n---\nBody")
        #expect(html.contains("title: x"))
        #expect(html.contains("Body"))
    }

    @Test func theSanitizerClosesWhatItOpensAndDropsWhatItMustNot() {
        #expect(SafeHTML.sanitize("<p><strong>bold") == "<p><strong>bold</strong></p>")
        #expect(SafeHTML.sanitize("</p>text") == "text")
        #expect(SafeHTML.sanitize("<ul><li>a</ul>") == "<ul><li>a</li></ul>")
        #expect(SafeHTML.sanitize("a<script>alert(1)</script>b") == "ab")
        #expect(SafeHTML.sanitize("<div onclick=x>kept text</div>") == "kept text")
        #expect(SafeHTML.sanitize("1 < 2 & 3 > 2 &amp; &#39;") == "1 &lt; 2 &amp; 3 &gt; 2 &amp; &#39;")
        #expect(SafeHTML.sanitize("<a href=\"/tickets?x=1\">r</a>") == "<a href=\"/tickets?x=1\" rel=\"noopener noreferrer nofollow\">r</a>")
        #expect(SafeHTML.sanitize("<a href=\"jav&#x09;ascript:alert(1)\">r</a>") == "<a rel=\"noopener noreferrer nofollow\">r</a>")
        #expect(SafeHTML.sanitize("<img src=\"data:image/png;base64,AAAA\">") == "<img>")
        #expect(SafeHTML.sanitize("x <!-- hidden --> y") == "x  y")
        #expect(SafeHTML.sanitize("<p title='a\"b'>t</p>") == "<p>t</p>")
        #expect(SafeHTML.sanitize("<a title='a\"b'>t</a>") == "<a title=\"a&quot;b\" rel=\"noopener noreferrer nofollow\">t</a>")
        #expect(SafeHTML.sanitize("<b") == "&lt;b")
    }

    @Test func urlsAreReadAsABrowserReadsThem() {
        for safe in ["https://example.com", "HTTP://x", "mailto:a@b", "/a:b", "?q=a:b", "#x:y", "relative/path", "a.png"] {
            #expect(SafeHTML.isSafeURL(safe, schemes: ["http", "https", "mailto"]), "\(safe)")
        }
        for unsafe in [
            "javascript:alert(1)", " javascript:x", "java\nscript:x", "java\u{0}script:x", "JAVASCRIPT:x", "data:text/html,x", "vbscript:x", "file:///etc",
        ] {
            #expect(!SafeHTML.isSafeURL(unsafe, schemes: ["http", "https", "mailto"]), "\(unsafe.debugDescription)")
        }
    }

    @Test func tagsAreNormalizedAndChecked() throws {
        #expect(ReferenceContent.Tag.normalize(" Security related_Requests ") == "security-related-requests")
        #expect(ReferenceContent.Tag.normalize("--x--") == "x")
        #expect(ReferenceContent.Tag.normalize("a,b") == nil)
        #expect(ReferenceContent.Tag.normalize("   ") == nil)
        #expect(ReferenceContent.Tag.normalize(String(repeating: "a", count: 51)) == nil)
        let content = try ReferenceContent.validated(title: " Printers ", body: "text", tags: ["VPN", "vpn", "Backup plan"])
        #expect(content == ReferenceContent(title: "Printers", body: "text", tags: ["vpn", "backup-plan"]))
        let refused = #expect(throws: TandemError.self) {
            try ReferenceContent.validated(title: "", body: String(repeating: "x", count: 100_001), tags: ["ok", "<script>"])
        }
        if case .validation(let errors)? = refused {
            #expect(Set(errors.map(\.field)) == ["title", "body", "tags[1]"])
        } else {
            Issue.record("\(String(describing: refused))")
        }
        #expect(throws: TandemError.self) { try ReferenceContent.validated(title: "t", body: nil, tags: (0..<21).map { "t\($0)" }) }
    }

    // MARK: Who reads and changes references

    static let northwind = UUID(), contoso = UUID()

    static func principal(_ kind: PrincipalKind, _ level: SystemSecurityLevel, restrictions: Set<UUID>? = nil) -> Principal {
        var principal = Principal(id: UUID(), kind: kind, displayName: "P", securityLevelId: UUID(), permissions: level.permissions)
        principal.clientRestrictions = restrictions
        if kind == .coManagingUser {
            principal.coManagementEnabled = true
            principal.associatedOrganizationIds = [northwind]
            principal.coManagedOrganizationIds = [northwind, contoso]
            principal.organizationId = northwind
        }
        if kind == .contact { principal.organizationId = northwind }
        return principal
    }

    /// Principals × (global, Northwind's, Contoso's) × operations, against the rule in words.
    @Test func theMatrix() {
        let cases: [(String, Principal, view: [UUID?], edit: [UUID?])] = [
            ("administrator", Self.principal(.resource, .administrator), [nil, Self.northwind, Self.contoso], [nil, Self.northwind, Self.contoso]),
            ("technician", Self.principal(.resource, .technician), [nil, Self.northwind, Self.contoso], [nil, Self.northwind, Self.contoso]),
            ("restricted technician", Self.principal(.resource, .technician, restrictions: [Self.northwind]), [nil, Self.northwind], [Self.northwind]),
            ("dispatcher", Self.principal(.resource, .dispatcher), [nil, Self.northwind, Self.contoso], []),
            ("co-managed help desk", Self.principal(.coManagingUser, .coManagedHelpDesk), [Self.northwind], []),
            ("co-managed basic", Self.principal(.coManagingUser, .coManagedBasic), [], []),
            ("contact", Self.principal(.contact, .coManagedBasic), [], []),
        ]
        for (name, principal, view, edit) in cases {
            for organization in [nil, Self.northwind, Self.contoso] as [UUID?] {
                let facts = ScopeFacts(values: [.organization: organization])
                #expect(
                    AccessPolicy.referenceScope(for: principal, .view).evaluate(facts) == view.contains(organization),
                    "\(name) view \(String(describing: organization))")
                #expect(
                    AccessPolicy.referenceScope(for: principal, .edit).evaluate(facts) == edit.contains(organization),
                    "\(name) edit \(String(describing: organization))")
                if organization != nil {
                    let site = AccessPolicy.siteDocumentationScope(for: principal, .view).evaluate(facts)
                    #expect(site == view.contains(organization), "\(name) site documentation \(String(describing: organization))")
                }
            }
        }
    }
}

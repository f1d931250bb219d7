import Testing

@testable import TandemCore

/// Domains match exactly (SPEC §6): a client email domain identifies its site and nothing that merely looks like it.
@Suite struct IntakeMailDomainTests {
    @Test(arguments: [
        ("acme.example", "acme.example"), (" ACME.Example ", "acme.example"), ("acme.example.", "acme.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"), ("mail-1.acme.co.uk", "mail-1.acme.co.uk"),
    ])
    func normalizes(_ input: String, _ domain: String) {
        #expect(MailDomain.normalize(input) == .success(domain))
    }

    @Test(arguments: [
        ("", MailDomain.Problem.empty), ("  ", .empty), ("@acme.example", .leadingAt), ("acme..example", .emptyLabel),
        (".acme.example", .emptyLabel), ("acme.example..", .emptyLabel), ("localhost", .singleLabel), ("acme example", .invalidCharacter(" ")),
        ("bob@acme.example", .invalidCharacter("@")), ("bücher.example", .invalidCharacter("ü")), ("-acme.example", .hyphenAtLabelEdge),
        ("acme-.example", .hyphenAtLabelEdge), (String(repeating: "a", count: 64) + ".example", .tooLong),
        (Array(repeating: "abcdefghi", count: 26).joined(separator: "."), .tooLong),
    ])
    func refuses(_ input: String, _ problem: MailDomain.Problem) {
        #expect(MailDomain.normalize(input) == .failure(problem))
    }

    @Test(arguments: [
        ("bob@acme.example", true), ("Bob@ACME.example", true), (" bob@acme.example. ", true), ("\"a@b\"@acme.example", true),
        ("bob@mail.acme.example", false), ("bob@acme.example.evil.test", false), ("bob@evilacme.example", false),
        ("bob@acme.examples", false), ("acme.example", false), ("@acme.example", false), ("bob@", false), ("", false),
    ])
    func matchesExactly(_ address: String, _ matches: Bool) {
        #expect(MailDomain.matches(address: address, domain: "Acme.Example") == matches)
    }

    @Test func aDomainThatIsNoDomainMatchesNothing() {
        #expect(!MailDomain.matches(address: "bob@acme.example", domain: "@acme.example"))
        #expect(!MailDomain.matches(address: "bob@localhost", domain: "localhost"))
    }

    @Test func theAddressDomainIsAfterTheLastAt() {
        #expect(MailDomain.of(address: "\"a@evil.test\"@acme.example") == "acme.example")
        #expect(MailDomain.of(address: "no-at-sign") == nil)
    }

    @Test func publicDomainsAreBuiltInAndConfigurable() {
        let domains = PublicMailDomains(extra: [" Mail.Example-ISP.net ", "not a domain", "@x.example"])
        for domain in [
            "gmail.com", "GMAIL.COM", "googlemail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "icloud.com", "proton.me", "gmx.de", "web.de",
            "yandex.ru", "gmail.com.",
        ] {
            #expect(domains.isPublic(domain), "\(domain)")
        }
        #expect(domains.isPublic("mail.example-isp.net"), "an installation's addition")
        #expect(domains.rejectedExtra == ["not a domain", "@x.example"], "reported, not silently dropped")
        #expect(!domains.isPublic("acme.example"))
        #expect(!domains.isPublic("mail.gmail.com"), "exact, like every domain match")
        #expect(!domains.isPublic("gmail.com.evil.test"))
        #expect(!PublicMailDomains().isPublic("mail.example-isp.net"))
        #expect(PublicMailDomains.builtIn.allSatisfy { MailDomain.normalize($0) == .success($0) }, "the list is normalized")
    }
}

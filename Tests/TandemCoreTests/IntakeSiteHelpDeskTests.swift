import Foundation
import Testing

@testable import TandemCore

/// A site's Help Desk profile (SPEC §6): what identifies the site, what the technician says and knows.
@Suite struct IntakeSiteHelpDeskTests {
    let publicDomains = PublicMailDomains(extra: ["isp.example"])

    func validate(_ draft: SiteHelpDeskDraft, country: String? = "GB") -> Result<SiteHelpDeskProfile, TandemError> {
        SiteHelpDeskRules.validate(draft, publicDomains: publicDomains, siteCountry: country)
    }

    @Test func aCompleteProfileIsNormalized() throws {
        let draft = SiteHelpDeskDraft(
            mainPhone: " 020\u{00A0}7946  0958 ", clientEmailDomain: " Contoso.Example. ", greetingCompanyName: "  Contoso ",
            siteMessage: " Email is down tonight for maintenance.\nJohn Doe's account stays disabled. ", agentInstallOptIn: true,
            agentInstallFee: "25.5")

        let profile = try validate(draft).get()

        #expect(profile.mainPhone?.e164 == "+442079460958")
        #expect(profile.mainPhone?.country == "GB")
        #expect(profile.mainPhoneDisplay == "020 7946 0958")
        #expect(profile.clientEmailDomain == "contoso.example")
        #expect(!profile.noClientEmailDomain)
        #expect(profile.greetingCompanyName == "Contoso")
        #expect(profile.siteMessage == "Email is down tonight for maintenance.\nJohn Doe's account stays disabled.")
        #expect(profile.agentInstallOptIn)
        #expect(profile.agentInstallFee == MoneyAmount(cents: 2550))
        #expect(SiteHelpDeskRules.greeting(for: profile, fallbackCompany: "Contoso Ltd") == "Thank you for calling Contoso")
    }

    @Test func anEmptyProfileIsValidAndMissingEverything() throws {
        let profile = try validate(SiteHelpDeskDraft(mainPhone: "  ", clientEmailDomain: "", greetingCompanyName: " ", siteMessage: ""), country: nil).get()
        #expect(profile == SiteHelpDeskProfile())
        #expect(SiteHelpDeskRules.greeting(for: profile, fallbackCompany: " Contoso Ltd ") == "Thank you for calling Contoso Ltd")
        #expect(SiteHelpDeskRules.greeting(for: nil, fallbackCompany: "Contoso") == "Thank you for calling Contoso")
    }

    @Test func noClientEmailDomainIsAnAnswer() throws {
        let profile = try validate(SiteHelpDeskDraft(noClientEmailDomain: true)).get()
        #expect(profile.noClientEmailDomain && profile.clientEmailDomain == nil)
    }

    @Test func everyProblemIsReportedAtOnce() {
        let draft = SiteHelpDeskDraft(
            mainPhone: "020 7946", clientEmailDomain: "Gmail.com", greetingCompanyName: String(repeating: "a", count: 201),
            siteMessage: String(repeating: "b", count: 2001), agentInstallOptIn: true, agentInstallFee: "-5")

        let result = validate(draft)

        #expect(
            result
                == .failure(
                    .validation([
                        FieldError("mainPhone", "too short for GB (6 digits after the country code and trunk prefix; at least 7)"),
                        FieldError(
                            "clientEmailDomain",
                            "gmail.com is a public mail domain; a client email domain must belong to the client (or choose no client email domain)"),
                        FieldError("greetingCompanyName", "must be at most 200 characters (got 201)"),
                        FieldError("siteMessage", "must be at most 2000 characters (got 2001)"),
                        FieldError("agentInstallFee", "must not be negative"),
                    ])))
    }

    @Test(arguments: [
        (SiteHelpDeskDraft(mainPhone: "020 7946 0958"), nil as String?, "needs a country: a national number without + or 00 and no site country"),
        (SiteHelpDeskDraft(clientEmailDomain: "isp.example"), "GB", "isp.example is a public mail domain"),
        (SiteHelpDeskDraft(clientEmailDomain: "@contoso.example"), "GB", "'@contoso.example': write the domain without '@'"),
        (SiteHelpDeskDraft(clientEmailDomain: "contoso.example", noClientEmailDomain: true), "GB", "contoso.example was given with no client email domain"),
        (SiteHelpDeskDraft(greetingCompanyName: "Contoso\nLtd"), "GB", "must be one line without control characters"),
        (SiteHelpDeskDraft(agentInstallOptIn: true), "GB", "opting in to agent installs needs the fee per occurrence (0.00 for none)"),
        (SiteHelpDeskDraft(agentInstallFee: "25.005"), "GB", "'25.005' has more than 2 decimals"),
        (SiteHelpDeskDraft(agentInstallFee: "25,00"), "GB", "write the amount with a dot for decimals"),
    ])
    func refuses(_ draft: SiteHelpDeskDraft, _ country: String?, _ message: String) {
        guard case .failure(.validation(let errors)) = validate(draft, country: country) else {
            Issue.record("accepted")
            return
        }
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
    }

    @Test func aFeeWithoutOptInIsKept() throws {
        #expect(try validate(SiteHelpDeskDraft(agentInstallFee: "100")).get().agentInstallFee == MoneyAmount(cents: 10_000))
        #expect(try validate(SiteHelpDeskDraft(agentInstallOptIn: true, agentInstallFee: "0")).get().agentInstallFee == MoneyAmount(cents: 0))
    }

    @Test(arguments: [("25", 2500), ("25.5", 2550), ("25.00", 2500), ("0.01", 1), (" 100000000.00 ", 10_000_000_000), ("007.10", 710)])
    func amountsAreDecimalCents(_ text: String, _ cents: Int) {
        #expect(MoneyAmount.parse(text) == .success(MoneyAmount(cents: cents)))
    }

    @Test(arguments: [
        ("", MoneyAmount.Problem.empty), ("-1", .negative), ("1e3", .notAnAmount("1e3")), ("$25", .notAnAmount("$25")), ("25.", .notAnAmount("25.")),
        (".5", .notAnAmount(".5")), ("1,250.00", .decimalComma("1,250.00")), ("25.001", .tooManyDecimals("25.001")), ("100000000.01", .tooLarge),
        ("99999999999999999999", .tooLarge), ("1.2.3", .notAnAmount("1.2.3")), ("25 .00", .notAnAmount("25 .00")),
    ])
    func refusesAmounts(_ text: String, _ problem: MoneyAmount.Problem) {
        #expect(MoneyAmount.parse(text) == .failure(problem))
    }

    @Test func theProfileIsJSONWithTheSpecsNames() throws {
        let profile = try validate(SiteHelpDeskDraft(mainPhone: "+44 20 7946 0958", agentInstallOptIn: true, agentInstallFee: "100")).get()
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(profile)) as! [String: Any]
        #expect(json["agentInstallFee"] as? String == "100.00", "money as a decimal string, never a float")
        #expect((json["mainPhone"] as? [String: Any])?["e164"] as? String == "+442079460958")
        #expect(json["agentInstallOptIn"] as? Bool == true)
        #expect(try JSONDecoder().decode(SiteHelpDeskProfile.self, from: JSONEncoder().encode(profile)) == profile)
        #expect(MoneyAmount(cents: 5).description == "0.05" && MoneyAmount(cents: 1234).description == "12.34")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(MoneyAmount.self, from: Data("\"1.005\"".utf8)) }
        let draft = try JSONDecoder().decode(SiteHelpDeskDraft.self, from: Data(#"{"mainPhone":"+1 555 201 3344","agentInstallFee":"25.00"}"#.utf8))
        #expect(draft == SiteHelpDeskDraft(mainPhone: "+1 555 201 3344", agentInstallFee: "25.00"))
    }
}

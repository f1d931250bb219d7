import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Caller identification: any common format of a number finds the site by its main phone and the
/// contacts by theirs (written to the phone directory by the API, the profiles API and the import),
/// shared numbers are ambiguous, and nobody is told of contacts or sites outside their scope.
@Suite struct IntakeIdentifyTests {
    static func identify(_ t: TestApp, _ phone: String, country: String? = nil, as token: String? = nil) async throws -> Reply {
        var query = "phone=\(phone.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? phone)"
        if let country { query += "&country=\(country)" }
        return try await t.get("/api/v1/identify?\(query)", as: token)
    }

    @Test func aSitesMainNumberInAnyFormat() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "London", country: "GB")
            let cora = try await t.contact(contoso, "Cora", extra: ["phones": [["kind": "mobile", "number": "07700900123", "countryCode": "GB"]]])
            expectStatus(
                try await t.patch(
                    "/api/v1/sites/\(site)",
                    ["mainPhone": "020 7946 0958", "greetingCompanyName": "Contoso Ltd", "siteMessage": "The CEO is travelling this week."]),
                .ok)
            expectStatus(
                try await t.put(
                    "/api/v1/sites/\(site)/notification-rule", ["escalation": [["contactId": .string(cora)]], "callBeforeEscalating": [.string(cora)]]), .ok)
            for (typed, country) in [("+44 20 7946 0958", nil), ("0044 (0)20 7946-0958", nil), ("020 7946 0958", "GB"), ("tel:+442079460958", nil)] {
                let answer = try await Self.identify(t, typed, country: country)
                expectStatus(answer, .ok)
                #expect(answer.json["phone"] == "+442079460958", "\(typed)")
                #expect(answer.json["site"]["siteId"].string == site && answer.json["greeting"] == "Thank you for calling Contoso Ltd", "\(typed)")
                #expect(answer.json["siteMessage"] == "The CEO is travelling this week.")
                #expect(answer.json["callBeforeEscalating"][0]["name"] == "Cora Contact")
                #expect(answer.json["callBeforeEscalating"][0]["phone"] == "+447700900123")
            }
            // The site's security-request policy in a few sentences: nothing set, the MSP approves everything.
            #expect(try await Self.identify(t, "+442079460958").json["securityRequests"].string?.hasPrefix("The MSP approves: New user account,") == true)
            expectStatus(
                try await t.put(
                    "/api/v1/sites/\(site)/security-requests",
                    [
                        "categories": [
                            "passwordReset": ["noApprovalNeeded": true, "authenticateCaller": true],
                            "newUserAccount": ["approvers": [["kind": "contact", "id": .string(cora)]]],
                        ]
                    ]), .ok)
            #expect(
                try await Self.identify(t, "+442079460958").json["securityRequests"]
                    == """
                    No approval needed: Password reset. The site's approvers decide: New user account. The MSP approves: New mail account, \
                    File/folder permission change, Software installation, Agent installation, Tier 4. Authenticate the caller by SMS code for: Password reset.
                    """)
            let cell = try await Self.identify(t, "+44 7700 900123")
            #expect(cell.json["callers"].array.map { $0["contactId"].string } == [cora])
            #expect(cell.json["callers"][0]["phoneKind"] == "mobile" && cell.json["ambiguous"] == false)

            let national = try await Self.identify(t, "020 7946 0958")
            expectStatus(national, .unprocessableEntity)
            #expect(national.json["errors"][0]["field"] == "phone")
            expectStatus(try await Self.identify(t, "+999 123"), .unprocessableEntity)
        }
    }

    @Test func sharedNumbersAreAmbiguousAndScopesHold() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let hq = try await t.site(contoso, "HQ")
            let reception: JSON = ["phones": [["kind": "office", "number": "2125550100", "countryCode": "US"]]]
            let ann = try await t.profile(hq, "Ann", phone: "2125550100").id
            let bob = try await t.contact(contoso, "Bob", extra: reception)
            let fred = try await t.contact(fabrikam, "Fred", extra: reception)
            let all = try await Self.identify(t, "(212) 555-0100", country: "US")
            #expect(Set(all.json["callers"].array.compactMap { $0["contactId"].string }) == [ann, bob, fred])
            #expect(all.json["ambiguous"] == true && (all.json["ambiguityReason"].string ?? "").contains("2 organizations"))

            // A technician restricted to Fabrikam hears only of Fred.
            let (_, rick) = try await t.resource("rick", .technician, restrictions: [fabrikam])
            let restricted = try await Self.identify(t, "+1 212 555 0100", as: rick)
            #expect(restricted.json["callers"].array.map { $0["contactId"].string } == [fred])
            #expect(restricted.json["ambiguous"] == false)

            // Profiles from an import are in the directory, and leave it when the import deletes them.
            let report = try await t.importReport(
                hq, csv: "Id,First Name,Last Name,Office Phone,Office Phone Country\n,Imre,Imported,2125550177,US\n\(ann),Ann,Profile,2125550188,US\n")
            #expect(report["added"] == 1 && report["edited"] == 1)
            let imported = try await Self.identify(t, "+12125550177")
            #expect(imported.json["callers"].array.map { $0["firstName"].string } == ["Imre"])
            #expect(try await Self.identify(t, "+12125550188").json["callers"].array.map { $0["contactId"].string } == [ann])
            #expect(!(try await Self.identify(t, "+12125550100").json["callers"].array.contains { $0["contactId"].string == ann }), "the old number")

            _ = try await t.contact(contoso, "Alice", email: "alice@contoso.example", password: "portal-pass-2026")
            let contactToken = try await t.login("alice@contoso.example", "portal-pass-2026")
            expectStatus(try await Self.identify(t, "+12125550100", as: contactToken), .forbidden)
        }
    }

    /// The page for the technician taking the call: what to say, who it may be, one click to their ticket.
    @Test func theIdentifyPage() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "London", country: "GB")
            let cora = try await t.contact(
                contoso, "Cora", extra: ["siteId": .string(site), "phones": [["kind": "office", "number": "02079460958", "countryCode": "GB"]]])
            expectStatus(
                try await t.patch("/api/v1/sites/\(site)", ["greetingCompanyName": "Contoso Ltd", "siteMessage": "Printers are being replaced."]), .ok)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            expectStatus(try await t.page("/identify", session: admin), .ok)
            let page = try await t.page("/identify?phone=%2B44+20+7946+0958", session: admin)
            expectStatus(page, .ok)
            #expect(page.text.contains("Thank you for calling Contoso Ltd") && page.text.contains("Printers are being replaced."))
            #expect(page.text.contains("Cora Contact") && page.text.contains("contactId=\(cora)"))
            let form = try await t.page("/tickets/new?organizationId=\(contoso)&siteId=\(site)&contactId=\(cora)", session: admin)
            #expect(form.text.contains("value=\"\(cora)\" selected"), "the caller is chosen in the new ticket form")
            let bad = try await t.page("/identify?phone=020+7946+0958", session: admin)
            expectStatus(bad, .unprocessableEntity)
            #expect(bad.text.contains("needs a country"))
            #expect(try await t.page("/identify?phone=020+7946+0958&country=GB", session: admin).text.contains("Cora Contact"))
        }
    }
}

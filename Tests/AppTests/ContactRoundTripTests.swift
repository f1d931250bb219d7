import Foundation
import Testing

@testable import App

/// Contacts made through `/api/v1/contacts` follow the client profile rules (`ContactRules`): whatever the API
/// accepts exports as profile rows that import again, into the same site and, without their ids, into another.
@Suite struct ContactRoundTripTests {
    /// Edge cases the contacts API accepts: formula triggers, apostrophes, non-Latin letters, the longest names
    /// and numbers, every phone kind, lower-case countries and spaces around numbers.
    static func edgeCases(organization: String, site: String) -> [JSON] {
        let base: JSON = ["organizationId": .string(organization), "siteId": .string(site)]
        func phone(_ number: String, _ country: String, _ kind: String) -> JSON {
            ["number": .string(number), "countryCode": .string(country), "kind": .string(kind)]
        }
        return [
            base.merging([
                "firstName": "=cmd|' /C calc'!A0", "lastName": "+Plus", "email": "Formula+Tag@Client.Example",
                "phones": [phone(" 2065550100 ", "us", "office"), phone("12345678901234567890", "GB", "mobile")],
            ]),
            base.merging([
                "firstName": "'=Already", "lastName": "-Dash", "email": "dash@client.example",
                "phones": [phone("1", "AU", "office"), phone("2", "NZ", "mobile"), phone("3", "DE", "home"), phone("4", "FR", "other")],
            ]),
            base.merging(["firstName": "  Zoë  ", "lastName": "O'Brien-Ünal", "phones": [phone("4930123456", "de", "home")]]),
            base.merging([
                "firstName": .string(String(repeating: "李", count: 100)), "lastName": .string(String(repeating: "x", count: 100)),
                "phones": [phone("0", "JP", "other")],
            ]),
            base.merging(["firstName": "@Home", "lastName": "😀 Smile", "email": "smile@client.example", "phones": [phone("5550100", "CA", "mobile")]]),
        ]
    }

    @Test func contactsMadeThroughTheAPIImportAgain() async throws {
        try await withApp { t in
            let organization = try await t.organization("Acme")
            let site = try await t.site(organization, "HQ")
            let otherSite = try await t.site(organization, "Branch")
            var ids: [String] = []
            for body in Self.edgeCases(organization: organization, site: site) { ids.append(try await t.create("/api/v1/contacts", body).id) }
            // An edit through the API stays importable too.
            _ = try await t.must(.ok, .PATCH, "/api/v1/contacts/\(ids[2])", ["phones": [["number": "0301234", "countryCode": "de", "kind": "home"]]])

            let csv = try await t.exportProfiles(site, format: "csv")
            let xlsx = try await t.exportProfiles(site, format: "xlsx")
            let sameSite = try await t.importProfiles(site, csv.body, format: "csv")
            let sameSiteXLSX = try await t.importProfiles(site, xlsx.body, format: "xlsx")
            // Without the Id column's values, every row is validated as a new profile of another site.
            let withoutIds = csv.text.replacing(/(?m)^[0-9A-Fa-f-]{36},/, with: ",")
            let copied = try await t.importProfiles(otherSite, Data(withoutIds.utf8), format: "csv")

            expectStatus(csv, .ok)
            #expect(ReportCounts(sameSite.json) == ReportCounts(unchanged: ids.count), "\(sameSite)")
            #expect(ReportCounts(sameSiteXLSX.json) == ReportCounts(unchanged: ids.count), "\(sameSiteXLSX)")
            #expect(ReportCounts(copied.json) == ReportCounts(added: ids.count), "\(copied)")
            // The copies hold what the originals hold.
            let originals = try await t.get("/api/v1/client-profiles?siteId=\(site)&limit=200").json["items"].array
            let copies = try await t.get("/api/v1/client-profiles?siteId=\(otherSite)&limit=200").json["items"].array
            func shape(_ profile: JSON) -> [JSON] { [profile["firstName"], profile["lastName"], profile["email"], profile["phones"]] }
            #expect(originals.count == ids.count && copies.count == ids.count)
            for original in originals { #expect(copies.contains { shape($0) == shape(original) }, "\(original)") }
            #expect(originals.contains { $0["phones"][0]["countryCode"] == "US" && $0["phones"][0]["number"] == "2065550100" }, "trimmed and upper-cased")
        }
    }

    /// What the import would refuse, the contacts API refuses first.
    @Test func theContactsAPIRefusesWhatTheImportWould() async throws {
        try await withApp { t in
            let organization = try await t.organization("Acme")
            let site = try await t.site(organization, "HQ")
            let base: JSON = ["organizationId": .string(organization), "firstName": "A", "lastName": "B"]
            let phone: JSON = [["number": "5550100", "countryCode": "US"]]

            let notApplicable = try await t.post("/api/v1/contacts", base.merging(["firstName": "N/A"]))
            let siteWithoutPhone = try await t.post("/api/v1/contacts", base.merging(["siteId": .string(site)]))
            let noCountry = try await t.post("/api/v1/contacts", base.merging(["phones": [["number": "5550100", "countryCode": ""]]]))
            let twoOffices = try await t.post(
                "/api/v1/contacts", base.merging(["phones": [["number": "1", "countryCode": "US"], ["number": "2", "countryCode": "US"]]]))
            let created = try await t.create("/api/v1/contacts", base.merging(["siteId": .string(site), "phones": phone])).id
            let phonesRemoved = try await t.patch("/api/v1/contacts/\(created)", ["phones": []])

            expectProblem(notApplicable, .unprocessableEntity, field: "firstName", contains: "N/A")
            expectProblem(siteWithoutPhone, .unprocessableEntity, field: "phones", contains: "at least one phone number")
            expectProblem(noCountry, .unprocessableEntity, field: "phones[0].countryCode")
            expectProblem(twoOffices, .unprocessableEntity, field: "phones[1].number", contains: "only one office number")
            expectProblem(phonesRemoved, .unprocessableEntity, field: "phones")
            // Without a site a contact is no profile, and needs no phone.
            expectStatus(try await t.post("/api/v1/contacts", base), .created)
        }
    }
}

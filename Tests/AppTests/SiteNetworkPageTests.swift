import Foundation
import Testing

@testable import App

/// The site's "Network info" page: lists edited one entry per line, problems shown beside their section with
/// the line, read-only for those who may not change the site, 404 for a site one may not see.
@Suite struct SiteNetworkPageTests {
    @Test func editedAsTextAndCheckedLikeTheAPI() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let page = "/sites/\(site)/network"
            #expect(try await t.page("/sites/\(site)", session: admin).text.contains("href=\"\(page)\""))
            expectStatus(try await t.page(page, session: admin), .ok)

            var fields = [
                ("printers", "network laser | Front desk | HP M404 | 10.0.0.25\n\nindividual | Reception"),
                ("networkDrives", "Shared | \\\\fs01\\shared"), ("emailProvider", "Microsoft 365"), ("emailAdminPortalURL", "https://admin.microsoft.com"),
                ("remoteAccess", "vpn | vpn.contoso.example | Install the client first"), ("applications", "Dentrix | Practice management"),
                ("activeDirectoryServer", "DC01"), ("activeDirectoryDomain", "corp.contoso.example"), ("backupServer", "BK01"), ("backupAddress", ""),
            ]
            // A wrong IP on the second line: refused beside the printers with its line, the text kept, nothing saved.
            fields[0].1 = "network laser | Front desk | HP M404 | 10.0.0.25\nindividual | Reception | | 10.0.0.300"
            let refused = try await t.submitForm(page, fields, session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"printers-error\"") && refused.text.contains("line 2, ipAddress"))
            #expect(refused.text.contains("10.0.0.300"))
            #expect(try await t.get("/api/v1/sites/\(site)/network").json["printers"] == [])
            let badKind = try await t.submitForm(page, [("remoteAccess", "ssh | host")], session: admin)
            expectStatus(badKind, .unprocessableEntity)
            #expect(badKind.text.contains("line 1, kind"))

            fields[0].1 = "network laser | Front desk | HP M404 | 10.0.0.25\n\nindividual | Reception"
            expectStatus(try await t.submitForm(page, fields, session: admin), .seeOther)
            let saved = try await t.get("/api/v1/sites/\(site)/network").json
            #expect(saved["printers"].array.map(\.["name"]) == ["Front desk", "Reception"])
            #expect(saved["printers"][1]["ipAddress"] == .null || saved["printers"][1]["ipAddress"].string == nil)
            #expect(saved["remoteAccess"][0]["setupGuide"] == "Install the client first")
            #expect(saved["present"] == true)
            let shown = try await t.page(page, session: admin).text
            #expect(shown.contains("network laser | Front desk | HP M404 | 10.0.0.25"), "the saved lists come back as lines")

            // A dispatcher reads it (documentation at view); a client-restricted technician does not find another
            // organization's site.
            _ = try await t.resource("dan", .dispatcher)
            let dan = try await t.pageSession("dan", TestApp.password)
            let readOnly = try await t.page(page, session: dan)
            expectStatus(readOnly, .ok)
            #expect(!readOnly.text.contains("id=\"network-form\"") && readOnly.text.contains("Front desk"))
            expectStatus(try await t.submitForm(page, fields, session: dan), .forbidden)
            _ = try await t.resource("rita", restrictions: [fabrikam])
            expectStatus(try await t.page(page, session: try await t.pageSession("rita", TestApp.password)), .notFound)
        }
    }
}

import Foundation
import Testing

@testable import App

/// The reference pages: a site's References tab adds one (a problem beside its field, the input kept),
/// the reference's page shows the Markdown rendered safe and saves edits (a stale form is refused with the
/// text kept), tag links list those tagged so, the security request panel links those tagged
/// `security-related-requests`, and a reference one may not read is a 404 page.
@Suite struct ReferencePageTests {
    @Test func addRenderEditAndFind() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let tab = "/sites/\(site)/references"
            #expect(try await t.page("/sites/\(site)", session: admin).text.contains("href=\"\(tab)\""))
            #expect(try await t.page("/tickets", session: admin).text.contains("href=\"/references\""), "References is in the navigation")

            let body = "# Resets\n\nCall **Alice**.<script>alert(1)</script><img src=x onerror=alert(1)>"
            let refused = try await t.submitForm(tab, [("title", ""), ("body", body), ("tags", "Security related requests")], session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"title-error\"") && refused.text.contains("Security related requests"))
            #expect(try await t.count("reference_documents") == 0)

            let added = try await t.submitForm(
                tab, [("title", "Password resets"), ("body", body), ("tags", "Security related requests, howto")], session: admin)
            expectStatus(added, .seeOther)
            let location = try #require(added.headers.first(name: .location))
            let page = String(location.split(separator: "?")[0])
            let shown = try await t.page(page, session: admin)
            expectStatus(shown, .ok)
            #expect(shown.text.contains("<h1>Resets</h1>") && shown.text.contains("<strong>Alice</strong>"))
            let article = try #require(shown.text.components(separatedBy: "id=\"reference-body\"").last?.components(separatedBy: "</article>").first)
            #expect(!article.contains("script") && !article.contains("onerror"), "rendered safe: \(article)")
            #expect(!shown.text.contains("<script>alert") && shown.text.contains("&lt;script&gt;"), "the form shows the Markdown escaped")
            #expect(shown.text.contains("href=\"\(tab)?tag=security-related-requests\""))

            // Tags list what carries them; the global list has it too.
            let tagged = try await t.page("\(tab)?tag=security-related-requests", session: admin).text
            #expect(tagged.contains("Password resets"))
            #expect(!(try await t.page("/references?tag=other", session: admin).text.contains("Password resets")))
            #expect(try await t.page("/references", session: admin).text.contains("Password resets"))

            // A save from a stale form (version 1 after another change) is refused, the text kept.
            let id = String(page.split(separator: "/").last!)
            try await t.must(.ok, .PATCH, "/api/v1/references/\(id)", ["title": "Password resets (v2)"])
            let stale = try await t.submitForm(page, [("title", "Mine"), ("body", "my text"), ("tags", ""), ("version", "1")], session: admin)
            expectStatus(stale, .conflict)
            #expect(stale.text.contains("my text") && stale.text.contains("changed since you read it"))
            #expect(try await t.get("/api/v1/references/\(id)").json["title"] == "Password resets (v2)")
            expectStatus(
                try await t.submitForm(page, [("title", "Mine"), ("body", "my text"), ("tags", "howto"), ("version", "2")], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/references/\(id)").json["tags"] == ["howto"])

            // A global one is added on the list page; a restricted technician reads it but not the site's of another organization.
            expectStatus(try await t.submitForm("/references", [("title", "Escalations"), ("body", "Call the on-duty engineer.")], session: admin), .seeOther)
            _ = try await t.resource("rita", restrictions: [fabrikam])
            let rita = try await t.pageSession("rita", TestApp.password)
            let ritasList = try await t.page("/references", session: rita).text
            #expect(ritasList.contains("Escalations") && !ritasList.contains("Mine"))
            expectStatus(try await t.page(page, session: rita), .notFound)
            expectStatus(try await t.page(tab, session: rita), .notFound)
            #expect(!ritasList.contains("id=\"reference-form\""), "a restricted technician adds no global reference")

            // Delete asks first.
            #expect(try await t.page("\(page)/delete", session: admin).text.contains("removed for good"))
            expectStatus(try await t.submitForm("\(page)/delete", [], session: admin), .seeOther)
            expectStatus(try await t.page(page, session: admin), .notFound)
        }
    }

    @Test func theSecurityRequestPanelLinksTaggedReferences() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            let other = try await t.site(contoso, "Branch")
            let ticket = try await t.ticket(contoso, "Reset my password", extra: ["siteId": .string(site)]).id
            let tagged = try await t.create(
                "/api/v1/references", ["title": "HQ resets", "siteId": .string(site), "tags": ["security-related-requests"]]
            ).id
            _ = try await t.create("/api/v1/references", ["title": "Branch resets", "siteId": .string(other), "tags": ["security-related-requests"]])
            _ = try await t.create("/api/v1/references", ["title": "HQ printers", "siteId": .string(site)])
            let global = try await t.create("/api/v1/references", ["title": "Global procedure", "tags": ["security-related-requests"]]).id
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let text = try await t.page("/tickets/\(ticket)", session: admin).text
            #expect(text.contains("id=\"security-request-guides\""))
            #expect(text.contains("href=\"/references/\(tagged)\"") && text.contains("href=\"/references/\(global)\""))
            #expect(!text.contains("Branch resets") && !text.contains("HQ printers"))
        }
    }
}

import Foundation
import TandemCore
import Testing
import Vapor

@testable import App

/// References through `/api/v1/references` (SPEC §9): Markdown stored and rendered safe, tags and `?tag=`,
/// global and per site, version checks, audit; who reads and changes which (a matrix over principals and
/// references); and documentation in search (`kinds=references,documentation`) under the same policy.
@Suite struct ReferenceAPITests {
    @Test func storedRenderedTaggedAndAudited() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            let created = try await t.create(
                "/api/v1/references",
                [
                    "siteId": .string(site), "title": " Password resets ",
                    "body": "# Steps\n\nCall the **owner** first. <img src=x onerror=alert(1)> [guide](javascript:alert(1))",
                    "tags": ["Security related requests", "howto", "howto"],
                ])
            let id = created.id
            #expect(created["title"] == "Password resets")
            #expect(created["organizationId"] == .string(contoso))
            #expect(created["tags"] == ["security-related-requests", "howto"])
            #expect(created["version"] == 1)
            let html = try #require(created["html"].string)
            #expect(html.contains("<h1>Steps</h1>") && html.contains("<strong>owner</strong>"), "\(html)")
            #expect(!html.contains("onerror") && !html.contains("href=\"javascript:"), "\(html)")
            #expect(created["body"].string?.contains("onerror") == true, "the Markdown is kept as written")

            let global = try await t.create("/api/v1/references", ["title": "Escalation matrix", "body": "Call the on-duty engineer.", "tags": ["howto"]])
            #expect(global["siteId"] == .null && global["organizationId"] == .null)

            #expect(Set(try await t.get("/api/v1/references?tag=howto").json["items"].ids) == [id, global.id])
            #expect(try await t.get("/api/v1/references?tag=Security%20Related%20Requests").json["items"].ids == [id])
            #expect(try await t.get("/api/v1/references?global=true").json["items"].ids == [global.id])
            #expect(try await t.get("/api/v1/references?siteId=\(site)").json["items"].ids == [id])
            expectProblem(try await t.get("/api/v1/references?tag=%3Cb%3E"), .unprocessableEntity, field: "tag")

            // A PATCH naming an old version changes nothing.
            let saved = try await t.patch("/api/v1/references/\(id)", ["body": "Call the owner.", "version": 1, "tags": ["howto"]])
            expectStatus(saved, .ok)
            #expect(saved.json["version"] == 2)
            expectProblem(try await t.patch("/api/v1/references/\(id)", ["title": "Stale", "version": 1]), .conflict)
            #expect(try await t.get("/api/v1/references/\(id)").json["title"] == "Password resets")
            #expect(try await t.get("/api/v1/references?tag=security-related-requests").json["items"].ids == [])

            for (body, field) in [
                (["title": ""] as JSON, "title"), (["title": "x", "tags": ["a b", "<x>"]], "tags[1]"),
                (["title": "x", "siteId": .string(UUID().uuidString)], "siteId"),
                (["title": "x", "body": .string(String(repeating: "a", count: 100_001))], "body"),
            ] {
                expectProblem(try await t.post("/api/v1/references", body), .unprocessableEntity, field: field)
            }
            expectProblem(try await t.patch("/api/v1/references/\(id)", ["siteId": .null]), .unprocessableEntity, field: "siteId")
            #expect(try await t.get("/api/v1/references").json["items"].array.count == 2, "refused bodies wrote nothing")

            try await t.must(.noContent, .DELETE, "/api/v1/references/\(global.id)")
            expectProblem(try await t.get("/api/v1/references/\(global.id)"), .notFound)
            #expect(try await t.count("reference_tags") == 1)
            let actions = try await t.auditEvents(entityId: id).map(\.["action"])
            #expect(actions == ["created", "updated"])
        }
    }

    /// Principals × references (global, Contoso's, Fabrikam's): who lists, reads, changes and deletes
    /// which; hidden ones answer 404 and never appear in a list.
    @Test func whoReadsAndChangesWhich() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let contoso = try await t.coManagedOrganization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let contosoSite = try await t.site(contoso, "HQ")
            let fabrikamSite = try await t.site(fabrikam, "Main")
            let queue = try await t.queue("Service Desk")
            let global = try await t.create("/api/v1/references", ["title": "Global"]).id
            let ofContoso = try await t.create("/api/v1/references", ["title": "Contoso", "siteId": .string(contosoSite)]).id
            let ofFabrikam = try await t.create("/api/v1/references", ["title": "Fabrikam", "siteId": .string(fabrikamSite)]).id

            let (_, technician) = try await t.resource("tess")
            let (_, restricted) = try await t.resource("rita", restrictions: [contoso])
            let (_, dispatcher) = try await t.resource("dan", .dispatcher)
            let helpDesk = try await t.coManagingUser("nina", organizationId: contoso, queueIds: [queue])
            let helpDeskToken = try await t.loginCoManaging(helpDesk.id, "nina")
            let basic = try await t.coManagingUser("bob", organizationId: contoso, queueIds: [queue], level: .coManagedBasic)
            let basicToken = try await t.loginCoManaging(basic.id, "bob")
            let alice = try await t.contact(contoso, "Alice")
            let aliceToken = try await t.portalLogin(alice, email: "alice@contoso.example", organizationWide: true)

            let all = [global, ofContoso, ofFabrikam]
            let cases: [(String, String?, reads: [String], edits: [String])] = [
                ("administrator", nil, all, all),
                ("technician", technician, all, all),
                ("restricted technician", restricted, [global, ofContoso], [ofContoso]),
                ("dispatcher", dispatcher, all, []),
                ("co-managed help desk", helpDeskToken, [ofContoso], []),
                ("co-managed basic", basicToken, [], []),
                ("contact", aliceToken, [], []),
            ]
            for (name, token, reads, edits) in cases {
                #expect(Set(try await t.get("/api/v1/references", as: token).json["items"].ids) == Set(reads), "\(name) lists")
                for reference in all {
                    let read = try await t.get("/api/v1/references/\(reference)", as: token)
                    expectStatus(read, reads.contains(reference) ? .ok : .notFound)
                    let edit = try await t.patch("/api/v1/references/\(reference)", ["body": .string("edited by \(name)")], as: token)
                    expectStatus(edit, edits.contains(reference) ? .ok : reads.contains(reference) ? .forbidden : .notFound)
                }
                // Adding: global only for resources without client restrictions; a site's as its documentation allows.
                // (what is added is deleted again, so the next principal's list is the same three).
                let addGlobal = try await t.post("/api/v1/references", ["title": .string("New by \(name)")], as: token)
                expectStatus(addGlobal, edits.contains(global) ? .created : .forbidden)
                let addContoso = try await t.post("/api/v1/references", ["title": .string("New by \(name)"), "siteId": .string(contosoSite)], as: token)
                expectStatus(addContoso, edits.contains(ofContoso) ? .created : .forbidden)
                for added in [addGlobal, addContoso] where added.status == .created {
                    try await t.must(.noContent, .DELETE, "/api/v1/references/\(added.json.id)")
                }
            }
            // Network information follows the same documentation rule: contacts and basic co-managing users never read it.
            for (token, status) in [(aliceToken, HTTPStatus.notFound), (basicToken, .notFound), (helpDeskToken, .ok), (dispatcher, .ok)] {
                expectStatus(try await t.get("/api/v1/sites/\(contosoSite)/network", as: token), status)
            }
            expectProblem(try await t.put("/api/v1/sites/\(contosoSite)/network", ["printers": []], as: dispatcher), .forbidden)
            expectStatus(try await t.put("/api/v1/sites/\(contosoSite)/network", ["printers": []], as: technician), .ok)
        }
    }

    @Test func documentationInSearchUnderThePolicy() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let contosoSite = try await t.site(contoso, "HQ")
            let fabrikamSite = try await t.site(fabrikam, "Main")
            let reference = try await t.create(
                "/api/v1/references", ["title": "Kestrel backup runbook", "siteId": .string(contosoSite), "body": "Rotate the kestrel tapes weekly."]
            ).id
            let hidden = try await t.create("/api/v1/references", ["title": "Kestrel at Fabrikam", "siteId": .string(fabrikamSite)]).id
            let credential = try await t.create(
                "/api/v1/sites/\(contosoSite)/credentials", ["kind": "server", "name": "Kestrel NAS", "username": "backup", "secret": "ptarmigan-secret"]
            ).id
            try await t.must(.ok, .PUT, "/api/v1/sites/\(contosoSite)/network", ["backup": ["server": "KESTREL01", "address": "10.0.0.9"]])

            let everything = try await t.get("/api/v1/search?q=kestrel&kinds=references,documentation").json
            #expect(Set(everything["references"].array.compactMap(\.["id"].string)) == [reference, hidden])
            let documentation = everything["documentation"].array
            #expect(Set(documentation.compactMap(\.["id"].string)) == [credential, contosoSite])
            #expect(documentation.first { $0["kind"] == "network" }?["siteId"] == .string(contosoSite))
            #expect(everything["tickets"] == [] && everything["contacts"] == [], "only the kinds asked for")
            #expect(everything["matches"].array.contains { $0["kind"] == "references" && ($0["snippet"].string ?? "").contains("<mark>") })
            // The secret is never indexed.
            #expect(try await t.get("/api/v1/search?q=ptarmigan&kinds=documentation").json["documentation"] == [])
            // Edits and deletes are indexed at once.
            try await t.must(.ok, .PATCH, "/api/v1/references/\(reference)", ["title": "Osprey backup runbook", "body": "Rotate tapes."])
            #expect(try await t.get("/api/v1/search?q=osprey&kinds=references").json["references"].array.count == 1)
            try await t.must(.noContent, .DELETE, "/api/v1/credentials/\(credential)")
            #expect(try await t.get("/api/v1/search?q=kestrel&kinds=documentation").json["documentation"].array.compactMap(\.["id"].string) == [contosoSite])

            // A restricted technician finds only its organizations' documentation.
            let (_, restricted) = try await t.resource("rita", restrictions: [fabrikam])
            let theirs = try await t.get("/api/v1/search?q=kestrel&kinds=references,documentation", as: restricted).json
            #expect(theirs["references"].array.compactMap(\.["id"].string) == [hidden])
            #expect(theirs["documentation"] == [])
            expectProblem(try await t.get("/api/v1/search?q=x&kinds=secrets"), .unprocessableEntity, field: "kinds")
        }
    }
}

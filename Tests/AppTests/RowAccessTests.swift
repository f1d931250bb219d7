import Foundation
import Testing
import VaporTesting

@testable import App

/// Explain access for organizations, sites, contacts and client profiles: the answer agrees with what the
/// principal's own requests get, and is for admins only.
@Suite struct RowAccessTests {
    @Test func explanationsMatchWhatEachPrincipalCanRead() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let seattle = try await t.site(northwind, "Seattle")
            let berlin = try await t.site(contoso, "Berlin")
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: TestApp.password)
            let carol = try await t.contact(contoso, "Carol")
            let (rick, rickToken) = try await t.resource("rick", restrictions: [northwind])
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [try await t.queue("Service Desk")]).id
            try await t.setUp(northwind, users: [nina])
            let ninaToken = try await t.loginCoManaging(nina, "nina")
            let aliceToken = try await t.login("alice@northwind.example", TestApp.password)

            let rows = [
                ("organizations", northwind), ("organizations", contoso), ("sites", seattle), ("sites", berlin), ("contacts", alice), ("contacts", carol),
            ]
            for (who, token) in [(rick, rickToken), (nina, ninaToken), (alice, aliceToken)] {
                for (collection, id) in rows {
                    let answer = try await t.get("/api/v1/\(collection)/\(id)/access?principalId=\(who)")
                    expectStatus(answer, .ok)
                    let reads = try await t.get("/api/v1/\(collection)/\(id)", as: token).status == .ok
                    #expect(answer.json["allowed"] == .bool(reads), "\(collection)/\(id) for \(who): explained \(answer.json["allowed"]), reads \(reads)")
                    #expect(answer.json["reasons"].array.isEmpty == false)
                }
                let profile = try await t.get("/api/v1/client-profiles/\(alice)/access?principalId=\(who)")
                #expect(profile.json["allowed"] == (try await t.get("/api/v1/contacts/\(alice)/access?principalId=\(who)")).json["allowed"])
            }
            // The organization and site pages' panels give the same answers, to admins only.
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            for (path, id, allowed) in [
                ("/organizations/\(northwind)", northwind, true), ("/organizations/\(contoso)", contoso, false), ("/sites/\(seattle)", seattle, true),
                ("/sites/\(berlin)", berlin, false),
            ] {
                let page = try await t.page("\(path)?explain=\(nina)", session: admin)
                expectStatus(page, .ok)
                #expect(page.text.contains("id=\"explain-result\""), "\(path)")
                #expect(page.text.contains(allowed ? "Can see it" : "Cannot see it"), "\(path) for \(id)")
            }
            let rickPage = try await t.page("/organizations/\(northwind)?explain=\(nina)", session: try await t.pageSession("rick", TestApp.password))
            expectStatus(rickPage, .ok)
            #expect(!rickPage.text.contains("explain-access"))

            // Admins only, a principal the caller may know, and a row it sees.
            expectProblem(try await t.get("/api/v1/organizations/\(northwind)/access?principalId=\(nina)", as: rickToken), .forbidden)
            expectProblem(try await t.get("/api/v1/organizations/\(northwind)/access?principalId=\(UUID())"), .notFound)
            expectProblem(try await t.get("/api/v1/sites/\(UUID())/access?principalId=\(nina)"), .notFound)
            expectProblem(try await t.get("/api/v1/contacts/\(alice)/access"), .unprocessableEntity, field: "principalId")
        }
    }
}

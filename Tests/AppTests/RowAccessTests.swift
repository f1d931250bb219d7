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
            // Admins only, a principal the caller may know, and a row it sees.
            expectProblem(try await t.get("/api/v1/organizations/\(northwind)/access?principalId=\(nina)", as: rickToken), .forbidden)
            expectProblem(try await t.get("/api/v1/organizations/\(northwind)/access?principalId=\(UUID())"), .notFound)
            expectProblem(try await t.get("/api/v1/sites/\(UUID())/access?principalId=\(nina)"), .notFound)
            expectProblem(try await t.get("/api/v1/contacts/\(alice)/access"), .unprocessableEntity, field: "principalId")
        }
    }
}

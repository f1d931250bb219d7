import Foundation
import Testing
import VaporTesting

@testable import App

/// The wizard associates a new co-managing user with their own organization (the Autotask wizard's
/// "organization the co-managing user will be associated with"), in the same audited transaction.
@Suite struct CoManagingUserCreationTests {
    @Test func aJustCreatedUserSeesTheirOrganizationsCoManagedVisibleTickets() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.coManagedOrganization("Contoso")
            let queue = try await t.queue("Service Desk")
            func ticket(_ organization: String, _ title: String, visible: Bool) async throws -> String {
                try await t.ticket(organization, title, extra: ["queueId": .string(queue), "coManagedVisible": .bool(visible)]).id
            }
            let shared = try await ticket(northwind, "Shared with the client", visible: true)
            _ = try await ticket(northwind, "MSP only", visible: false)
            _ = try await ticket(contoso, "Another client's", visible: true)

            // The wizard alone: no co-managed setup step after it.
            let user = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
            let token = try await t.loginCoManaging(user, "nina")

            let seen = try await t.get("/api/v1/tickets", as: token)
            expectStatus(seen, .ok)
            #expect(seen.json.ids == [shared], "\(seen)")
            expectStatus(try await t.get("/api/v1/tickets/\(shared)", as: token), .ok)
            // The organization's setup lists the user, and the association was audited with the creation.
            let setup = try await t.must(.ok, .GET, "/api/v1/organizations/\(northwind)/co-management")
            #expect(setup["coManagingUserIds"] == JSON([user]))
            let events = try await t.auditEvents(entityId: northwind).filter { $0["entityType"] == "organization_co_management" }
            let association = try #require(events.last)
            #expect(association["action"] == "updated")
            #expect(association["after"].string?.contains(user) == true && association["before"].string?.contains(user) == false, "\(association)")
            // Nothing of Contoso's: the user is associated with their own organization only.
            #expect(try await t.must(.ok, .GET, "/api/v1/organizations/\(contoso)/co-management")["coManagingUserIds"] == [])
        }
    }

    @Test func aRefusedCreationAssociatesNobody() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let queue = try await t.queue("Service Desk")
            let before = try await t.count("co_managed_associations")
            // Without the license confirmation nothing is written, the association included.
            let body = try await t.coManagingUserBody("nina", organizationId: northwind, queueIds: [queue], extra: ["confirmLicense": false])
            let reply = try await t.post("/api/v1/co-managing-users", body)
            expectProblem(reply, .conflict)
            #expect(try await t.count("co_managed_associations") == before)
            #expect(try await t.count("co_managing_users") == 0)
        }
    }
}

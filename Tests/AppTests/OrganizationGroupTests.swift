import Foundation
import Testing
import VaporTesting

@testable import App

/// Organization groups and the customer group override (SPEC §2): who sees whom among co-managing users,
/// through the API's `/api/v1/co-managing-users` and the `/people` page, without and with a group, and with the
/// override off for one user; the groups' API (validation, permissions, client restrictions) and pages.
/// The expectations are written out from the rule, not computed by the policy.
@Suite struct OrganizationGroupTests {
    struct World {
        var northwind = "", contoso = "", fabrikam = "", queue = ""
        /// Co-managing users: Nina and Noah of Northwind, Carl of Contoso, Fay of Fabrikam.
        var nina = "", noah = "", carl = "", fay = ""
    }

    static func world(_ t: TestApp) async throws -> World {
        var w = World()
        try await t.setCoManagement(enabled: true)
        w.northwind = try await t.coManagedOrganization("Northwind")
        w.contoso = try await t.coManagedOrganization("Contoso")
        w.fabrikam = try await t.coManagedOrganization("Fabrikam")
        w.queue = try await t.queue("Shared")
        w.nina = try await t.coManagingUser("nina", organizationId: w.northwind, queueIds: [w.queue]).id
        w.noah = try await t.coManagingUser("noah", organizationId: w.northwind, queueIds: [w.queue]).id
        w.carl = try await t.coManagingUser("carl", organizationId: w.contoso, queueIds: [w.queue]).id
        w.fay = try await t.coManagingUser("fay", organizationId: w.fabrikam, queueIds: [w.queue]).id
        return w
    }

    /// The co-managing users the API lists to `token`, every page of them.
    static func listed(_ t: TestApp, as token: String?) async throws -> Set<String> {
        let reply = try await t.get("/api/v1/co-managing-users?limit=200", as: token)
        expectStatus(reply, .ok)
        return Set(reply.json["items"].array.compactMap { $0["id"].string?.lowercased() })
    }

    /// The people of the `/people` page's co-managing user kind.
    static func directory(_ t: TestApp, session: String) async throws -> Set<String> {
        let page = try await t.page("/people?kind=coManagingUser", session: session)
        expectStatus(page, .ok)
        return Set(page.text.matches(of: /data-person-id="([^"]+)"/).map { String($0.1).lowercased() })
    }

    @Test func whoSeesWhomFollowsTheOrganizationGroup() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let (_, rick) = try await t.resource("rick", .technician, restrictions: [w.northwind])
            // Noah has the override off: his directory stays his own organization's, group or not.
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(w.noah)", ["customerGroupOverride": false])
            var tokens: [String: String?] = ["admin": nil, "rick": rick]
            var sessions: [String: String] = ["admin": try await t.pageSession("admin", TestApp.adminPassword)]
            for (name, id) in [("nina", w.nina), ("noah", w.noah), ("carl", w.carl), ("fay", w.fay)] {
                tokens[name] = try await t.loginCoManaging(id, name)
                try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(id)/totp-pause", ["for": "nextLogin"])
                sessions[name] = try await t.pageSession(name, TestApp.password)
            }
            sessions["rick"] = try await t.pageSession("rick", TestApp.password)
            let everyone: Set<String> = [w.nina, w.noah, w.carl, w.fay]
            func ids(_ list: [String]) -> Set<String> { Set(list.map { $0.lowercased() }) }

            // (principal, co-managing users seen) without any group, then with Northwind and Contoso in one group.
            let withoutGroups: [(String, Set<String>)] = [
                ("admin", ids(Array(everyone))), ("rick", ids([w.nina, w.noah])), ("nina", ids([w.nina, w.noah])), ("noah", ids([w.nina, w.noah])),
                ("carl", ids([w.carl])), ("fay", ids([w.fay])),
            ]
            let withGroup: [(String, Set<String>)] = [
                ("admin", ids(Array(everyone))), ("rick", ids([w.nina, w.noah])), ("nina", ids([w.nina, w.noah, w.carl])),
                ("noah", ids([w.nina, w.noah])), ("carl", ids([w.nina, w.noah, w.carl])), ("fay", ids([w.fay])),
            ]
            func check(_ matrix: [(String, Set<String>)], _ label: String) async throws {
                for (name, expected) in matrix {
                    #expect(try await Self.listed(t, as: tokens[name]!) == expected, "\(label): \(name) in /api/v1/co-managing-users")
                    #expect(try await Self.directory(t, session: sessions[name]!) == expected, "\(label): \(name) in /people")
                }
            }
            try await check(withoutGroups, "no group")
            expectStatus(try await t.get("/api/v1/co-managing-users/\(w.carl)", as: tokens["nina"]!), .notFound)
            // Ticket history names actors by the same rule: Carl, associated with Northwind too (which does not make
            // him one of Northwind's people), changes a shared Northwind ticket; Nina learns his id only once grouped.
            try await t.setUp(w.northwind, users: [w.nina, w.noah, w.carl])
            let shared = try await t.ticket(w.northwind, extra: ["queueId": .string(w.queue), "coManagedVisible": true]).id
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(shared)", ["priority": "high"], as: tokens["carl"]!)
            func actors(_ name: String) async throws -> Set<String> {
                let history = try await t.get("/api/v1/tickets/\(shared)/history", as: tokens[name]!)
                expectStatus(history, .ok)
                return Set(history.json["items"].array.compactMap { $0["actorId"].string?.lowercased() })
            }
            #expect(try await !actors("nina").contains(w.carl.lowercased()), "no group: Carl is unnamed in Nina's history")
            // The ticket page's assignee picker: Noah is offered to Nina, Carl (whom the ticket allows) only once grouped.
            func offered(_ name: String) async throws -> Set<String> {
                let page = try await t.page("/tickets/\(shared)", session: sessions[name]!)
                expectStatus(page, .ok)
                return Set(page.text.matches(of: /id="assignee-([0-9a-f-]{36})"/).map { String($0.1) })
            }
            let offeredBefore = try await offered("nina")
            #expect(offeredBefore.contains(w.noah.lowercased()) && !offeredBefore.contains(w.carl.lowercased()), "\(offeredBefore)")

            let group = try await t.create(
                "/api/v1/organization-groups", ["name": "Holding", "organizationIds": [.string(w.northwind), .string(w.contoso)]])
            #expect(Set(group["organizationIds"].array.compactMap(\.string).map { $0.lowercased() }) == ids([w.northwind, w.contoso]))
            try await check(withGroup, "Northwind and Contoso grouped")
            #expect(try await actors("nina").contains(w.carl.lowercased()), "grouped: Nina's history names Carl")
            #expect(try await offered("nina").contains(w.carl.lowercased()), "grouped: Carl is offered to Nina as an assignee")
            #expect(try await !offered("noah").contains(w.carl.lowercased()), "Noah, with the override off, is not offered Carl")
            #expect(try await !actors("noah").contains(w.carl.lowercased()), "Noah, with the override off, still does not learn Carl")
            // One user's page too, and the way back: the override switched on again for Noah.
            expectStatus(try await t.get("/api/v1/co-managing-users/\(w.carl)", as: tokens["nina"]!), .ok)
            expectStatus(try await t.get("/api/v1/co-managing-users/\(w.fay)", as: tokens["nina"]!), .notFound)
            let noah = try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(w.noah)", ["customerGroupOverride": true])
            #expect(noah["customerGroupOverride"] == true)
            #expect(try await Self.listed(t, as: tokens["noah"]!) == ids([w.nina, w.noah, w.carl]))

            // Contoso taken out of the group: back to each organization's own.
            try await t.must(.ok, .PATCH, "/api/v1/organization-groups/\(group.id)", ["organizationIds": [.string(w.northwind)]])
            #expect(try await Self.listed(t, as: tokens["nina"]!) == ids([w.nina, w.noah]))
            #expect(try await Self.listed(t, as: tokens["carl"]!) == ids([w.carl]))
            expectStatus(try await t.delete("/api/v1/organization-groups/\(group.id)"), .noContent)
            #expect(try await Self.listed(t, as: tokens["nina"]!) == ids([w.nina, w.noah]))
        }
    }

    @Test func groupsAreValidatedAndChangedOnlyByThoseWhoManageUsers() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let path = "/api/v1/organization-groups"
            func problem(_ reply: Reply, _ field: String) -> String? {
                reply.json["errors"].array.first { $0["field"].string == field }?["message"].string
            }
            var reply = try await t.post(path, ["organizationIds": [.string(w.northwind)]])
            expectStatus(reply, .unprocessableEntity)
            #expect(problem(reply, "name") != nil, "a name is required: \(reply)")
            reply = try await t.post(path, ["name": .string(String(repeating: "g", count: 101))])
            expectStatus(reply, .unprocessableEntity)
            #expect(problem(reply, "name")?.contains("100") == true)
            reply = try await t.post(path, ["name": "West", "organizationIds": ["not-an-id"]])
            expectStatus(reply, .unprocessableEntity)
            #expect(problem(reply, "organizationIds") != nil)
            reply = try await t.post(path, ["name": "West", "organizationIds": [.string(UUID().uuidString)]])
            expectStatus(reply, .unprocessableEntity)
            #expect(problem(reply, "organizationIds")?.contains("no organization") == true)

            let west = try await t.create(path, ["name": "West", "organizationIds": [.string(w.northwind)]])
            expectStatus(try await t.post(path, ["name": "West"]), .conflict)
            // An organization is in one group at most; the refusal names where it is.
            reply = try await t.post(path, ["name": "East", "organizationIds": [.string(w.northwind), .string(w.contoso)]])
            expectStatus(reply, .unprocessableEntity)
            #expect(problem(reply, "organizationIds")?.contains("Northwind is in 'West'") == true, "\(reply)")
            #expect(try await t.get("\(path)?limit=10").json["items"].array.count == 1, "nothing was created")

            // Staff read the groups; only those who manage users change them. Co-managing users see none.
            let (_, tess) = try await t.resource("tess", .technician)
            expectStatus(try await t.get("\(path)/\(west.id)", as: tess), .ok)
            expectStatus(try await t.post(path, ["name": "Mine"], as: tess), .forbidden)
            expectStatus(try await t.patch("\(path)/\(west.id)", ["name": "Mine"], as: tess), .forbidden)
            expectStatus(try await t.delete("\(path)/\(west.id)", as: tess), .forbidden)
            let nina = try await t.loginCoManaging(w.nina, "nina")
            #expect(try await t.get(path, as: nina).json["items"].array.isEmpty)
            expectStatus(try await t.get("\(path)/\(west.id)", as: nina), .notFound)
            expectStatus(try await t.post(path, ["name": "Ours"], as: nina), .forbidden)
            reply = try await t.patch("/api/v1/co-managing-users/\(w.nina)", ["customerGroupOverride": .null])
            expectStatus(reply, .unprocessableEntity)
            #expect(problem(reply, "customerGroupOverride") != nil)
            expectStatus(try await t.patch("/api/v1/co-managing-users/\(w.nina)", ["customerGroupOverride": false], as: nina), .forbidden)

            // A client-restricted administrator sees only its organizations in a group, keeps the others when it
            // edits, and cannot delete a group that holds organizations it cannot see.
            let both = try await t.create(path, ["name": "Both", "organizationIds": [.string(w.contoso), .string(w.fabrikam)]])
            let (_, rita) = try await t.resource("rita", .administrator, restrictions: [w.contoso])
            #expect(try await t.get("\(path)/\(both.id)", as: rita).json["organizationIds"] == [.string(w.contoso)])
            let listed = try await t.get("\(path)?limit=10", as: rita).json["items"].array
            #expect(listed.first { $0["id"] == both["id"] }?["organizationIds"] == [.string(w.contoso)])
            expectStatus(try await t.patch("\(path)/\(both.id)", ["organizationIds": [.string(w.fabrikam)]], as: rita), .unprocessableEntity)
            let renamed = try await t.must(.ok, .PATCH, "\(path)/\(both.id)", ["name": "Both of them", "organizationIds": []], as: rita)
            #expect(renamed["organizationIds"] == [])
            #expect(try await t.get("\(path)/\(both.id)").json["organizationIds"] == [.string(w.fabrikam)], "Fabrikam is kept")
            expectStatus(try await t.delete("\(path)/\(both.id)", as: rita), .conflict)
            expectStatus(try await t.delete("\(path)/\(both.id)"), .noContent)
            expectStatus(try await t.get("\(path)/\(both.id)"), .notFound)
        }
    }

    @Test func groupsAreCreatedEditedAndDeletedThroughTheirPages() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let list = try await t.page("/admin/organization-groups", session: admin)
            expectStatus(list, .ok)
            #expect(list.text.contains("href=\"/admin/organization-groups/new\"") && list.text.contains("aria-current=\"page\">Organization groups"))
            let form = try await t.page("/admin/organization-groups/new", session: admin)
            #expect(form.text.contains("name=\"organizationIds[]\" value=\"\(w.northwind.uppercased())\"") || form.text.contains(w.northwind))

            let refused = try await t.submitForm("/admin/organization-groups/new", [("name", ""), ("organizationIds[]", w.northwind)], session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"name-error\""), "the problem beside its field")
            let created = try await t.submitForm(
                "/admin/organization-groups/new", [("name", "Holding"), ("organizationIds[]", w.northwind), ("organizationIds[]", w.contoso)], session: admin)
            expectStatus(created, .seeOther)
            let id = ConfigurationPageTests.createdId(created)
            #expect(Set(try await t.get("/api/v1/organization-groups/\(id)").json["organizationIds"].array.compactMap(\.string)).count == 2)

            // Fabrikam cannot join another group while in this one: said beside the organizations.
            _ = try await t.create("/api/v1/organization-groups", ["name": "Solo", "organizationIds": [.string(w.fabrikam)]])
            let taken = try await t.submitForm("/admin/organization-groups/\(id)", [("name", "Holding"), ("organizationIds[]", w.fabrikam)], session: admin)
            expectStatus(taken, .unprocessableEntity)
            #expect(taken.text.contains("id=\"organizationIds-error\"") && taken.text.contains("Fabrikam is in"))

            // The organization page names its group; the co-managing user's page shows and changes the override.
            let organization = try await t.page("/organizations/\(w.northwind)", session: admin)
            #expect(organization.text.contains("id=\"organization-group\"") && organization.text.contains(">Holding</a>, with Contoso"))
            let fabrikamPage = try await t.page("/organizations/\(w.fabrikam)", session: admin)
            #expect(fabrikamPage.text.contains(">Solo</a>"))
            let userPage = try await t.page("/admin/co-managing-users/\(w.nina)?tab=security", session: admin)
            #expect(userPage.text.contains("id=\"group-override-form\"") && userPage.text.contains("<strong>Holding</strong>, with Contoso"))
            #expect(userPage.text.contains("id=\"customerGroupOverride\" name=\"customerGroupOverride\" value=\"on\" checked"))
            expectStatus(try await t.submitForm("/admin/co-managing-users/\(w.nina)/group-override", [], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/co-managing-users/\(w.nina)").json["customerGroupOverride"] == false)
            expectStatus(
                try await t.submitForm("/admin/co-managing-users/\(w.nina)/group-override", [("customerGroupOverride", "on")], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/co-managing-users/\(w.nina)").json["customerGroupOverride"] == true)

            // A technician reads the pages without a form to change them, and a forged post is refused.
            let (_, _) = try await t.resource("tess", .technician)
            let tess = try await t.pageSession("tess", TestApp.password)
            let readOnly = try await t.page("/admin/organization-groups/\(id)", session: tess)
            expectStatus(readOnly, .ok)
            #expect(readOnly.text.contains("disabled") && !readOnly.text.contains("id=\"save-item\"") && !readOnly.text.contains("id=\"delete-item\""))
            expectStatus(try await t.submitForm("/admin/organization-groups/\(id)", [("name", "Mine")], session: tess), .forbidden)

            // The delete asks first and says what changes.
            let confirm = try await t.page("/admin/organization-groups/\(id)/delete", session: admin)
            expectStatus(confirm, .ok)
            #expect(confirm.text.contains("Its organizations leave it: Contoso, Northwind."))
            #expect(confirm.text.contains("3 co-managing users of these organizations then see only the co-managing users of their own organization."))
            #expect(confirm.text.contains("id=\"confirm-delete\""))
            expectStatus(try await t.submitForm("/admin/organization-groups/\(id)/delete", [], session: admin), .seeOther)
            expectStatus(try await t.get("/api/v1/organization-groups/\(id)"), .notFound)
            #expect(try await t.page("/organizations/\(w.northwind)", session: admin).text.contains("In no organization group"))
        }
    }
}

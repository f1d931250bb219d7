import Foundation
import Testing
import VaporTesting

@testable import App

/// The admin pages of resources and co-managing teams: each change goes through the service the API uses,
/// a problem is shown beside its field with the user's input kept, a deactivation or deletion says first what
/// it will change, and whoever may not manage them gets no page and no form post.
@Suite struct AdminPageTests {
    static func createdId(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        ConfigurationPageTests.createdId(reply, sourceLocation: sourceLocation)
    }

    /// The form of a new technician; `extra` adds fields (checkboxes come as `name[]`).
    static func technicianForm(_ t: TestApp, username: String, _ extra: [(String, String)] = []) async throws -> [(String, String)] {
        [
            ("firstName", "Rick"), ("lastName", "Restricted"), ("username", username), ("email", "\(username)@msp.example"),
            ("password", TestApp.password), ("securityLevelId", try await t.securityLevelId(.technician)),
        ] + extra
    }

    @Test func aClientRestrictedTechnicianMadeOnThePageIsRestrictedByThePolicy() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let ownTicket = try await t.ticket(contoso).id
            let otherTicket = try await t.ticket(fabrikam).id
            let queue = try await t.queue("Service desk")
            let team = try await t.create("/api/v1/teams", ["name": "Network"]).id
            let admin = try await t.pageSession("admin", TestApp.adminPassword)

            let list = try await t.page("/admin/resources", session: admin)
            expectStatus(list, .ok)
            #expect(list.text.contains("href=\"/admin/resources/new\"") && list.text.contains("aria-current=\"page\">Resources"))
            let form = try await t.page("/admin/resources/new", session: admin)
            #expect(form.text.contains("name=\"allCustomers\" value=\"no\"") && form.text.contains("value=\"\(fabrikam.uppercased())\""))
            #expect(form.text.contains("name=\"queueIds[]\" value=\"\(queue.uppercased())\"") && form.text.contains("name=\"teamIds[]\""))

            // Problems beside their fields; the text and the ticks are kept.
            let restrictedTo = [("allCustomers", "no"), ("clientRestrictions[]", contoso), ("queueIds[]", queue), ("teamIds[]", team)]
            var wrong = try await Self.technicianForm(t, username: "rick smith", restrictedTo)
            wrong[wrong.firstIndex { $0.0 == "password" }!].1 = "short"
            wrong[wrong.firstIndex { $0.0 == "lastName" }!].1 = " "
            let refused = try await t.submitForm("/admin/resources/new", wrong, session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"username-error\"") && refused.text.contains("may contain only letters"))
            #expect(refused.text.contains("id=\"password-error\"") && refused.text.contains("id=\"lastName-error\""))
            #expect(refused.text.contains("value=\"rick smith\"") && refused.text.contains("value=\"Rick\""), "the user's text is kept")
            #expect(
                refused.text.contains(
                    "id=\"clientRestrictions-\(contoso.uppercased())\" name=\"clientRestrictions[]\" value=\"\(contoso.uppercased())\" checked"),
                "the ticks are kept")
            #expect(refused.text.contains("id=\"allCustomers-no\" name=\"allCustomers\" value=\"no\" checked"))
            #expect(!refused.text.contains("value=\"\(TestApp.password)\"") && !refused.text.contains("value=\"short\""), "a password is never echoed")

            let created = try await t.submitForm("/admin/resources/new", try await Self.technicianForm(t, username: "rick", restrictedTo), session: admin)
            expectStatus(created, .seeOther)
            let id = Self.createdId(created)
            let resource = try await t.get("/api/v1/resources/\(id)").json
            #expect(resource["clientRestrictions"].array.map { $0.string?.uppercased() } == [contoso.uppercased()])
            #expect(resource["queueIds"].array.map { $0.string?.uppercased() } == [queue.uppercased()])
            let members = try await t.get("/api/v1/teams/\(team)").json["members"].array
            #expect(members.count == 1 && members.first?["principalId"].string == id.uppercased() && members.first?["access"] == "full")

            // The policy restricts the new technician: the other organization's ticket is not found.
            let rick = try await t.login("rick", TestApp.password)
            expectStatus(try await t.get("/api/v1/tickets/\(ownTicket)", as: rick), .ok)
            expectStatus(try await t.get("/api/v1/tickets/\(otherTicket)", as: rick), .notFound)
            #expect(try await t.get("/api/v1/tickets", as: rick).json["items"].array.map(\.id) == [ownTicket])

            let edit = try await t.page("/admin/resources/\(id)", session: admin)
            #expect(edit.text.contains("id=\"allCustomers-no\" name=\"allCustomers\" value=\"no\" checked") && edit.text.contains("value=\"rick\""))
            // Allowing all customers again lifts the restriction; leaving the team takes it off the team.
            let lifted = try await Self.technicianForm(t, username: "rick", [("allCustomers", "yes"), ("queueIds[]", queue)]).filter { $0.0 != "password" }
            expectStatus(try await t.submitForm("/admin/resources/\(id)", lifted, session: admin), .seeOther)
            #expect(try await t.get("/api/v1/resources/\(id)").json["clientRestrictions"] == .null)
            #expect(try await t.get("/api/v1/teams/\(team)").json["members"].array.isEmpty)
            expectStatus(try await t.get("/api/v1/tickets/\(otherTicket)", as: try await t.login("rick", TestApp.password)), .ok)

            // A taken username is shown beside the username.
            let clash = try await t.submitForm("/admin/resources/new", try await Self.technicianForm(t, username: "rick"), session: admin)
            expectStatus(clash, .conflict)
            #expect(clash.text.contains("id=\"username-error\"") && clash.text.contains("is taken"))

            #expect(try await t.page("/admin/resources", session: admin).text.contains("<td>admin</td>"))
            let filtered = try await t.page("/admin/resources?q=restr", session: admin)
            #expect(filtered.text.contains("Rick Restricted") && !filtered.text.contains("<td>admin</td>"), "the filter matches the name")
        }
    }

    @Test func theResourceListPagesByUsernameAndKeepsItsFilters() async throws {
        try await withApp { t in
            let level = try await t.securityLevelId(.technician)
            for index in 0...ConfigurationPages.pageSize {
                _ = try await t.create(
                    "/api/v1/resources",
                    [
                        "username": .string(String(format: "tech%03d", index)), "password": .string(TestApp.password), "firstName": "Tech",
                        "lastName": .string(String(format: "Number %03d", index)), "securityLevelId": .string(level),
                    ])
            }
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let first = try await t.page("/admin/resources?q=tech&status=all", session: admin)
            #expect(first.text.contains("<td>tech049</td>") && !first.text.contains("<td>tech050</td>") && !first.text.contains("<td>admin</td>"))
            let next = try #require(first.text.firstMatch(of: /href="([^"]+)" rel="next"/).map { String($0.1).replacingOccurrences(of: "&amp;", with: "&") })
            #expect(next.contains("q=tech") && next.contains("status=all"), "the next page keeps the filters")
            let second = try await t.page(next, session: admin)
            expectStatus(second, .ok)
            #expect(second.text.contains("<td>tech050</td>") && !second.text.contains("<td>tech049</td>") && !second.text.contains("rel=\"next\""))
        }
    }

    @Test func deactivatingAResourceSaysWhatItWillChangeAndThenDoesIt() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let team = try await t.create("/api/v1/teams", ["name": "Network"]).id
            let tech = try await t.resource("tech", queueIds: [queue])
            let other = try await t.resource("other")
            expectStatus(try await t.patch("/api/v1/teams/\(team)", ["members": [["principalId": .string(tech.id), "access": "own"]]]), .ok)
            let alone = try await t.ticket(contoso, extra: ["assigneeIds": [.string(tech.id)]]).id
            let shared = try await t.ticket(contoso, extra: ["assigneeIds": [.string(tech.id), .string(other.id)]]).id
            let rule = try await t.create(
                "/api/v1/workflow-rules", ["name": "Give it to tech", "triggers": ["created"], "actions": ["update": ["assigneeIds": [.string(tech.id)]]]])
            let admin = try await t.pageSession("admin", TestApp.adminPassword)

            let confirm = try await t.page("/admin/resources/\(tech.id)/delete", session: admin)
            expectStatus(confirm, .ok)
            #expect(
                confirm.text.contains("Tickets you can see that they are an assignee of: 2") && confirm.text.contains("which leaves 1 ticket with no assignee"))
            #expect(confirm.text.contains("They leave their queues: Service desk.") && confirm.text.contains("They leave their teams: Network."))
            #expect(confirm.text.contains("Give it to tech") && confirm.text.contains("id=\"confirm-delete\""), "the rule it would break is named")
            #expect(try await t.get("/api/v1/workflow-rules/\(rule.id)").json["broken"] == .null, "showing the confirmation changes nothing")
            #expect(try await t.get("/api/v1/resources/\(tech.id)").json["active"] == true)

            expectStatus(try await t.submitForm("/admin/resources/\(tech.id)/delete", [], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/resources/\(tech.id)").json["active"] == false)
            #expect(try await t.get("/api/v1/tickets/\(alone)").json["assigneeIds"].array.isEmpty)
            #expect(try await t.get("/api/v1/tickets/\(shared)").json["assigneeIds"].array.map { $0.string?.uppercased() } == [other.id.uppercased()])
            #expect(try await t.get("/api/v1/resources/\(tech.id)").json["queueIds"].array.isEmpty)
            #expect(try await t.get("/api/v1/teams/\(team)").json["members"].array.isEmpty)
            #expect(try await t.get("/api/v1/workflow-rules/\(rule.id)").json["broken"].string != nil)
            expectStatus(try await t.get("/api/v1/me", as: tech.token), .unauthorized)
            #expect(try await t.page("/admin/resources?status=inactive", session: admin).text.contains("Tech Tester"))
            #expect(!(try await t.page("/admin/resources", session: admin)).text.contains("Tech Tester"), "the list shows active staff first")

            // Reactivation: they log in again; what they left stays left.
            let inactive = try await t.page("/admin/resources/\(tech.id)", session: admin)
            #expect(inactive.text.contains("id=\"extra-action-submit\"") && !inactive.text.contains("id=\"delete-item\""))
            expectStatus(try await t.submitForm("/admin/resources/\(tech.id)/reactivate", [], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/resources/\(tech.id)").json["active"] == true)
            expectStatus(try await t.get("/api/v1/me", as: try await t.login("tech", TestApp.password)), .ok)
            #expect(try await t.get("/api/v1/resources/\(tech.id)").json["queueIds"].array.isEmpty)
            #expect(!(try await t.page("/admin/resources/\(tech.id)", session: admin)).text.contains("id=\"extra-action-submit\""))

            // Oneself: the confirmation says why not, and the post is refused.
            let me = try await t.get("/api/v1/me").json.id
            let mine = try await t.page("/admin/resources/\(me)/delete", session: admin)
            #expect(mine.text.contains("id=\"delete-refused\"") && !mine.text.contains("id=\"confirm-delete\""))
            expectStatus(try await t.submitForm("/admin/resources/\(me)/delete", [], session: admin), .conflict)
            #expect(try await t.get("/api/v1/me").json.id == me)
        }
    }

    @Test func coManagingTeamsAreCreatedEditedAndDeletedOnTheirPages() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let queue = try await t.queue("Service desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
            let omar = try await t.coManagingUser("omar", organizationId: northwind, queueIds: [queue]).id
            let admin = try await t.pageSession("admin", TestApp.adminPassword)

            let form = try await t.page("/admin/co-managing-teams/new", session: admin)
            expectStatus(form, .ok)
            #expect(form.text.contains("name=\"memberIds[]\" value=\"\(nina.uppercased())\"") && form.text.contains("Northwind"))
            let empty = try await t.submitForm("/admin/co-managing-teams/new", [("name", " "), ("memberIds[]", nina)], session: admin)
            expectStatus(empty, .unprocessableEntity)
            #expect(empty.text.contains("id=\"name-error\"") && empty.text.contains("must not be empty"))
            #expect(empty.text.contains("value=\"\(nina.uppercased())\" checked"), "the ticks are kept")
            let unknown = try await t.submitForm("/admin/co-managing-teams/new", [("name", "Client IT"), ("memberIds[]", "nobody")], session: admin)
            expectStatus(unknown, .unprocessableEntity)
            #expect(unknown.text.contains("id=\"memberIds-error\"") && unknown.text.contains("value=\"Client IT\""))

            let created = try await t.submitForm("/admin/co-managing-teams/new", [("name", "Client IT"), ("memberIds[]", nina)], session: admin)
            expectStatus(created, .seeOther)
            let id = Self.createdId(created)
            #expect(try await t.get("/api/v1/co-managing-teams/\(id)").json["memberIds"].array.map { $0.string?.uppercased() } == [nina.uppercased()])
            expectStatus(
                try await t.submitForm(
                    "/admin/co-managing-teams/\(id)", [("name", "Northwind IT"), ("memberIds[]", nina), ("memberIds[]", omar)], session: admin), .seeOther)
            let team = try await t.get("/api/v1/co-managing-teams/\(id)").json
            #expect(team["name"] == "Northwind IT" && team["memberIds"].array.count == 2)
            _ = try await t.create("/api/v1/co-managing-teams", ["name": "Billing"])
            let clash = try await t.submitForm("/admin/co-managing-teams/\(id)", [("name", "Billing")], session: admin)
            expectStatus(clash, .conflict)
            #expect(clash.text.contains("id=\"name-error\"") && clash.text.contains("already exists") && clash.text.contains("value=\"Billing\""))
            #expect(try await t.page("/admin/co-managing-teams?q=north", session: admin).text.contains("Northwind IT"))

            try await t.setUp(northwind, teams: [id])
            let page = try await t.page("/admin/co-managing-teams/\(id)", session: admin)
            #expect(page.text.contains("id=\"related\"") && page.text.contains(">Northwind</a>"), "the organizations it is associated with")
            let confirm = try await t.page("/admin/co-managing-teams/\(id)/delete", session: admin)
            #expect(confirm.text.contains("Its 2 members leave it.") && confirm.text.contains("Its associations with Northwind are deleted"))
            #expect(try await t.get("/api/v1/co-managing-teams/\(id)").status == .ok, "showing the confirmation changes nothing")
            expectStatus(try await t.submitForm("/admin/co-managing-teams/\(id)/delete", [], session: admin), .seeOther)
            expectStatus(try await t.get("/api/v1/co-managing-teams/\(id)"), .notFound)
            #expect(try await t.get("/api/v1/organizations/\(northwind)/co-management").json["coManagingTeamIds"].array.isEmpty)
        }
    }

    /// The organization page sets the account manager and the MSP side of the account team; associated co-managing
    /// users are on it, marked co-managed; refusals are shown beside their fields; a technician only reads it.
    @Test func theAccountTeamIsKeptOnTheOrganizationPage() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
            try await t.setUp(northwind, users: [nina])
            let tara = try await t.resource("tara")
            let rick = try await t.resource("rick", restrictions: [contoso])
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let path = "/organizations/\(northwind)/account-team"
            func team() async throws -> JSON { try await t.get("/api/v1/organizations/\(northwind)/account-team").json }

            let page = try await t.page("/organizations/\(northwind)", session: admin)
            #expect(page.text.contains("id=\"account-team\"") && page.text.contains("Nina Comanager (nina)") && page.text.contains(">Co-managed<"))
            #expect(try await team()["coManagingUserIds"].array.map { $0.string?.uppercased() } == [nina.uppercased()])

            expectStatus(try await t.submitForm(path, [("resourceId", tara.id)], session: admin), .seeOther)
            #expect(try await team()["resourceIds"].array.map { $0.string?.uppercased() } == [tara.id.uppercased()])
            let restricted = try await t.submitForm(path, [("resourceId", rick.id)], session: admin)
            expectStatus(restricted, .unprocessableEntity)
            #expect(restricted.text.contains("id=\"resourceId-error\"") && restricted.text.contains("limited to other organizations"))

            expectStatus(try await t.submitForm(path + "/manager", [("accountManagerId", nina)], session: admin), .seeOther)
            #expect(try await team()["accountManagerId"].string?.uppercased() == nina.uppercased())
            #expect(try await t.page("/organizations/\(northwind)", session: admin).text.contains("Nina Comanager (nina) (co-managed)</strong>"))
            let outsider = try await t.submitForm(path + "/manager", [("accountManagerId", rick.id)], session: admin)
            expectStatus(outsider, .unprocessableEntity)
            #expect(outsider.text.contains("id=\"accountManagerId-error\"") && outsider.text.contains("must be on the account team"))
            #expect(outsider.text.contains("value=\"\(rick.id.uppercased())\" selected") == false, "only team members are offered")

            expectStatus(try await t.submitForm(path + "/manager", [("accountManagerId", tara.id)], session: admin), .seeOther)
            let stays = try await t.submitForm(path + "/\(tara.id)/remove", [], session: admin)
            expectStatus(stays, .unprocessableEntity)
            #expect(stays.text.contains("ccount manager must stay on the account team") && stays.text.contains("class=\"field-error\""))
            #expect(try await team()["resourceIds"].array.count == 1)

            // A technician reads the team; changing it is refused.
            let session = try await t.pageSession("tara", TestApp.password)
            let read = try await t.page("/organizations/\(northwind)", session: session)
            #expect(read.text.contains("id=\"account-team\"") && !read.text.contains("id=\"add-account-member\""))
            expectStatus(try await t.submitForm(path, [("resourceId", tara.id)], session: session), .forbidden)
            expectStatus(try await t.put("/api/v1/organizations/\(northwind)/account-team", ["resourceIds": []], as: tara.token), .forbidden)

            // Deactivating the account manager takes them off the team, and the organization has no account manager.
            expectStatus(try await t.delete("/api/v1/resources/\(tara.id)"), .noContent)
            let after = try await team()
            #expect(after["resourceIds"].array.isEmpty && after["accountManagerId"] == .null)
            expectStatus(try await t.submitForm(path + "/\(UUID())/remove", [], session: admin), .notFound)
        }
    }

    /// A technician may read MSP staff through the API but has no resource or co-managing team page, and no form post works.
    @Test func whoMayNotManageResourcesGetsNoPageAndNoPost() async throws {
        try await withApp { t in
            let tech = try await t.resource("tech")
            let team = try await t.create("/api/v1/co-managing-teams", ["name": "Client IT"]).id
            let session = try await t.pageSession("tech", TestApp.password)
            let before = try await t.rowCounts()

            for (path, id, fields) in [
                ("/admin/resources", tech.id, try await Self.technicianForm(t, username: "mine", [("allCustomers", "yes")])),
                ("/admin/co-managing-teams", team, [("name", "Mine")]),
            ] {
                for page in [path, path + "/new", path + "/\(id)", path + "/\(id)/delete"] {
                    expectStatus(try await t.page(page, session: session), .forbidden)
                }
                expectStatus(try await t.submitForm(path + "/new", fields, session: session), .forbidden)
                expectStatus(try await t.submitForm(path + "/\(id)", fields, session: session), .forbidden)
                expectStatus(try await t.submitForm(path + "/\(id)/delete", [], session: session), .forbidden)
            }
            expectStatus(try await t.submitForm("/admin/resources/\(tech.id)/reactivate", [], session: session), .forbidden)
            #expect(try await t.rowCounts() == before, "nothing was written")
            #expect(try await t.get("/api/v1/resources/\(tech.id)").json["active"] == true)
            let tabs = try await t.page("/admin/audit", session: session).text
            #expect(!tabs.contains("href=\"/admin/resources\"") && !tabs.contains("href=\"/admin/co-managing-teams\""))
            let adminTabs = try await t.page("/admin/queues", session: try await t.pageSession("admin", TestApp.adminPassword)).text
            #expect(adminTabs.contains("href=\"/admin/resources\"") && adminTabs.contains("href=\"/admin/co-managing-teams\""))
        }
    }
}

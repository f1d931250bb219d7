import Foundation
import Testing
import VaporTesting

@testable import App

/// The admin pages of queues, teams, roles and internal locations: each change goes through the API's
/// collection, its problems are shown beside their fields with the user's text kept, a delete asks first
/// on its own page, and whoever may not change configuration only reads it.
@Suite struct ConfigurationPageTests {
    /// The id in a `303`'s location (`/admin/queues/<id>?notice=created`).
    static func createdId(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let location = reply.headers.first(name: .location) ?? ""
        let id = location.firstMatch(of: /\/admin\/[a-z-]+\/([0-9A-Fa-f-]{36})/).map { String($0.1) }
        #expect(id != nil, "no id in the location of \(reply)", sourceLocation: sourceLocation)
        return id ?? ""
    }

    @Test func queuesAreCreatedEditedFilteredAndDeletedThroughTheirPages() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let list = try await t.page("/admin/queues", session: admin)
            expectStatus(list, .ok)
            #expect(list.text.contains("href=\"/admin/queues/new\"") && list.text.contains("aria-current=\"page\">Queues"))
            expectStatus(try await t.page("/admin/queues/new", session: admin), .ok)

            let long = String(repeating: "q", count: 101)
            let refused = try await t.submitForm("/admin/queues/new", [("name", long)], session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"name-error\"") && refused.text.contains("at most 100 characters"), "the problem beside its field")
            #expect(refused.text.contains("value=\"\(long)\""), "the user's text is kept")

            let created = try await t.submitForm("/admin/queues/new", [("name", "Service desk")], session: admin)
            expectStatus(created, .seeOther)
            let id = Self.createdId(created)
            #expect(try await t.get("/api/v1/queues/\(id)").json["name"] == "Service desk")
            #expect(try await t.page("/admin/queues/\(id)?notice=created", session: admin).text.contains("It was created."))

            expectStatus(try await t.submitForm("/admin/queues/\(id)", [("name", "Front desk")], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/queues/\(id)").json["name"] == "Front desk")
            _ = try await t.queue("Billing")
            let clash = try await t.submitForm("/admin/queues/\(id)", [("name", "Billing")], session: admin)
            expectStatus(clash, .conflict)
            #expect(clash.text.contains("already exists") && clash.text.contains("value=\"Billing\""))
            #expect(try await t.get("/api/v1/queues/\(id)").json["name"] == "Front desk")

            let filtered = try await t.page("/admin/queues?q=FRONT", session: admin)
            #expect(filtered.text.contains("Front desk") && !filtered.text.contains(">Billing<"), "the filter matches part of the name, in any case")

            // A queue with a ticket: the confirmation says so and the delete is refused; a rule naming it is not touched by the look.
            let organization = try await t.organization("Contoso")
            let ticket = try await t.ticket(organization, extra: ["queueId": .string(id)])
            let rule = try await t.create("/api/v1/ticket-rules", ["name": "To the front desk", "outcome": ["queueId": .string(id)]])
            let confirm = try await t.page("/admin/queues/\(id)/delete", session: admin)
            expectStatus(confirm, .ok)
            #expect(confirm.text.contains("Tickets you can see in this queue: 1.") && confirm.text.contains("id=\"delete-refused\""))
            #expect(confirm.text.contains("Tickets are in this queue") && !confirm.text.contains("id=\"confirm-delete\""))
            expectStatus(try await t.submitForm("/admin/queues/\(id)/delete", [], session: admin), .conflict)
            expectStatus(try await t.get("/api/v1/queues/\(id)"), .ok)

            expectStatus(try await t.patch("/api/v1/tickets/\(ticket.id)", ["queueId": .null]), .ok)
            let ready = try await t.page("/admin/queues/\(id)/delete", session: admin)
            #expect(ready.text.contains("id=\"confirm-delete\"") && ready.text.contains("To the front desk"), "the rule it would break is named")
            #expect(try await t.get("/api/v1/ticket-rules/\(rule.id)").json["broken"] == .null, "showing the confirmation changes nothing")
            let deleted = try await t.submitForm("/admin/queues/\(id)/delete", [], session: admin)
            expectStatus(deleted, .seeOther)
            #expect(deleted.headers.first(name: .location) == "/admin/queues?notice=deleted")
            expectStatus(try await t.get("/api/v1/queues/\(id)"), .notFound)
            #expect(try await t.get("/api/v1/ticket-rules/\(rule.id)").json["broken"].string != nil)
            expectStatus(try await t.page("/admin/queues/\(id)", session: admin), .notFound)
        }
    }

    @Test func theQueueListPagesByName() async throws {
        try await withApp { t in
            for index in 0..<(ConfigurationPages.pageSize + 1) { _ = try await t.queue(String(format: "Queue %03d", index)) }
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let first = try await t.page("/admin/queues", session: admin)
            #expect(first.text.contains("Queue 049") && !first.text.contains("Queue 050"))
            let next = try #require(first.text.firstMatch(of: /href="([^"]+)" rel="next"/).map { String($0.1).replacingOccurrences(of: "&amp;", with: "&") })
            let second = try await t.page(next, session: admin)
            #expect(second.text.contains("Queue 050") && !second.text.contains("Queue 049") && !second.text.contains("rel=\"next\""))
        }
    }

    @Test func teamsAndTheirMembersAreManagedOnTheirPages() async throws {
        try await withApp { t in
            let tech = try await t.resource("tech")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let empty = try await t.submitForm("/admin/teams/new", [("name", "  ")], session: admin)
            expectStatus(empty, .unprocessableEntity)
            #expect(empty.text.contains("id=\"name-error\"") && empty.text.contains("must not be empty"))

            let created = try await t.submitForm("/admin/teams/new", [("name", "Network")], session: admin)
            expectStatus(created, .seeOther)
            let id = Self.createdId(created)
            expectStatus(try await t.submitForm("/admin/teams/\(id)", [("name", "Networking")], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/teams/\(id)").json["name"] == "Networking")

            let page = try await t.page("/admin/teams/\(id)", session: admin)
            #expect(page.text.contains("id=\"add-member\"") && page.text.contains("value=\"\(tech.id.uppercased())\""), "the technician can be added")
            let added = try await t.submitForm("/admin/teams/\(id)/members", [("principalId", tech.id), ("access", "own")], session: admin)
            expectStatus(added, .seeOther)
            var members = try await t.get("/api/v1/teams/\(id)").json["members"].array
            #expect(members.count == 1 && members.first?["access"] == "own")
            #expect(try await t.page("/admin/teams/\(id)", session: admin).text.contains("Tech Tester"))

            // The API's refusal of an access level, beside the add form's access field, with the chosen person kept.
            let sam = try await t.resource("sam").id
            let refused = try await t.submitForm("/admin/teams/\(id)/members", [("principalId", sam), ("access", "boss")], session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"access-error\"") && refused.text.contains("is not one of full, own, readOnly"))
            #expect(refused.text.contains("value=\"\(sam.uppercased())\" selected"), "the chosen person is kept")
            let nobody = try await t.submitForm("/admin/teams/\(id)/members", [("principalId", ""), ("access", "full")], session: admin)
            expectStatus(nobody, .unprocessableEntity)
            #expect(nobody.text.contains("id=\"principalId-error\""))

            expectStatus(try await t.submitForm("/admin/teams/\(id)/members/\(tech.id)", [("access", "readOnly")], session: admin), .seeOther)
            members = try await t.get("/api/v1/teams/\(id)").json["members"].array
            #expect(members.count == 1 && members.first?["access"] == "readOnly")
            let wrongAccess = try await t.submitForm("/admin/teams/\(id)/members/\(tech.id)", [("access", "boss")], session: admin)
            expectStatus(wrongAccess, .unprocessableEntity)
            #expect(wrongAccess.text.contains("is not one of full, own, readOnly"))
            expectStatus(try await t.submitForm("/admin/teams/\(id)/members/\(UUID())", [("access", "own")], session: admin), .notFound)

            let confirm = try await t.page("/admin/teams/\(id)/delete", session: admin)
            #expect(confirm.text.contains("Its one member leaves it") && confirm.text.contains("id=\"confirm-delete\""))
            expectStatus(try await t.submitForm("/admin/teams/\(id)/members/\(tech.id)/remove", [], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/teams/\(id)").json["members"].array.isEmpty)

            expectStatus(try await t.submitForm("/admin/teams/\(id)/delete", [], session: admin), .seeOther)
            expectStatus(try await t.get("/api/v1/teams/\(id)"), .notFound)
        }
    }

    @Test func rolesKeepTheirRateAndMultiplier() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let notNumber = try await t.submitForm(
                "/admin/roles/new", [("name", "Engineer"), ("hourlyRate", "lots"), ("blockHourMultiplier", "1")], session: admin)
            expectStatus(notNumber, .unprocessableEntity)
            #expect(
                notNumber.text.contains("id=\"hourlyRate-error\"") && notNumber.text.contains("is not a number") && notNumber.text.contains("value=\"lots\""))
            let outOfRange = try await t.submitForm(
                "/admin/roles/new", [("name", "Engineer"), ("hourlyRate", "-5"), ("blockHourMultiplier", "1")], session: admin)
            expectStatus(outOfRange, .unprocessableEntity)
            #expect(outOfRange.text.contains("id=\"hourlyRate-error\"") && outOfRange.text.contains("must be between"))
            #expect(outOfRange.text.contains("value=\"-5\"") && outOfRange.text.contains("value=\"Engineer\""))

            let created = try await t.submitForm(
                "/admin/roles/new", [("name", "Engineer"), ("hourlyRate", "120"), ("blockHourMultiplier", "1.5")], session: admin)
            expectStatus(created, .seeOther)
            let id = Self.createdId(created)
            var role = try await t.get("/api/v1/roles/\(id)").json
            #expect(role["hourlyRate"].double == 120 && role["blockHourMultiplier"].double == 1.5)
            #expect(try await t.page("/admin/roles", session: admin).text.contains("<td>1.5</td>"))

            expectStatus(
                try await t.submitForm(
                    "/admin/roles/\(id)", [("name", "Senior engineer"), ("hourlyRate", "95.5"), ("blockHourMultiplier", "2")], session: admin),
                .seeOther)
            role = try await t.get("/api/v1/roles/\(id)").json
            #expect(role["name"] == "Senior engineer" && role["hourlyRate"].double == 95.5 && role["blockHourMultiplier"].double == 2)
            let edit = try await t.page("/admin/roles/\(id)", session: admin)
            #expect(edit.text.contains("value=\"95.5\"") && edit.text.contains("href=\"/admin/roles/\(id.uppercased())/delete\""))

            let confirm = try await t.page("/admin/roles/\(id)/delete", session: admin)
            #expect(confirm.text.contains("Co-managing users you can see with this role: 0."))
            expectStatus(try await t.submitForm("/admin/roles/\(id)/delete", [], session: admin), .seeOther)
            expectStatus(try await t.get("/api/v1/roles/\(id)"), .notFound)
        }
    }

    @Test func internalLocationsKeepTimeZoneHoursAndHolidays() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let form = try await t.page("/admin/internal-locations/new", session: admin)
            #expect(form.text.contains("name=\"open1\" value=\"on\"") && form.text.contains("<option value=\"Europe/London\">"))

            var fields: [(String, String)] = [("name", "Head office"), ("timeZone", "Mars/Olympus"), ("holidays", "2026-12-25\nsomeday")]
            for day in 1...5 { fields += [("open\(day)", "on"), ("start\(day)", "09:00"), ("end\(day)", "17:30")] }
            fields += [("start6", "10:00"), ("end6", "14:00"), ("start7", "09:00"), ("end7", "17:00")]
            var wrong = fields
            wrong[wrong.firstIndex { $0.0 == "start2" }!].1 = "9am"
            let refused = try await t.submitForm("/admin/internal-locations/new", wrong, session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"timeZone-error\"") && refused.text.contains("is not an IANA time zone"))
            #expect(refused.text.contains("id=\"day2-error\"") && refused.text.contains("must be a time HH:MM") && refused.text.contains("value=\"9am\""))
            #expect(refused.text.contains("id=\"holidays-error\"") && refused.text.contains("someday"))
            #expect(refused.text.contains("value=\"Mars/Olympus\""), "the user's text is kept")

            fields[fields.firstIndex { $0.0 == "timeZone" }!].1 = "Europe/London"
            fields[fields.firstIndex { $0.0 == "holidays" }!].1 = "2026-12-25\n2026-12-26"
            let created = try await t.submitForm("/admin/internal-locations/new", fields, session: admin)
            expectStatus(created, .seeOther)
            let id = Self.createdId(created)
            var location = try await t.get("/api/v1/internal-locations/\(id)").json
            #expect(location["timeZone"] == "Europe/London" && location["holidays"].array.count == 2)
            #expect(location["businessHours"].array.map { $0["weekday"].int } == [1, 2, 3, 4, 5])
            #expect(location["businessHours"][0]["end"] == "17:30")

            // Friday off, Saturday open.
            var edited = fields.filter { $0.0 != "open5" }
            edited.append(("open6", "on"))
            expectStatus(try await t.submitForm("/admin/internal-locations/\(id)", edited, session: admin), .seeOther)
            location = try await t.get("/api/v1/internal-locations/\(id)").json
            #expect(location["businessHours"].array.map { $0["weekday"].int } == [1, 2, 3, 4, 6])
            #expect(location["businessHours"][4]["start"] == "10:00")
            let page = try await t.page("/admin/internal-locations", session: admin)
            #expect(page.text.contains("Europe/London") && page.text.contains("Sat 10:00–14:00"))

            let organization = try await t.organization("Contoso")
            let site = try await t.site(organization, "HQ")
            expectStatus(try await t.patch("/api/v1/sites/\(site)", ["internalLocationId": .string(id)]), .ok)
            let confirm = try await t.page("/admin/internal-locations/\(id)/delete", session: admin)
            #expect(confirm.text.contains("Sites you can see that use it: 1."))
            expectStatus(try await t.submitForm("/admin/internal-locations/\(id)/delete", [], session: admin), .seeOther)
            expectStatus(try await t.get("/api/v1/internal-locations/\(id)"), .notFound)
            #expect(try await t.get("/api/v1/sites/\(site)").json["internalLocationId"] == .null)
        }
    }

    /// A technician reads the lists (as the API lets them) but every change is refused, and no admin tab is offered.
    @Test func whoMayNotChangeConfigurationOnlyReadsIt() async throws {
        try await withApp { t in
            let queue = try await t.queue("Service desk")
            let team = try await t.create("/api/v1/teams", ["name": "Network"]).id
            let tech = try await t.resource("tech")
            let session = try await t.pageSession("tech", TestApp.password)
            let before = try await t.rowCounts()

            for path in ["/admin/queues", "/admin/teams", "/admin/roles", "/admin/internal-locations"] {
                let list = try await t.page(path, session: session)
                expectStatus(list, .ok)
                #expect(list.text.contains("id=\"read-only\"") && !list.text.contains("id=\"new-item\"") && !list.text.contains(">Delete<"), "\(path)")
                expectStatus(try await t.page(path + "/new", session: session), .forbidden)
                expectStatus(try await t.submitForm(path + "/new", [("name", "Mine")], session: session), .forbidden)
            }
            let form = try await t.page("/admin/queues/\(queue)", session: session)
            expectStatus(form, .ok)
            #expect(form.text.contains("disabled") && !form.text.contains("id=\"save-item\"") && !form.text.contains("id=\"delete-item\""))
            expectStatus(try await t.submitForm("/admin/queues/\(queue)", [("name", "Taken over")], session: session), .forbidden)
            expectStatus(try await t.page("/admin/queues/\(queue)/delete", session: session), .forbidden)
            expectStatus(try await t.submitForm("/admin/queues/\(queue)/delete", [], session: session), .forbidden)
            expectStatus(try await t.submitForm("/admin/teams/\(team)/members", [("principalId", tech.id), ("access", "full")], session: session), .forbidden)
            #expect(!(try await t.page("/admin/teams/\(team)", session: session)).text.contains("id=\"add-member\""))
            #expect(try await t.rowCounts() == before, "nothing was written")
            // A technician's admin area is the audit log (report access); no configuration tab.
            let technicianTabs = try await t.page("/admin/audit", session: session).text
            for path in ["/admin/queues", "/admin/teams", "/admin/roles", "/admin/internal-locations"] {
                #expect(!technicianTabs.contains("href=\"\(path)\""), "no \(path) tab for a technician")
            }

            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let tabs = try await t.page("/admin/rules", session: admin).text
            for path in ["/admin/queues", "/admin/teams", "/admin/roles", "/admin/internal-locations"] { #expect(tabs.contains("href=\"\(path)\"")) }
            expectStatus(try await t.page("/admin/queues/\(UUID())", session: admin), .notFound)
        }
    }
}

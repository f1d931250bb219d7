import Foundation
import Testing
import VaporTesting

@testable import App

/// The ticket page: one conversation, one composer, and the ticket's own edit form, which writes through the
/// API's PATCH with the version it was read at.
@Suite struct TicketPageTests {
    /// The version the page's edit form carries.
    static func editVersion(_ page: Reply, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let form = page.text.firstRange(of: "id=\"edit-form\"").map { page.text[$0.upperBound...] } ?? ""
        let version = form.firstMatch(of: /name="version" value="(\d+)"/).map { String($0.1) }
        #expect(version != nil, "no edit form in \(page)", sourceLocation: sourceLocation)
        return version ?? ""
    }

    /// The edit form's fields as a browser posts them, from the ticket's current values; `changes` replace some.
    static func editFields(_ ticket: JSON, version: String, assignees: [String]? = nil, _ changes: [(String, String)] = []) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("version", version), ("title", ticket["title"].string ?? ""), ("description", ticket["description"].string ?? ""),
            ("status", ticket["status"].string ?? ""), ("priority", ticket["priority"].string ?? ""), ("queueId", ticket["queueId"].string ?? ""),
            ("teamId", ticket["teamId"].string ?? ""), ("dueAt", ""), ("coManagedVisible", ticket["coManagedVisible"] == true ? "true" : "false"),
            ("assigneesShown", "1"),
        ]
        for (name, value) in changes {
            if let index = fields.firstIndex(where: { $0.0 == name }) { fields[index].1 = value } else { fields.append((name, value)) }
        }
        for id in assignees ?? ticket["assigneeIds"].array.compactMap(\.string) { fields.append(("assigneeIds[]", id)) }
        return fields
    }

    /// A typed time is read only in the form browsers send: a year of more than four digits (which would overflow
    /// PostgreSQL's timestamps) or a day its month lacks is refused; a time the clocks skip reads as the moment after.
    @Test func typedTimesAreReadStrictly() throws {
        let newYork = PageZone(named: "America/New_York")
        func utc(_ text: String) -> String? { newYork.parseField(text).map { ISO8601DateFormatter().string(from: $0) } }
        #expect(utc("2026-12-31T17:00") == "2026-12-31T22:00:00Z")
        #expect(utc("2026-07-01T17:00:30") == "2026-07-01T21:00:30Z")
        #expect(utc("2026-12-31") == "2026-12-31T05:00:00Z")
        #expect(utc("2028-02-29") != nil)
        for refused in [
            "300000-01-01T00:00", "10000-01-01", "2026-02-30", "2026-13-01T00:00", "2026-12-31T24:00", "2026-12-31T17:60", "0000-01-01", "2026-12-31T17:00Z",
            "26-12-31", " 2026-12-31",
        ] {
            #expect(newYork.parseField(refused) == nil, "\(refused)")
        }
        // 02:30 on 8 March 2026 does not exist in New York (the clocks go from 02:00 to 03:00).
        let skipped = try #require(newYork.parseField("2026-03-08T02:30"))
        let (three, halfPast) = (try #require(newYork.parseField("2026-03-08T03:00")), try #require(newYork.parseField("2026-03-08T03:30")))
        #expect(skipped >= three && skipped <= halfPast)
    }

    /// A person with a time zone sees the pages' times in it and types them in it (due date, time entries); the API
    /// stays in UTC, and someone without one sees UTC.
    @Test func timesAreShownAndReadInThePersonsTimeZone() async throws {
        try await withApp { t in
            let organization = try await t.organization("Northwind")
            let role = try await t.role("Engineer")
            let nina = try await t.resource("nina")
            expectStatus(try await t.patch("/api/v1/resources/\(nina.id)", ["timeZone": "America/New_York"]), .ok)
            _ = try await t.resource("rick")
            let ticket = try await t.ticket(organization, "Printer offline")
            let session = try await t.pageSession("nina", TestApp.password)

            let page = try await t.page("/tickets/\(ticket.id)", session: session)
            #expect(page.text.contains("Due (America/New_York)") && page.text.contains("Started (America/New_York)"))
            let saved = try await t.submitForm(
                "/tickets/\(ticket.id)/edit", Self.editFields(ticket, version: Self.editVersion(page), [("dueAt", "2026-12-31T17:00")]),
                session: session)
            expectStatus(saved, .seeOther)
            #expect(try await t.get("/api/v1/tickets/\(ticket.id)").json["dueAt"] == "2026-12-31T22:00:00Z", "17:00 in New York is 22:00 UTC")
            let shown = try await t.page("/tickets/\(ticket.id)", session: session).text
            #expect(shown.contains("31 Dec 2026, 17:00 EST"), "the due date and the change that set it, in her zone")
            #expect(shown.contains("id=\"edit-due\" name=\"dueAt\" type=\"datetime-local\" value=\"2026-12-31T17:00\""))
            // The form sent back untouched is no change: its value reads back to the same moment.
            let untouched = try await t.submitForm(
                "/tickets/\(ticket.id)/edit",
                Self.editFields(try await t.get("/api/v1/tickets/\(ticket.id)").json, version: "2", [("dueAt", "2026-12-31T17:00")]), session: session)
            #expect(untouched.headers.first(name: .location)?.contains("notice=unchanged") == true)

            // Time entries too, in summer time.
            let logged = try await t.submitForm(
                "/tickets/\(ticket.id)/time-entries",
                [("startedAt", "2026-07-01T09:00"), ("endedAt", "2026-07-01T10:30"), ("summary", "Switch"), ("roleId", role), ("billable", "")],
                session: session)
            #expect(logged.status == .seeOther, "\(logged)")
            let entry = try await t.get("/api/v1/tickets/\(ticket.id)/time-entries").json["items"][0]
            #expect(entry["startedAt"] == "2026-07-01T13:00:00Z" && entry["minutes"] == 90)
            let refused = try await t.submitForm(
                "/tickets/\(ticket.id)/time-entries", [("startedAt", "yesterday"), ("minutes", "5"), ("roleId", role)], session: session)
            #expect(refused.text.contains("is not a date and time (YYYY-MM-DDTHH:MM, America/New_York)"))

            // Someone without a zone sees UTC.
            let rick = try await t.pageSession("rick", TestApp.password)
            let utc = try await t.page("/tickets/\(ticket.id)", session: rick).text
            #expect(utc.contains("31 Dec 2026, 22:00 UTC") && !utc.contains("EST"))
        }
    }

    @Test func aTechnicianEditsAndAssignsThroughThePage() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Escalations")
            let team = try await t.create("/api/v1/teams", ["name": "Night shift"]).id
            let tara = try await t.resource("tara")
            let rick = try await t.resource("rick", restrictions: [contoso])
            let ticket = try await t.ticket(northwind, "Printer offline")
            let id = ticket.id
            let session = try await t.pageSession("tara", TestApp.password)

            let page = try await t.page("/tickets/\(id)", session: session)
            expectStatus(page, .ok)
            #expect(page.text.contains("id=\"edit-form\""))
            #expect(page.text.contains("value=\"\(tara.id)\""), "tara may be assigned")
            #expect(!page.text.contains("value=\"\(rick.id)\""), "rick's client restrictions exclude Northwind: not offered")
            let version = Self.editVersion(page)

            let saved = try await t.submitForm(
                "/tickets/\(id)/edit",
                Self.editFields(
                    ticket, version: version, assignees: [tara.id],
                    [
                        ("title", "Printer offline on the 3rd floor"), ("priority", "high"), ("status", "inProgress"), ("queueId", queue),
                        ("teamId", team), ("dueAt", "2026-12-31T17:00"),
                    ]), session: session)
            expectStatus(saved, .seeOther)
            let after = try await t.get("/api/v1/tickets/\(id)").json
            #expect(after["title"] == "Printer offline on the 3rd floor")
            #expect(after["priority"] == "high" && after["status"] == "inProgress")
            #expect(after["queueId"] == .string(queue) && after["teamId"] == .string(team))
            #expect(after["assigneeIds"].array.compactMap(\.string) == [tara.id])
            #expect(after["dueAt"].string?.hasPrefix("2026-12-31T17:00") == true)
            #expect(after["version"] == 2, "one PATCH, one version")

            // The change is in the conversation, in words, with who made it.
            let shown = try await t.page("/tickets/\(id)?notice=saved", session: session).text
            #expect(shown.contains("The ticket was saved."))
            #expect(shown.contains("changed the priority from Medium to High") && shown.contains("assigned Tara Tester"))
            #expect(shown.contains("changed the status from New to In progress") && shown.contains("put it in the queue Escalations"))

            // Saving the form untouched changes nothing.
            let untouched = try await t.submitForm(
                "/tickets/\(id)/edit", Self.editFields(after, version: "2", [("dueAt", "2026-12-31T17:00")]), session: session)
            expectStatus(untouched, .seeOther)
            #expect(untouched.headers.first(name: .location)?.contains("notice=unchanged") == true)
            #expect(try await t.get("/api/v1/tickets/\(id)").json["version"] == 2)

            // Someone the API refuses to assign is refused beside the field, with the user's input kept.
            let refused = try await t.submitForm(
                "/tickets/\(id)/edit", Self.editFields(after, version: "2", assignees: [tara.id, rick.id], [("title", "Kept title")]), session: session)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"edit-assignees-error\""))
            #expect(refused.text.contains("value=\"Kept title\""))
            #expect(try await t.get("/api/v1/tickets/\(id)").json["version"] == 2)
        }
    }

    @Test func aStaleEditIsRefusedWithTheInputKeptAndTheOtherChangeNamed() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            _ = try await t.resource("tara")
            let ticket = try await t.ticket(northwind, "Printer offline")
            let id = ticket.id
            let session = try await t.pageSession("tara", TestApp.password)
            let version = Self.editVersion(try await t.page("/tickets/\(id)", session: session))

            // Someone else changes the priority through the API while tara has the form open.
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(id)", ["priority": "critical"])
            let admin = try await t.get("/api/v1/resources/\(t.adminId)").json
            let adminName = "\(admin["firstName"].string ?? "") \(admin["lastName"].string ?? "")"

            let stale = try await t.submitForm(
                "/tickets/\(id)/edit", Self.editFields(ticket, version: version, [("title", "Tara's better title")]), session: session)
            expectStatus(stale, .conflict)
            #expect(try await t.get("/api/v1/tickets/\(id)").json["title"] == "Printer offline", "a stale form saves nothing")
            #expect(stale.text.contains("id=\"stale-report\""))
            #expect(stale.text.contains(adminName) && stale.text.contains("changed the priority from Medium to Critical"), "who changed what")
            #expect(stale.text.contains("value=\"Tara&#39;s better title\"") || stale.text.contains("value=\"Tara's better title\""), "the input is kept")
            #expect(stale.text.contains("<option value=\"critical\" selected>"), "a field tara did not touch shows the other change")
            let newVersion = Self.editVersion(stale)
            #expect(newVersion == "2")

            // Saving the form as shown applies tara's change over the other one, not back over it.
            let latest = try await t.get("/api/v1/tickets/\(id)").json
            let saved = try await t.submitForm(
                "/tickets/\(id)/edit", Self.editFields(latest, version: newVersion, [("title", "Tara's better title")]), session: session)
            expectStatus(saved, .seeOther)
            let after = try await t.get("/api/v1/tickets/\(id)").json
            #expect(after["title"] == "Tara's better title" && after["priority"] == "critical")

            // A stale form whose field the other change touched too says so.
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(id)", ["title": "Admin's title"])
            let clash = try await t.submitForm(
                "/tickets/\(id)/edit", Self.editFields(after, version: "3", [("title", "Tara again")]), session: session)
            expectStatus(clash, .conflict)
            #expect(clash.text.contains("id=\"stale-conflicts\"") && clash.text.contains("value=\"Tara again\""))
        }
    }

    @Test func coManagingUsersAndContactsSeeNeitherInternalNotesNorTheInternalChoice() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let queue = try await t.queue("Service Desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue])
            try await t.setUp(northwind, users: [nina.id])
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: TestApp.password)
            let ticket = try await t.ticket(northwind, "Laptop rollout", extra: ["contactId": .string(alice), "coManagedVisible": true])
            let id = ticket.id
            let team = try await t.create("/api/v1/teams", ["name": "Night shift"]).id
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(id)", ["teamId": .string(team)])
            _ = try await t.note(id, "SECRET-INTERNAL margin is thin", publishTo: "internal")
            _ = try await t.note(id, "FOR-IT please book desks", publishTo: "internalAndCoManaged")
            _ = try await t.note(id, "FOR-ALL laptops arrive Monday", publishTo: "all")

            // The MSP technician sees every note and every choice, each with its audience.
            _ = try await t.resource("tara")
            let tara = try await t.page("/tickets/\(id)", session: try await t.pageSession("tara", TestApp.password)).text
            #expect(tara.contains("SECRET-INTERNAL") && tara.contains("FOR-IT") && tara.contains("FOR-ALL"))
            for choice in ["compose-internal\"", "compose-internalAndCoManaged\"", "compose-all\""] { #expect(tara.contains("id=\"\(choice)")) }
            #expect(tara.contains("id=\"compose-all-audience\"") && tara.contains("Who will read it"))
            // One conversation, oldest first; the team change is told to the MSP only, with its badge.
            let order = ["opened the ticket", "put it in the team Night shift", "SECRET-INTERNAL", "FOR-IT", "FOR-ALL"].map { tara.range(of: $0)?.lowerBound }
            #expect(!order.contains(nil) && order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "newest last")
            let teamChange = tara.range(of: "put it in the team Night shift").map { tara[..<$0.lowerBound] } ?? ""
            #expect(teamChange.components(separatedBy: "class=\"badge ").last?.hasPrefix("publish-internal\"") == true, "a team change is MSP-only")

            try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(nina.id)/totp-pause", ["for": "nextLogin"])
            let ninaSession = try await t.pageSession("nina", TestApp.password)
            let ninaPage = try await t.page("/tickets/\(id)", session: ninaSession)
            expectStatus(ninaPage, .ok)
            #expect(ninaPage.text.contains("FOR-IT") && ninaPage.text.contains("FOR-ALL"))
            #expect(!ninaPage.text.contains("SECRET-INTERNAL"), "no internal note for a co-managing user")
            #expect(!ninaPage.text.contains("Night shift"), "nor the MSP team change")
            #expect(!ninaPage.text.contains("id=\"compose-internal\""), "no internal-note choice for a co-managing user")
            #expect(ninaPage.text.contains("id=\"compose-internalAndCoManaged\"") && ninaPage.text.contains("id=\"compose-all\""))
            // A forged internal note is refused as the API refuses it.
            let forged = try await t.submitForm("/tickets/\(id)/notes", [("body", "sneaky"), ("publishTo", "internal")], session: ninaSession)
            expectStatus(forged, .unprocessableEntity)

            let aliceSession = try await t.pageSession("alice@northwind.example", TestApp.password)
            let alicePage = try await t.page("/tickets/\(id)", session: aliceSession)
            expectStatus(alicePage, .ok)
            #expect(alicePage.text.contains("FOR-ALL"))
            #expect(!alicePage.text.contains("SECRET-INTERNAL") && !alicePage.text.contains("FOR-IT"), "a contact sees only what is published to all")
            #expect(!alicePage.text.contains("compose-internal"), "no internal or co-managed choice for a contact")
            #expect(alicePage.text.contains("name=\"publishTo\" value=\"all\""))
            #expect(!alicePage.text.contains("id=\"edit-form\""), "contacts do not edit tickets")
        }
    }

    @Test func withoutEditRightsThereIsNoFormAndAForgedPostIsRefusedAsTheAPIRefusesIt() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let reader = try await t.resource("rita", .helpDesk)
            let team = try await t.create("/api/v1/teams", ["name": "Night shift", "members": [["principalId": .string(reader.id), "access": "readOnly"]]]).id
            let ticket = try await t.ticket(northwind, "Printer offline", extra: ["teamId": .string(team)])
            let id = ticket.id
            _ = try await t.resource("rick", restrictions: [contoso])

            // A read-only team member sees the ticket, gets no edit form, and a forged post answers 403 like the API.
            let session = try await t.pageSession("rita", TestApp.password)
            let page = try await t.page("/tickets/\(id)", session: session)
            expectStatus(page, .ok)
            #expect(!page.text.contains("id=\"edit-form\""))
            expectProblem(try await t.patch("/api/v1/tickets/\(id)", ["priority": "high"], as: reader.token), .forbidden)
            let forged = try await t.submitForm("/tickets/\(id)/edit", Self.editFields(ticket, version: "1", [("priority", "high")]), session: session)
            expectStatus(forged, .forbidden)
            #expect(try await t.get("/api/v1/tickets/\(id)").json["priority"] == "medium")

            // A ticket outside the principal's reach answers 404, for the page and the post alike.
            let rickSession = try await t.pageSession("rick", TestApp.password)
            expectStatus(try await t.page("/tickets/\(id)", session: rickSession), .notFound)
            let hidden = try await t.submitForm("/tickets/\(id)/edit", Self.editFields(ticket, version: "1", [("priority", "high")]), session: rickSession)
            expectStatus(hidden, .notFound)
            #expect(!hidden.text.contains("Printer offline"))
            #expect(try await t.get("/api/v1/tickets/\(id)").json["version"] == 1)
        }
    }

    @Test func statusChoicesFollowTheStateMachine() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            _ = try await t.resource("tara")
            let id = try await t.ticket(northwind, "Printer offline").id
            let ticket = try await t.must(.ok, .PATCH, "/api/v1/tickets/\(id)", ["status": "resolved"])
            let session = try await t.pageSession("tara", TestApp.password)
            let page = try await t.page("/tickets/\(id)", session: session)
            let select = page.text.firstRange(of: "id=\"edit-status\"").map { page.text[$0.upperBound...] } ?? ""
            let options = select.firstRange(of: "</select>").map { select[..<$0.lowerBound] } ?? ""
            let offered = Set(options.matches(of: /<option value="([a-zA-Z]+)"/).map { String($0.1) })
            #expect(offered == ["resolved", "inProgress", "closed"], "the current status and those the state machine allows next, got \(offered)")

            // A status outside the state machine, forged, is refused beside the field.
            let forged = try await t.submitForm("/tickets/\(id)/edit", Self.editFields(ticket, version: "2", [("status", "waitingApproval")]), session: session)
            expectStatus(forged, .unprocessableEntity)
            #expect(forged.text.contains("id=\"edit-status-error\"") && forged.text.contains("cannot go from resolved to waitingApproval"))
            #expect(try await t.get("/api/v1/tickets/\(id)").json["status"] == "resolved")

            let closed = try await t.submitForm("/tickets/\(id)/edit", Self.editFields(ticket, version: "2", [("status", "closed")]), session: session)
            expectStatus(closed, .seeOther)
            #expect(try await t.get("/api/v1/tickets/\(id)").json["status"] == "closed")
        }
    }
}

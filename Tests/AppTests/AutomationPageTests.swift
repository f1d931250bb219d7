import Fluent
import Foundation
import Testing
import VaporTesting

@testable import App

/// The pages of automation and delivery: ticket action buttons, the outbox, notification settings and the
/// rule lists, each through the same functions as the API.
@Suite struct AutomationPageTests {
    @Test func ticketActionsAreOfferedToThoseTheyAreForAndRunFromTheTicketPage() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let queue = try await t.queue("MSP escalations")
            let technicianLevel = try await t.securityLevelId(.technician)
            let action = try await t.create(
                "/api/v1/ticket-actions",
                [
                    "name": "Escalate to MSP", "changes": ["status": "escalated", "queueId": .string(queue)],
                    "note": ["text": "Escalated to the MSP.", "publishTo": "internal"], "securityLevelIds": [.string(technicianLevel)],
                ])
            _ = try await t.resource("tech")
            let ticket = try await t.ticket(organization)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let tech = try await t.pageSession("tech", TestApp.password)
            let path = "/tickets/\(ticket.id)"
            let actionPath = "\(path)/actions/\(action.id)"
            let version = String(ticket["version"].int ?? 0)

            // Offered to the technician's level only.
            let techPage = try await t.page(path, session: tech)
            expectStatus(techPage, .ok)
            #expect(techPage.text.contains("Escalate to MSP") && techPage.text.contains(actionPath))
            #expect(!(try await t.page(path, session: admin)).text.contains(actionPath), "the administrator's level is not offered it")

            // Refused with its reason on the page, nothing written.
            let refused = try await t.submitForm(actionPath, [("version", version)], session: admin)
            expectStatus(refused, .forbidden)
            #expect(refused.text.contains("limited to other security levels"))
            #expect(try await t.get("/api/v1/tickets/\(ticket.id)").json["status"] == "new")

            // A page rendered before another change: the stale version changes nothing.
            let stale = try await t.submitForm(actionPath, [("version", "999")], session: tech)
            expectStatus(stale, .conflict)
            #expect(stale.text.contains("changed since you loaded it"))
            #expect(try await t.get("/api/v1/tickets/\(ticket.id)").json["status"] == "new")

            let ran = try await t.submitForm(actionPath, [("version", version)], session: tech)
            expectStatus(ran, .seeOther)
            let after = try await t.get("/api/v1/tickets/\(ticket.id)").json
            #expect(after["status"] == "escalated" && after["queueId"].string == queue)
            let notes = try await t.get("/api/v1/tickets/\(ticket.id)/notes").json["items"].array
            #expect(notes.contains { $0["body"] == "Escalated to the MSP." })

        }
    }

    /// The ticket page tells whoever works the ticket whom to call: the site's notification rule, with
    /// the escalation contacts of the hours it is now at the site (Monday 10:00 in New York: business hours).
    @Test func theTicketPageSaysWhomToCall() async throws {
        try await withApp(clock: SetClock(AutomationTests.date("2026-12-07T15:00:00Z"))) { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            let location = try await t.create(
                "/api/v1/internal-locations",
                [
                    "name": "New York", "timeZone": "America/New_York",
                    "businessHours": .array((1...5).map { ["weekday": .number(Double($0)), "start": "08:00", "end": "18:00"] }),
                ]
            ).id
            expectStatus(try await t.patch("/api/v1/sites/\(site)", ["internalLocationId": .string(location)]), .ok)
            let (cora, carl, nina) = (try await t.contact(contoso, "Cora"), try await t.contact(contoso, "Carl"), try await t.contact(contoso, "Nina"))
            let rule: JSON = [
                "escalation": [
                    ["contactId": .string(cora), "hours": "businessHours", "instructions": "Office line first"],
                    ["contactId": .string(nina), "hours": "afterHours"], ["contactId": .string(carl)],
                ],
                "callBeforeEscalating": [.string(carl)],
            ]
            expectStatus(try await t.put("/api/v1/sites/\(site)/notification-rule", rule), .ok)
            let ticket = try await t.ticket(contoso, "Server down", extra: ["siteId": .string(site)])
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let page = try await t.page("/tickets/\(ticket.id)", session: admin)
            expectStatus(page, .ok)
            let panel = page.text.components(separatedBy: "id=\"whom-to-call\"").dropFirst().first?.components(separatedBy: "</section>").first ?? ""
            #expect(panel.contains("Business hours now"))
            #expect(panel.contains("Office line first"))
            let (carlAt, escalateAt, coraAt) = (
                panel.range(of: "Carl")?.lowerBound, panel.range(of: "Escalate to")?.lowerBound, panel.range(of: "Cora")?.lowerBound
            )
            #expect(
                carlAt != nil && escalateAt != nil && coraAt != nil && carlAt! < escalateAt! && escalateAt! < coraAt!, "Carl is called first; Cora escalated to"
            )
            #expect(!panel.contains("Nina"), "after-hours contacts are not listed in business hours")

            // Not for a ticket whose site has no rule (here: no site).
            let other = try await t.ticket(contoso, "No site")
            #expect(!(try await t.page("/tickets/\(other.id)", session: admin)).text.contains("whom-to-call"))
        }
    }

    /// The templates page saves and resets through the API's functions; a bad placeholder is shown at its field.
    @Test func notificationTemplatesAreEditedOnTheirPage() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let page = try await t.page("/admin/templates", session: admin)
            expectStatus(page, .ok)
            #expect(page.text.contains("id=\"template-noteToContact\"") && page.text.contains("Built-in"))
            let saved = try await t.submitForm(
                "/admin/templates/noteToContact", [("subject", "{ticket.reference} Our reply"), ("body", "{note.text}"), ("htmlBody", "")],
                session: admin)
            expectStatus(saved, .seeOther)
            let stored = try await t.get("/api/v1/notification-templates").json.array.first { $0["kind"] == "noteToContact" }
            #expect(stored?["subject"] == "{ticket.reference} Our reply" && stored?["isDefault"] == false)
            let refused = try await t.submitForm("/admin/templates/noteToContact", [("subject", "{nope}"), ("body", "x")], session: admin)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("nope") && refused.text.contains("value=\"{nope}\""))
            expectStatus(try await t.submitForm("/admin/templates/noteToContact/reset", [], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/notification-templates").json.array.first { $0["kind"] == "noteToContact" }?["isDefault"] == true)
            expectStatus(try await t.submitForm("/admin/templates/unknown", [("subject", "x"), ("body", "y")], session: admin), .notFound)
            _ = try await t.resource("tech")
            let tech = try await t.pageSession("tech", TestApp.password)
            expectStatus(try await t.page("/admin/templates", session: tech), .forbidden)
        }
    }

    /// A site's notification rule is edited on its page through the API's function; a contact of another
    /// organization is refused at the field, and whoever may not change the site is refused.
    @Test func aSitesNotificationRuleIsEditedOnItsPage() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let cora = try await t.contact(contoso, "Cora")
            let fred = try await t.contact(fabrikam, "Fred")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let path = "/sites/\(site)/notification-rule"
            let page = try await t.page(path, session: admin)
            expectStatus(page, .ok)
            #expect(page.text.contains(cora) && !page.text.contains(fred), "the organization's contacts to pick from")
            #expect(try await t.page("/sites/\(site)", session: admin).text.contains(path))
            let saved = try await t.submitForm(
                path, [("definition", "{\"escalation\": [{\"contactId\": \"\(cora)\", \"hours\": \"afterHours\"}]}")], session: admin)
            expectStatus(saved, .seeOther)
            #expect(try await t.get("/api/v1/sites/\(site)/notification-rule").json["escalation"][0]["hours"] == "afterHours")
            let stranger = try await t.submitForm(path, [("definition", "{\"escalation\": [{\"contactId\": \"\(fred)\"}]}")], session: admin)
            expectStatus(stranger, .unprocessableEntity)
            #expect(stranger.text.contains("organization&#39;s contacts") || stranger.text.contains("organization's contacts"))
            let garbage = try await t.submitForm(path, [("definition", "{not json")], session: admin)
            expectStatus(garbage, .unprocessableEntity)
            #expect(garbage.text.contains("{not json"), "the text is kept")
            _ = try await t.resource("tech")
            let tech = try await t.pageSession("tech", TestApp.password)
            expectStatus(try await t.submitForm(path, [("definition", "{\"escalation\": [{\"contactId\": \"\(cora)\"}]}")], session: tech), .forbidden)
            expectStatus(try await t.page("/sites/\(UUID())/notification-rule", session: admin), .notFound)
        }
    }

    @Test func outboxPageIsForSettingsManagersAndRetries() async throws {
        try await withApp { t in
            let failed = OutboxMessage(channel: .email, recipient: "ann@client.example", subject: "Ticket #1", body: "x", messageId: nil, at: Date())
            failed.state = .failed
            failed.attempts = 12
            failed.lastError = "550 mailbox unavailable"
            try await failed.create(on: t.db)
            let sent = OutboxMessage(channel: .email, recipient: "bob@client.example", subject: "Ticket #2", body: "x", messageId: nil, at: Date())
            sent.state = .sent
            try await sent.create(on: t.db)
            _ = try await t.resource("tech")
            let tech = try await t.pageSession("tech", TestApp.password)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)

            expectStatus(try await t.page("/admin/outbox", session: tech), .forbidden)
            expectStatus(try await t.submitForm("/admin/outbox/\(failed.id!)/retry", [], session: tech), .forbidden)
            #expect(try await OutboxMessage.find(failed.id, on: t.db)?.state == .failed)

            let page = try await t.page("/admin/outbox?state=failed", session: admin)
            expectStatus(page, .ok)
            #expect(page.text.contains("ann@client.example") && page.text.contains("550 mailbox unavailable"))
            #expect(!page.text.contains("bob@client.example"), "the filter shows failed messages only")
            #expect(page.text.contains("/admin/outbox/\(failed.id!.uuidString)/retry"))
            #expect(page.text.contains("id=\"mail-blocked\"") == (OutboxDelivery.mailBlocked(t.app.settings) != nil))
            #expect(try await t.page("/admin/rules", session: admin).text.contains("href=\"/admin/outbox\""), "the admin tabs link it")

            expectStatus(try await t.submitForm("/admin/outbox/\(failed.id!)/retry", [("state", "failed")], session: admin), .seeOther)
            let retried = try #require(try await OutboxMessage.find(failed.id, on: t.db))
            #expect(retried.state == .pending && retried.attempts == 0)
            let again = try await t.submitForm("/admin/outbox/\(sent.id!)/retry", [], session: admin)
            expectStatus(again, .conflict)
            #expect(again.text.contains("nothing to retry"))
        }
    }

    @Test func notificationSettingsAreSavedFromTheirPage() async throws {
        try await withApp { t in
            _ = try await t.resource("tech")
            let tech = try await t.pageSession("tech", TestApp.password)
            let token = try await t.login("tech", TestApp.password)
            let page = try await t.page("/settings/notifications", session: tech)
            expectStatus(page, .ok)
            #expect(page.text.contains("name=\"assignment\""))

            expectStatus(try await t.submitForm("/settings/notifications", [("assignment", "sms"), ("statusChanged", "none")], session: tech), .seeOther)
            let saved = try await t.get("/api/v1/me/notification-settings", as: token).json
            #expect(saved["assignment"] == "sms" && saved["statusChanged"] == "none" && saved["noteToContact"] == "email")

            let refused = try await t.submitForm("/settings/notifications", [("assignment", "pigeon")], session: tech)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("must be email, sms or none"))
            #expect(try await t.get("/api/v1/me/notification-settings", as: token).json["assignment"] == "sms")
        }
    }

    @Test func rulesPageShowsBrokenMarksMovesAndDeletes() async throws {
        try await withApp { t in
            let doomed = try await t.queue("Old desk")
            let first = try await t.create("/api/v1/ticket-rules", ["name": "First", "outcome": ["queueId": .string(doomed)]])
            let second = try await t.create("/api/v1/ticket-rules", ["name": "Second", "outcome": ["priority": "high"]])
            expectStatus(try await t.delete("/api/v1/queues/\(doomed)"), .noContent)
            _ = try await t.resource("tech")
            let tech = try await t.pageSession("tech", TestApp.password)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)

            expectStatus(try await t.page("/admin/rules", session: tech), .forbidden)
            let page = try await t.page("/admin/rules", session: admin)
            expectStatus(page, .ok)
            #expect(page.text.contains("Broken: ") && page.text.contains("Second"))
            #expect(page.text.contains("/admin/rules/ticket-rules/\(second.id)/move") && page.text.contains("Move Second up"))
            #expect(!page.text.contains("Move First up") && !page.text.contains("Move Second down"), "no move past either end")

            let moved = try await t.submitForm("/admin/rules/ticket-rules/\(second.id)/move", [("direction", "up")], session: admin)
            expectStatus(moved, .seeOther)
            #expect(try await t.get("/api/v1/ticket-rules").json["items"].array.map { $0["name"] } == ["Second", "First"])

            let unconfirmed = try await t.submitForm("/admin/rules/ticket-rules/\(first.id)/delete", [], session: admin)
            expectStatus(unconfirmed, .unprocessableEntity)
            #expect(unconfirmed.text.contains("to confirm the deletion"))
            expectStatus(try await t.submitForm("/admin/rules/ticket-rules/\(first.id)/delete", [("confirm", "yes")], session: admin), .seeOther)
            #expect(try await t.get("/api/v1/ticket-rules").json["items"].array.map { $0["name"] } == ["Second"])

            // A new action from the JSON editor, through the API's validation.
            let invalid = try await t.submitForm("/admin/rules/ticket-actions/new", [("definition", #"{"name": "Nothing"}"#)], session: admin)
            expectStatus(invalid, .unprocessableEntity)
            #expect(invalid.text.contains("an action must change a field or add a note"))
            let created = try await t.submitForm(
                "/admin/rules/ticket-actions/new", [("definition", #"{"name": "Close", "changes": {"status": "closed"}}"#)], session: admin)
            expectStatus(created, .seeOther)
            #expect(try await t.get("/api/v1/ticket-actions").json["items"].array.map { $0["name"] } == ["Close"])
        }
    }
}

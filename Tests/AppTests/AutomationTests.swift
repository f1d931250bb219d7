import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Ticket rules, workflow rules and ticket actions through the API and the automation consumer:
/// the HaloPSA example, workflow actions, broken rules and their repair, restricted actions, and the
/// depth bound on rules that keep triggering each other.
@Suite struct AutomationTests {
    static func automate(_ t: TestApp) async throws {
        while try await Automation.run(on: t.db, settings: t.app.settings) ?? 0 > 0 {}
    }

    /// HaloPSA: new tickets of the customers a team supports are assigned to that team; a rule that
    /// says "stop matching" ends the list.
    @Test func ticketRulesRouteNewTicketsInOrder() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let team = try await t.create("/api/v1/teams", ["name": "Contoso IT"]).id
            let queue = try await t.queue("Service Desk")
            let routed = try await t.post(
                "/api/v1/ticket-rules",
                [
                    "name": "Contoso to its team", "criteria": ["organizationIds": [.string(contoso)]], "outcome": ["teamId": .string(team)],
                    "stopMatching": true,
                ])
            expectStatus(routed, .created)
            #expect(routed.json["position"] == 0 && routed.json["active"] == true)
            let everything = try await t.post(
                "/api/v1/ticket-rules", ["name": "Everything to the desk", "outcome": ["queueId": .string(queue), "priority": "high"]])
            expectStatus(everything, .created)
            #expect(everything.json["position"] == 1)

            let mine = try await t.ticket(contoso).id
            let theirs = try await t.ticket(fabrikam).id
            try await Self.automate(t)
            let routedTicket = try await t.get("/api/v1/tickets/\(mine)").json
            #expect(routedTicket["teamId"].string == team)
            #expect(routedTicket["queueId"] == .null, "the first rule stopped the matching")
            let other = try await t.get("/api/v1/tickets/\(theirs)").json
            #expect(other["teamId"] == .null && other["queueId"].string == queue && other["priority"] == "high")
            // The change is the automation's, in the ticket's audit trail.
            let audit = try await t.get("/api/v1/audit-events?ticketId=\(mine)").json["items"].array
            #expect(audit.contains { $0["action"] == "updated" && $0["actorName"] == "Automation" })

            // Reordered, the catch-all comes first and both apply (it does not stop matching).
            expectStatus(try await t.put("/api/v1/ticket-rules/order", ["ids": [.string(everything.id), .string(routed.id)]]), .ok)
            let next = try await t.ticket(contoso).id
            try await Self.automate(t)
            let both = try await t.get("/api/v1/tickets/\(next)").json
            #expect(both["queueId"].string == queue && both["teamId"].string == team)
            expectStatus(try await t.put("/api/v1/ticket-rules/order", ["ids": [.string(routed.id)]]), .unprocessableEntity)
        }
    }

    @Test func workflowRulesActOnNotesAndAddTheirOwn() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let rule = try await t.post(
                "/api/v1/workflow-rules",
                [
                    "name": "Customer replied", "triggers": ["noteAdded"], "conditions": [["field": "itemPublishTo", "op": "equals", "values": ["all"]]],
                    "actions": [
                        "update": ["priority": "high"], "addNote": ["text": "The customer was answered; check back tomorrow.", "publishTo": "internal"],
                    ],
                ])
            expectStatus(rule, .created)
            let ticket = try await t.ticket(organization).id
            _ = try await t.note(ticket, "Internal musing", publishTo: "internal")
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["priority"] == "medium", "an internal note does not meet the condition")

            _ = try await t.note(ticket, "We are on it.", publishTo: "all")
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["priority"] == "high")
            let notes = try await t.get("/api/v1/tickets/\(ticket)/notes").json["items"].array
            let added = try #require(notes.first { $0["body"] == "The customer was answered; check back tomorrow." })
            #expect(added["publishTo"] == "internal" && added["authorName"] == "Automation")
            // Its own note does not set it off again: one note of it, after two more runs.
            try await Self.automate(t)
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/notes").json["items"].array.count == 3)

            expectStatus(try await t.post("/api/v1/workflow-rules", ["name": "Nothing", "triggers": ["created"], "actions": [:]]), .unprocessableEntity)
            expectStatus(
                try await t.post(
                    "/api/v1/workflow-rules", ["name": "Bad trigger", "triggers": ["exploded"], "actions": ["addNote": ["text": "x", "publishTo": "all"]]]),
                .unprocessableEntity)
            let (_, techToken) = try await t.resource("tech")
            expectStatus(try await t.get("/api/v1/workflow-rules", as: techToken), .forbidden)
        }
    }

    /// A rule whose queue is deleted is marked broken with the reason and never fires; saving it whole
    /// again repairs it. A rule naming what does not exist is refused.
    @Test func brokenRulesAreMarkedAndRepaired() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let doomed = try await t.queue("Old desk")
            let kept = try await t.queue("New desk")
            let rule = try await t.post(
                "/api/v1/workflow-rules", ["name": "Route", "triggers": ["created"], "actions": ["update": ["queueId": .string(doomed)]]])
            expectStatus(rule, .created)
            expectStatus(try await t.delete("/api/v1/queues/\(doomed)"), .noContent)
            let broken = try await t.get("/api/v1/workflow-rules/\(rule.id)").json
            #expect(broken["broken"].string?.contains(doomed.lowercased()) == true)
            let ticket = try await t.ticket(organization).id
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["queueId"] == .null, "a broken rule never fires")

            expectStatus(try await t.patch("/api/v1/workflow-rules/\(rule.id)", ["name": "Route again"]), .unprocessableEntity)
            let repaired = try await t.patch("/api/v1/workflow-rules/\(rule.id)", ["actions": ["update": ["queueId": .string(kept)]]])
            expectStatus(repaired, .ok)
            #expect(repaired.json["broken"] == .null)
            _ = try await t.ticket(organization).id
            try await Self.automate(t)
            let tickets = try await t.get("/api/v1/tickets?organizationId=\(organization)").json["items"].array
            #expect(tickets.contains { $0["queueId"].string == kept })

            let missing = UUID().uuidString
            expectStatus(
                try await t.post("/api/v1/ticket-rules", ["name": "Ghost", "outcome": ["queueId": .string(missing)]]), .unprocessableEntity)
        }
    }

    @Test func ticketActionsRunOnlyForThoseTheyAreFor() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let queue = try await t.queue("MSP escalations")
            let technicianLevel = try await t.securityLevelId(.technician)
            let action = try await t.post(
                "/api/v1/ticket-actions",
                [
                    "name": "Escalate to MSP", "changes": ["status": "escalated", "queueId": .string(queue)],
                    "note": ["text": "Escalated to the MSP.", "publishTo": "internalAndCoManaged"], "securityLevelIds": [.string(technicianLevel)],
                ])
            expectStatus(action, .created)
            let (_, techToken) = try await t.resource("tech")
            let ticket = try await t.ticket(organization).id

            #expect(try await t.get("/api/v1/tickets/\(ticket)/actions", as: techToken).json.array.map { $0["name"] } == ["Escalate to MSP"])
            #expect(try await t.get("/api/v1/tickets/\(ticket)/actions").json.array.isEmpty, "the administrator's level is not listed")
            let refused = try await t.post("/api/v1/tickets/\(ticket)/actions/\(action.id)", [:])
            expectStatus(refused, .forbidden)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] == "new", "nothing of a refused action is written")

            let ran = try await t.post("/api/v1/tickets/\(ticket)/actions/\(action.id)", [:], as: techToken)
            expectStatus(ran, .ok)
            #expect(ran.json["status"] == "escalated" && ran.json["queueId"].string == queue)
            let notes = try await t.get("/api/v1/tickets/\(ticket)/notes").json["items"].array
            #expect(notes.contains { $0["body"] == "Escalated to the MSP." && $0["publishTo"] == "internalAndCoManaged" })
            expectStatus(try await t.post("/api/v1/tickets/\(ticket)/actions/\(UUID())", [:], as: techToken), .notFound)
            expectStatus(try await t.post("/api/v1/tickets/\(UUID())/actions/\(action.id)", [:], as: techToken), .notFound)
        }
    }

    /// Two rules that undo each other: the chain is cut at the depth bound and reported on the ticket.
    @Test func rulesThatTriggerEachOtherStopAtTheBound() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            for (name, from, to) in [("Raise", "low", "high"), ("Lower", "high", "low")] {
                expectStatus(
                    try await t.post(
                        "/api/v1/workflow-rules",
                        [
                            "name": .string(name), "triggers": ["edited"], "conditions": [["field": "priority", "op": "equals", "values": [.string(from)]]],
                            "actions": ["update": ["priority": .string(to)]],
                        ]), .created)
            }
            let ticket = try await t.ticket(organization).id
            try await Self.automate(t)
            expectStatus(try await t.patch("/api/v1/tickets/\(ticket)", ["priority": "low"]), .ok)
            try await Self.automate(t)
            let audit = try await t.get("/api/v1/audit-events?ticketId=\(ticket)").json["items"].array
            let stopped = try #require(audit.first { $0["action"] == "automationStopped" })
            #expect(stopped["actorName"] == "Automation")
            // The consumer went past it: nothing more happens on the next run.
            let count = audit.count
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/audit-events?ticketId=\(ticket)").json["items"].array.count == count)
        }
    }

    /// The note of a workflow rule or a ticket action is multi-line text: control characters other than
    /// line breaks and tabs are refused, with the field named.
    @Test func notesOfRulesAndActionsRefuseControlCharacters() async throws {
        try await withApp { t in
            for control in ["\u{0}", "\u{1B}", "\u{7F}", "\u{85}"] {
                let action = try await t.post(
                    "/api/v1/ticket-actions", ["name": "Note", "note": ["text": .string("Hello\(control)there"), "publishTo": "internal"]])
                expectStatus(action, .unprocessableEntity)
                #expect(action.json["errors"].array.contains { $0["field"] == "note.text" }, "\(control.debugDescription): \(action)")
                let rule = try await t.post(
                    "/api/v1/workflow-rules",
                    ["name": "Note", "triggers": ["created"], "actions": ["addNote": ["text": .string("Hello\(control)there"), "publishTo": "all"]]])
                expectStatus(rule, .unprocessableEntity)
                #expect(rule.json["errors"].array.contains { $0["field"] == "actions.addNote.text" }, "\(control.debugDescription): \(rule)")
            }
            let multiline = try await t.post("/api/v1/ticket-actions", ["name": "Note", "note": ["text": "Line one\nLine two", "publishTo": "internal"]])
            expectStatus(multiline, .created)
            #expect(multiline.json["note"]["text"] == "Line one\nLine two")
            #expect(try await AutomationRule.query(on: t.db).filter(\.$kind == .ticketAction).count() == 1, "a refused body wrote nothing")
        }
    }

    /// A site's notification rule: its contacts in order, from the site's organization only; read by
    /// whoever sees the site and works tickets, changed by whoever may change it.
    @Test func siteNotificationRules() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let first = try await t.contact(contoso, "Cora")
            let second = try await t.contact(contoso, "Carl")
            let stranger = try await t.contact(fabrikam, "Fred")
            let path = "/api/v1/sites/\(site)/notification-rule"
            expectStatus(try await t.get(path), .notFound)
            let body: JSON = [
                "escalation": [["contactId": .string(first), "hours": "businessHours"], ["contactId": .string(second), "instructions": "Mobile after 8 pm"]],
                "callBeforeEscalating": [.string(first)],
            ]
            let saved = try await t.put(path, body)
            expectStatus(saved, .ok)
            #expect(saved.json["escalation"].array.map { $0["contactId"].string } == [first, second])
            #expect(saved.json["escalation"][1]["hours"] == "always")
            #expect(try await t.get(path).json["escalation"].array.count == 2)

            expectStatus(try await t.put(path, ["escalation": [["contactId": .string(stranger)]]]), .unprocessableEntity)
            expectStatus(try await t.put(path, ["escalation": []]), .unprocessableEntity)
            let hostile = try await t.put(path, ["escalation": [["contactId": .string(first), "instructions": "Call\u{1B}now"]]])
            expectStatus(hostile, .unprocessableEntity)
            #expect(hostile.json["errors"][0]["field"] == "escalation[0].instructions")
            let (_, techToken) = try await t.resource("tech")
            expectStatus(try await t.get(path, as: techToken), .ok)
            expectStatus(try await t.put(path, body, as: techToken), .forbidden)
            expectStatus(try await t.get("/api/v1/sites/\(UUID())/notification-rule"), .notFound)
            // A portal contact sees the site, but not whom the help desk escalates to (other contacts), nor the
            // go-live checklist built from it.
            let cora = try await t.portalLogin(first, email: "cora@contoso.example", organizationWide: true)
            expectStatus(try await t.get("/api/v1/sites/\(site)", as: cora), .ok)
            expectStatus(try await t.get(path, as: cora), .notFound)
            expectStatus(try await t.get("/api/v1/sites/\(site)/checklist", as: techToken), .ok)
            expectStatus(try await t.get("/api/v1/sites/\(site)/checklist", as: cora), .notFound)
            #expect(try await t.get(path, as: cora).text.contains(first) == false)
            // Nor the site's managed devices.
            let device = try await t.create("/api/v1/devices", ["siteId": .string(site), "name": "FS01", "type": "server"]).id
            #expect(try await t.get("/api/v1/devices?siteId=\(site)", as: techToken).json.ids == [device])
            #expect(try await t.get("/api/v1/devices?siteId=\(site)", as: cora).json.ids.isEmpty)
            expectStatus(try await t.get("/api/v1/devices/\(device)", as: cora), .notFound)
        }
    }

    /// "Due date approaching" (Autotask): once per due date, for open tickets due within the window,
    /// recorded as an event the workflow rules act on; moving the due date watches the ticket again.
    @Test func dueDateApproachingFiresOncePerDueDate() async throws {
        try await withApp(clock: SetClock(Self.date("2026-12-07T15:00:00Z"))) { t in
            let contoso = try await t.organization("Contoso")
            let rule = try await t.post(
                "/api/v1/workflow-rules",
                ["name": "Due soon", "triggers": ["dueDateApproaching"], "actions": ["addNote": ["text": "Due within a day.", "publishTo": "internal"]]])
            expectStatus(rule, .created)
            let soon = try await t.ticket(contoso, "Soon", extra: ["dueAt": "2026-12-07T20:00:00Z"]).id
            let later = try await t.ticket(contoso, "Later", extra: ["dueAt": "2026-12-09T12:00:00Z"]).id
            _ = try await t.ticket(contoso, "Overdue", extra: ["dueAt": "2026-12-07T14:00:00Z"])
            let resolved = try await t.ticket(contoso, "Resolved", extra: ["dueAt": "2026-12-07T18:00:00Z"]).id
            expectStatus(try await t.patch("/api/v1/tickets/\(resolved)", ["status": "resolved"]), .ok)
            try await Self.automate(t)

            let day: TimeInterval = 24 * 3600
            #expect(try await DueDateWatch.run(on: t.db, within: day) == 1, "only the open ticket due within the day")
            #expect(try await DueDateWatch.run(on: t.db, within: day) == 0, "once per due date")
            try await Self.automate(t)
            let notes = try await t.get("/api/v1/tickets/\(soon)/notes").json["items"].array
            #expect(notes.map { $0["body"].string } == ["Due within a day."])
            #expect(try await t.get("/api/v1/tickets/\(later)/notes").json["items"].array.isEmpty)
            let events = try await t.get("/api/v1/events?limit=200").json["items"].array
            #expect(events.filter { $0["type"] == "ticket.dueDateApproaching" }.map { $0["ticketId"].string } == [soon])
            let audit = try await t.get("/api/v1/audit-events?ticketId=\(soon)").json["items"].array
            #expect(audit.contains { $0["action"] == "dueDateApproaching" && $0["actorName"] == "Due date watch" })

            // A moved due date is watched again; a wider window takes in the later ticket.
            expectStatus(try await t.patch("/api/v1/tickets/\(soon)", ["dueAt": "2026-12-08T09:00:00Z"]), .ok)
            #expect(try await DueDateWatch.run(on: t.db, within: day) == 1)
            #expect(try await DueDateWatch.run(on: t.db, within: 3 * day) == 1)
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/tickets/\(soon)/notes").json["items"].array.count == 2)
            #expect(try await t.get("/api/v1/tickets/\(later)/notes").json["items"].array.count == 1)
        }
    }

    /// The site's business hours (its internal location) reach the rules: `siteHours` is a condition.
    @Test func rulesSeeTheSitesBusinessHours() async throws {
        // Monday 10:00 in New York.
        try await withApp(clock: SetClock(Self.date("2026-12-07T15:00:00Z"))) { t in
            let contoso = try await t.organization("Contoso")
            let location = try await t.create(
                "/api/v1/internal-locations",
                [
                    "name": "New York", "timeZone": "America/New_York",
                    "businessHours": .array((1...5).map { ["weekday": .number(Double($0)), "start": "08:00", "end": "18:00"] }),
                ]
            ).id
            let open = try await t.site(contoso, "Open")
            expectStatus(try await t.patch("/api/v1/sites/\(open)", ["internalLocationId": .string(location)]), .ok)
            let unplaced = try await t.site(contoso, "Nowhere")
            for hours in ["businessHours", "afterHours"] {
                let rule = try await t.post(
                    "/api/v1/workflow-rules",
                    [
                        "name": .string("In \(hours)"), "triggers": ["created"],
                        "conditions": [["field": "siteHours", "op": "equals", "values": [.string(hours)]]],
                        "actions": ["addNote": ["text": .string("Opened in \(hours)."), "publishTo": "internal"]],
                    ])
                expectStatus(rule, .created)
            }
            let during = try await t.ticket(contoso, "During", extra: ["siteId": .string(open)]).id
            let elsewhere = try await t.ticket(contoso, "Elsewhere", extra: ["siteId": .string(unplaced)]).id
            try await Self.automate(t)
            #expect(try await t.get("/api/v1/tickets/\(during)/notes").json["items"].array.map { $0["body"].string } == ["Opened in businessHours."])
            #expect(try await t.get("/api/v1/tickets/\(elsewhere)/notes").json["items"].array.isEmpty, "no location: neither")
        }
    }

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// A rule's answer that the write pipeline refuses for one ticket (an assignee who cannot work it) is
    /// undone for that event alone, note and all; the next ticket's is applied.
    @Test func aRefusedAnswerIsUndoneAloneAndTheConsumerGoesOn() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service Desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
            try await t.setUp(northwind, users: [nina])
            expectStatus(
                try await t.post(
                    "/api/v1/workflow-rules",
                    [
                        "name": "Give it to Nina", "triggers": ["created"],
                        "actions": [
                            "update": ["assigneeIds": [.string(nina)], "coManagedVisible": true], "addNote": ["text": "Nina has it.", "publishTo": "internal"],
                        ],
                    ]), .created)
            let refused = try await t.ticket(contoso, "Contoso's").id
            let taken = try await t.ticket(northwind, "Northwind's").id
            try await Self.automate(t)
            let refusedTicket = try await t.get("/api/v1/tickets/\(refused)").json
            #expect(refusedTicket["assigneeIds"].array.isEmpty && refusedTicket["coManagedVisible"] == false)
            #expect(try await t.get("/api/v1/tickets/\(refused)/notes").json["items"].array.isEmpty, "nothing of the refused answer stays")
            #expect(try await t.get("/api/v1/tickets/\(taken)").json["assigneeIds"].array.map(\.string) == [nina])
            #expect(try await t.get("/api/v1/tickets/\(taken)/notes").json["items"].array.map { $0["body"] } == ["Nina has it."])
        }
    }
}

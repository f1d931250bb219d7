import Foundation
import Testing
import VaporTesting

@testable import App

/// Client restrictions (SPEC §2, §3): a resource limited to some organizations gets 404, never 403,
/// for everything of the others, across list, get, update, delete, counts and search. The
/// expectations are written from the spec's rules, not computed by the access policy.
@Suite struct ClientRestrictionTests {
    enum Expect: CustomStringConvertible {
        case status(HTTPStatus)
        case listed(Bool)

        var description: String {
            switch self {
            case .status(let status): "\(status.code)"
            case .listed(let listed): listed ? "listed" : "absent"
            }
        }
    }

    /// The objects of one organization, each named so a search finds it by `word`.
    struct Objects {
        var organization: String
        var site: String
        var contact: String
        var ticket: String
        var note: String
        var auditEvent: String
    }

    static func objects(_ t: TestApp, organizationName: String, word: String, organizationId existing: String? = nil) async throws -> Objects {
        var organization = existing ?? ""
        if existing == nil { organization = try await t.organization(organizationName) }
        let site = try await t.site(organization, "\(word) site")
        let contact = try await t.contact(
            organization, word, email: "\(word.lowercased())-\(UUID().uuidString.prefix(6))@example.com",
            extra: ["siteId": .string(site), "phones": [["number": "5550100", "countryCode": "US"]]])
        let ticket = try await t.ticket(organization, "\(word) printer jammed", extra: ["siteId": .string(site), "contactId": .string(contact)]).id
        let note = try await t.note(ticket, "\(word) note", publishTo: "all").id
        let event = try #require(try await t.auditEvents(entityId: ticket).first)
        return Objects(organization: organization, site: site, contact: contact, ticket: ticket, note: note, auditEvent: event.id)
    }

    @Test func restrictedResourcesGet404OutsideTheirOrganizations() async throws {
        try await withApp { t in
            // Northwind is inside the restrictions, Zebra Holdings outside.
            let inside = try await t.organization("Northwind Traders")
            let outsideObjects = try await Self.objects(t, organizationName: "Zebra Holdings", word: "Zebra")
            let (_, rick) = try await t.resource("rick", .technician, restrictions: [inside])
            let (_, rita) = try await t.resource("rita", .administrator, restrictions: [inside])
            let principals: [(name: String, token: String, administrator: Bool)] = [("rick (technician)", rick, false), ("rita (administrator)", rita, true)]

            var cells = 0
            var failures: [String] = []
            func check(_ who: String, _ object: String, _ operation: String, _ expected: Expect, _ reply: Reply) {
                cells += 1
                let ok: Bool
                switch expected {
                case .status(let status): ok = reply.status == status && (status.code < 400 || reply.contentType.hasPrefix("application/problem+json"))
                case .listed: ok = false
                }
                if !ok { failures.append("\(who) \(operation) \(object): expected \(expected), got \(reply)") }
            }
            func check(_ who: String, _ object: String, _ operation: String, _ expected: Expect, listed ids: [String], _ id: String) {
                cells += 1
                guard case .listed(let shouldBe) = expected else { return }
                if ids.contains(id) != shouldBe { failures.append("\(who) \(operation) \(object): expected \(expected)") }
            }

            // MARK: Outside: 404 or absent for everyone restricted, whatever their security level.
            let outside = outsideObjects
            let countsBefore = try await t.rowCounts()
            for (who, token, _) in principals {
                let ticketPath = "/api/v1/tickets/\(outside.ticket)"
                let notePath = "\(ticketPath)/notes/\(outside.note)"
                let paths: [(String, String, JSON)] = [
                    ("ticket", ticketPath, ["title": "hijacked"]),
                    ("note", notePath, ["body": "hijacked"]),
                    ("organization", "/api/v1/organizations/\(outside.organization)", ["name": "hijacked"]),
                    ("site", "/api/v1/sites/\(outside.site)", ["name": "hijacked"]),
                    ("contact", "/api/v1/contacts/\(outside.contact)", ["firstName": "hijacked"]),
                ]
                for (object, path, body) in paths {
                    check(who, object, "get", .status(.notFound), try await t.get(path, as: token))
                    check(who, object, "update", .status(.notFound), try await t.patch(path, body, as: token))
                    check(who, object, "delete", .status(.notFound), try await t.delete(path, as: token))
                }
                check(who, "ticket", "list", .listed(false), listed: try await allIds(t, "/api/v1/tickets", as: token), outside.ticket)
                check(
                    who, "ticket", "list filtered by its organization", .listed(false),
                    listed: try await allIds(t, "/api/v1/tickets?organizationId=\(outside.organization)", as: token), outside.ticket)
                check(who, "organization", "list", .listed(false), listed: try await allIds(t, "/api/v1/organizations", as: token), outside.organization)
                check(who, "site", "list", .listed(false), listed: try await allIds(t, "/api/v1/sites", as: token), outside.site)
                check(
                    who, "site", "list filtered by its organization", .listed(false),
                    listed: try await allIds(t, "/api/v1/sites?organizationId=\(outside.organization)", as: token), outside.site)
                check(who, "contact", "list", .listed(false), listed: try await allIds(t, "/api/v1/contacts", as: token), outside.contact)
                check(who, "note", "list", .status(.notFound), try await t.get("\(ticketPath)/notes", as: token))
                check(who, "time entries", "list", .status(.notFound), try await t.get("\(ticketPath)/time-entries", as: token))
                check(who, "attachments", "list", .status(.notFound), try await t.get("\(ticketPath)/attachments", as: token))
                check(who, "ticket history", "get", .status(.notFound), try await t.get("\(ticketPath)/history", as: token))
                check(who, "audit event", "get", .status(.notFound), try await t.get("/api/v1/audit-events/\(outside.auditEvent)", as: token))
                check(who, "audit event", "list", .listed(false), listed: try await allIds(t, "/api/v1/audit-events", as: token), outside.auditEvent)

                let count = try await t.get("/api/v1/tickets/count?organizationId=\(outside.organization)", as: token)
                check(who, "ticket", "count", .status(.ok), count)
                if count.json["count"] != 0 { failures.append("\(who) count: the outside ticket is counted: \(count)") }
                let search = try await t.get("/api/v1/search?q=zebra", as: token).json
                check(who, "ticket", "search", .listed(false), listed: search["tickets"].ids, outside.ticket)
                check(who, "contact", "search", .listed(false), listed: search["contacts"].ids, outside.contact)
                check(who, "organization", "search", .listed(false), listed: search["organizations"].ids, outside.organization)

                // Creating under the hidden organization reads as "no such organization", exactly as for an unknown id.
                let unknown = UUID().uuidString
                for (object, path, body) in [
                    ("ticket", "/api/v1/tickets", ["title": "x"] as JSON),
                    ("site", "/api/v1/sites", ["name": "x", "country": "US"]),
                    ("contact", "/api/v1/contacts", ["firstName": "x", "lastName": "y"]),
                ] {
                    let hidden = try await t.post(path, body.merging(["organizationId": .string(outside.organization)]), as: token)
                    check(who, object, "create in the organization", .status(.unprocessableEntity), hidden)
                    let fields = hidden.json["errors"].array.compactMap { $0["field"].string }
                    if fields != ["organizationId"] { failures.append("\(who) create \(object): expected the field organizationId, got \(hidden)") }
                    let missing = try await t.post(path, body.merging(["organizationId": .string(unknown)]), as: token)
                    if hidden.json["detail"] != missing.json["detail"] || hidden.json["errors"] != missing.json["errors"] {
                        failures.append("\(who) create \(object): the refusal differs from an unknown id's: \(hidden) vs \(missing)")
                    }
                }
                check(who, "note", "create", .status(.notFound), try await t.post("\(ticketPath)/notes", ["body": "x"], as: token))
                check(
                    who, "ticket", "assign to an outside contact", .status(.unprocessableEntity),
                    try await t.post("/api/v1/tickets", ["organizationId": .string(inside), "title": "x", "contactId": .string(outside.contact)], as: token))
            }
            #expect(try await t.rowCounts() == countsBefore, "nothing outside was changed")

            // MARK: Inside: visible; what they may change follows their security level.
            for (who, token, administrator) in principals {
                let mine = try await Self.objects(t, organizationName: "", word: "Yak", organizationId: inside)
                let ticketPath = "/api/v1/tickets/\(mine.ticket)"
                // Technician: tickets edit, notes full, contacts edit, organizations and sites view.
                let objects: [(String, String, JSON, update: HTTPStatus, delete: HTTPStatus)] = [
                    ("note", "\(ticketPath)/notes/\(mine.note)", ["body": "updated"], .ok, .noContent),
                    ("contact", "/api/v1/contacts/\(mine.contact)", ["firstName": "Updated"], .ok, administrator ? .conflict : .forbidden),
                    (
                        "site", "/api/v1/sites/\(mine.site)", ["name": .string("Updated site \(who)")], administrator ? .ok : .forbidden,
                        administrator ? .conflict : .forbidden
                    ),
                    ("ticket", ticketPath, ["title": "Updated"], .ok, administrator ? .noContent : .forbidden),
                    (
                        "organization", "/api/v1/organizations/\(inside)", ["name": .string("Northwind \(who)")], administrator ? .ok : .forbidden,
                        administrator ? .conflict : .forbidden
                    ),
                ]
                check(who, "ticket", "list", .listed(true), listed: try await allIds(t, "/api/v1/tickets", as: token), mine.ticket)
                check(who, "organization", "list", .listed(true), listed: try await allIds(t, "/api/v1/organizations", as: token), inside)
                check(who, "site", "list", .listed(true), listed: try await allIds(t, "/api/v1/sites", as: token), mine.site)
                check(who, "contact", "list", .listed(true), listed: try await allIds(t, "/api/v1/contacts", as: token), mine.contact)
                check(who, "note", "list", .listed(true), listed: try await allIds(t, "\(ticketPath)/notes", as: token), mine.note)
                let search = try await t.get("/api/v1/search?q=yak", as: token).json
                check(who, "ticket", "search", .listed(true), listed: search["tickets"].ids, mine.ticket)
                check(who, "contact", "search", .listed(true), listed: search["contacts"].ids, mine.contact)
                check(who, "audit event", "get", .status(.ok), try await t.get("/api/v1/audit-events/\(mine.auditEvent)", as: token))
                // A note of a hidden ticket stays hidden when asked for through a visible ticket.
                check(
                    who, "outside note", "get through an inside ticket", .status(.notFound), try await t.get("\(ticketPath)/notes/\(outside.note)", as: token))
                for (object, path, body, _, _) in objects {
                    check(who, object, "get", .status(.ok), try await t.get(path, as: token))
                }
                for (object, path, body, update, _) in objects {
                    check(who, object, "update", .status(update), try await t.patch(path, body, as: token))
                }
                for (object, path, _, _, delete) in objects {
                    check(who, object, "delete", .status(delete), try await t.delete(path, as: token))
                }
                let count = try await t.get("/api/v1/tickets/count?organizationId=\(inside)", as: token).json["count"].int ?? -1
                if count < 1 { failures.append("\(who) count: the inside tickets are not counted (\(count))") }
                cells += 1
            }

            // MARK: Control: the unrestricted administrator sees the outside objects.
            check("admin", "ticket", "get", .status(.ok), try await t.get("/api/v1/tickets/\(outside.ticket)"))
            check("admin", "note", "get", .status(.ok), try await t.get("/api/v1/tickets/\(outside.ticket)/notes/\(outside.note)"))
            check("admin", "organization", "get", .status(.ok), try await t.get("/api/v1/organizations/\(outside.organization)"))
            check("admin", "site", "get", .status(.ok), try await t.get("/api/v1/sites/\(outside.site)"))
            check("admin", "contact", "get", .status(.ok), try await t.get("/api/v1/contacts/\(outside.contact)"))
            check("admin", "ticket", "search", .listed(true), listed: try await t.get("/api/v1/search?q=zebra").json["tickets"].ids, outside.ticket)
            #expect(try await t.get("/api/v1/tickets/\(outside.ticket)").json["title"] == "Zebra printer jammed")

            print("client restrictions: \(cells) cells checked on \(TestDatabase.name), \(failures.count) failed")
            for failure in failures { Issue.record(Comment(rawValue: failure)) }
            #expect(failures.isEmpty)
        }
    }

    /// What belongs to no one organization (rules and templates act on every organization's tickets, the outbox holds
    /// every organization's mail, co-management's switch and its dry run cover every organization) is refused to a
    /// restricted administrator; of the webhooks, a restricted administrator keeps only their own.
    @Test func tenantWideAdministrationNeedsAnUnrestrictedResource() async throws {
        try await withApp { t in
            let inside = try await t.organization("Northwind Traders")
            let (_, rita) = try await t.resource("rita", .administrator, restrictions: [inside])
            WebhookTests.allowLoopback(t)
            let hook = try await t.create("/api/v1/webhooks", ["url": "http://127.0.0.1:9/admin", "eventTypes": ["note.added"]])["id"].string ?? ""
            let rule: JSON = ["name": "Copy every note", "triggers": ["noteAdded"], "actions": [:]]
            let paths: [(String, HTTPMethod, String, JSON?)] = [
                ("workflow rules", .GET, "/api/v1/workflow-rules", nil), ("a new workflow rule", .POST, "/api/v1/workflow-rules", rule),
                ("ticket rules", .GET, "/api/v1/ticket-rules", nil), ("notification templates", .GET, "/api/v1/notification-templates", nil),
                ("the outbox", .GET, "/api/v1/outbox", nil), ("an outbox retry", .POST, "/api/v1/outbox/\(UUID())/retry", nil),
                ("the deactivation dry run", .GET, "/api/v1/co-management/deactivation-impact", nil),
                ("the co-management switch", .PUT, "/api/v1/co-management", ["enabled": false]),
            ]
            for (what, method, path, body) in paths {
                let reply = try await t.send(method, path, as: rita, json: body)
                #expect(reply.status == .forbidden, "\(what): \(reply)")
                if method == .GET { expectStatus(try await t.get(path), .ok) }
            }
            // The admin's webhook is not rita's to see or change; her own is.
            expectStatus(try await t.get("/api/v1/webhooks/\(hook)", as: rita), .notFound)
            expectStatus(try await t.patch("/api/v1/webhooks/\(hook)", ["url": "http://127.0.0.1:9/rita"], as: rita), .notFound)
            expectStatus(try await t.get("/api/v1/webhooks/\(hook)/deliveries", as: rita), .notFound)
            let own = try await t.create("/api/v1/webhooks", ["url": "http://127.0.0.1:9/rita", "eventTypes": ["note.added"]], as: rita)["id"].string
            #expect(try await t.get("/api/v1/webhooks", as: rita).json.ids == [own].compactMap { $0 })
            #expect(Set(try await t.get("/api/v1/webhooks").json.ids) == Set([hook, own].compactMap { $0 }))
            // The admin pages' tabs follow: no Rules, Templates, Outbox or Co-management tab for her.
            let session = try await t.pageSession("rita", TestApp.password)
            let tabs = try await t.page("/admin/sla-policies", session: session).text
            for tab in ["/admin/rules", "/admin/templates", "/admin/outbox", "/admin/co-management\""] {
                #expect(!tabs.contains("href=\"\(tab)"), "no \(tab) tab")
            }
            expectStatus(try await t.page("/admin/outbox", session: session), .forbidden)
        }
    }

    @Test func restrictionsCanBeChangedAndLifted() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let ticket = try await t.ticket(contoso, "Contoso ticket").id
            let (rickId, rick) = try await t.resource("rick", restrictions: [northwind])
            expectProblem(try await t.get("/api/v1/tickets/\(ticket)", as: rick), .notFound)
            // Restricted staff cannot be assigned outside their organizations.
            expectProblem(try await t.patch("/api/v1/tickets/\(ticket)", ["assigneeIds": [.string(rickId)]]), .unprocessableEntity, field: "assigneeIds")

            expectStatus(try await t.patch("/api/v1/resources/\(rickId)", ["clientRestrictions": [.string(northwind), .string(contoso)]]), .ok)
            expectStatus(try await t.get("/api/v1/tickets/\(ticket)", as: rick), .ok)
            expectStatus(try await t.patch("/api/v1/resources/\(rickId)", ["clientRestrictions": []]), .ok)
            expectProblem(try await t.get("/api/v1/tickets/\(ticket)", as: rick), .notFound)
            #expect(try await t.get("/api/v1/tickets/count", as: rick).json["count"] == 0, "an empty restriction list reaches no organization")
            expectStatus(try await t.patch("/api/v1/resources/\(rickId)", ["clientRestrictions": nil]), .ok)
            expectStatus(try await t.get("/api/v1/tickets/\(ticket)", as: rick), .ok)
            // Restricted staff cannot create organizations: a new one would be outside their restrictions.
            expectStatus(
                try await t.patch(
                    "/api/v1/resources/\(rickId)",
                    [
                        "securityLevelId": .string(try await t.securityLevelId(.administrator)),
                        "clientRestrictions": [.string(northwind)],
                    ]), .ok)
            expectProblem(try await t.post("/api/v1/organizations", ["name": "Rick's own"], as: rick), .forbidden)
        }
    }
}

import Foundation
import Testing
import VaporTesting

@testable import App

/// Every change writes an audit event: who, what, when, before and after (SPEC §4).
@Suite struct AuditTests {
    @Test func everyKindOfChangeIsAudited() async throws {
        try await withApp { t in
            var checked = 0
            /// Creates, updates and deletes through the API and checks the three events.
            func audited(_ entityType: String, _ path: String, create: JSON, update: JSON, changed key: String) async throws {
                let id = try await t.create(path, create).id
                expectStatus(try await t.patch("\(path)/\(id)", update), .ok)
                expectStatus(try await t.delete("\(path)/\(id)"), .noContent)

                let events = try await t.auditEvents(entityId: id)
                #expect(events.map { $0["action"].string ?? "" } == ["created", "updated", "deleted"], "\(entityType) events: \(events)")
                for event in events {
                    #expect(event["entityType"] == .string(entityType), "\(event)")
                    #expect(event["actorId"] == .string(t.adminId), "the actor is named: \(event)")
                    #expect(event["actorKind"] == "resource")
                    #expect(event["actorName"] == "Ada Admin")
                    #expect(event["at"].string != nil)
                }
                guard events.count == 3 else { return }
                let (created, updated, deleted) = (events[0], events[1], events[2])
                #expect(created["before"].isNull && snapshot(created["after"])?[key] == create[key], "created: after only, \(created)")
                #expect(
                    snapshot(updated["before"])?[key] == create[key] && snapshot(updated["after"])?[key] == update[key], "updated: before and after, \(updated)"
                )
                #expect(snapshot(deleted["before"])?[key] == update[key] && deleted["after"].isNull, "deleted: before only, \(deleted)")
                checked += 1
            }

            let organizationId = try await t.organization("Contoso")
            let ticketId = try await t.ticket(organizationId).id
            try await audited("organizations", "/api/v1/organizations", create: ["name": "Fabrikam"], update: ["name": "Fabrikam Legal"], changed: "name")
            try await audited(
                "sites", "/api/v1/sites", create: ["organizationId": .string(organizationId), "name": "HQ", "country": "US"],
                update: ["name": "Headquarters"], changed: "name")
            try await audited(
                "contacts", "/api/v1/contacts", create: ["organizationId": .string(organizationId), "firstName": "Alice", "lastName": "Anders"],
                update: ["firstName": "Alicia"], changed: "firstName")
            try await audited(
                "tickets", "/api/v1/tickets", create: ["organizationId": .string(organizationId), "title": "VPN down"],
                update: ["title": "VPN down again"], changed: "title")
            try await audited(
                "notes", "/api/v1/tickets/\(ticketId)/notes", create: ["body": "Called the user"], update: ["body": "Called the user twice"], changed: "body")
            try await audited(
                "time_entries", "/api/v1/tickets/\(ticketId)/time-entries", create: ["minutes": 15, "summary": "Call"],
                update: ["minutes": 20], changed: "minutes")
            try await audited(
                "attachments", "/api/v1/tickets/\(ticketId)/attachments",
                create: ["filename": "log.txt", "contentType": "text/plain", "content": .string(Data("error 42".utf8).base64EncodedString())],
                update: ["filename": "error.log"], changed: "filename")
            try await audited("queues", "/api/v1/queues", create: ["name": "Escalations"], update: ["name": "Tier 2"], changed: "name")
            try await audited("teams", "/api/v1/teams", create: ["name": "Network"], update: ["name": "Networking"], changed: "name")
            try await audited("roles", "/api/v1/roles", create: ["name": "Engineer", "hourlyRate": 100], update: ["hourlyRate": 110], changed: "hourlyRate")
            try await audited(
                "internal_locations", "/api/v1/internal-locations", create: ["name": "NOC", "timeZone": "UTC"], update: ["name": "Main NOC"], changed: "name")
            let technician = try await t.securityLevelId(.technician)
            try await audited(
                "security_levels", "/api/v1/security-levels", create: ["name": "Junior", "copyOf": .string(technician)],
                update: ["name": "Junior Technician"], changed: "name")
            try await audited(
                "resources", "/api/v1/resources",
                create: [
                    "username": "tara", "password": "long-enough-pw", "firstName": "Tara", "lastName": "Tech",
                    "securityLevelId": .string(technician),
                ],
                update: ["firstName": "Tamara"], changed: "firstName")
            #expect(checked == 13)
            print("audit: checked create/update/delete events for \(checked) kinds of object on \(TestDatabase.name)")
        }
    }

    @Test func auditedChangesCarryTheirOrganizationAndTicket() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let ticket = try await t.ticket(organizationId)
            let note = try await t.note(ticket.id)
            let events = try await t.auditEvents(entityId: note.id)
            #expect(events.first?["ticketId"] == ticket["id"])
            #expect(events.first?["organizationId"] == .string(organizationId))
            // The log can be filtered by ticket and by organization.
            let byTicket = try await t.get("/api/v1/audit-events?ticketId=\(ticket.id)").json["items"].array
            #expect(Set(byTicket.compactMap { $0["entityId"].string }) == [ticket.id, note.id])
            let byOrganization = try await t.get("/api/v1/audit-events?organizationId=\(organizationId)").json["items"].array
            #expect(byOrganization.count == 3, "the organization, its ticket and the note")
        }
    }

    @Test func refusedChangesAreNotAudited() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let (_, technician) = try await t.resource("tara")
            let before = try await t.count("audit_events")
            expectProblem(try await t.patch("/api/v1/organizations/\(organizationId)", ["name": "Mine now"], as: technician), .forbidden)
            expectProblem(try await t.delete("/api/v1/organizations/\(organizationId)", as: technician), .forbidden)
            expectProblem(try await t.post("/api/v1/queues", ["name": "Mine"], as: technician), .forbidden)
            #expect(try await t.count("audit_events") == before)
        }
    }

    /// The `before` / `after` of an event, which the log keeps as JSON text.
    func snapshot(_ value: JSON) -> JSON? {
        value.string.flatMap { JSON.parse(Data($0.utf8)) }
    }
}

import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Create, list, get, update and delete for every collection of Appendix A.
@Suite struct CollectionsTests {
    @Test func organizations() async throws {
        try await withApp { t in
            try await exerciseCollection(t, "/api/v1/organizations", create: ["name": "Northwind Traders"], update: ["name": "Northwind Trading"])
        }
    }

    @Test func sites() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let id = try await exerciseCollection(
                t, "/api/v1/sites",
                create: ["organizationId": .string(organizationId), "name": "Boston Lab", "country": "US", "address": "1 Main St"],
                update: ["name": "Boston Laboratory", "country": "CA"], delete: false)
            // The organizationId filter narrows the list.
            let other = try await t.organization("Fabrikam")
            let otherSite = try await t.site(other, "London Chambers", country: "GB")
            let filtered = try await t.get("/api/v1/sites?organizationId=\(organizationId)")
            #expect(filtered.json.ids == [id])
            #expect(!filtered.json.ids.contains(otherSite))
            expectStatus(try await t.delete("/api/v1/sites/\(id)"), .noContent)
            expectProblem(try await t.get("/api/v1/sites/\(id)"), .notFound)
        }
    }

    @Test func contacts() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let siteId = try await t.site(organizationId, "Boston Lab")
            try await exerciseCollection(
                t, "/api/v1/contacts",
                create: [
                    "organizationId": .string(organizationId), "siteId": .string(siteId), "firstName": "Alice", "lastName": "Anders",
                    "email": "alice@contoso.example", "phones": [["number": "2065550100", "countryCode": "US", "kind": "mobile"]],
                ],
                update: ["lastName": "Anders-Baker", "phones": [["number": "442079460000", "countryCode": "GB", "kind": "office"]]])
        }
    }

    @Test func resources() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let technician = try await t.securityLevelId(.technician)
            let dispatcher = try await t.securityLevelId(.dispatcher)
            let id = try await exerciseCollection(
                t, "/api/v1/resources",
                create: [
                    "username": "tara", "password": "long-enough-pw", "firstName": "Tara", "lastName": "Tech", "email": "tara@msp.example",
                    "securityLevelId": .string(technician), "clientRestrictions": [.string(organizationId)],
                ],
                update: ["lastName": "Technician", "securityLevelId": .string(dispatcher), "clientRestrictions": nil],
                delete: false)
            let created = try await t.get("/api/v1/resources/\(id)").json
            #expect(created["clientRestrictions"].isNull, "null means all organizations")
            #expect(created["password"].isNull && created["passwordHash"].isNull, "the password is write only")
            _ = try await t.login("tara", "long-enough-pw")

            // Deleting a resource deactivates it: history keeps its name, logins stop.
            expectStatus(try await t.delete("/api/v1/resources/\(id)"), .noContent)
            #expect(try await t.get("/api/v1/resources/\(id)").json["active"] == false)
            expectProblem(try await t.post("/api/v1/auth/token", ["username": "tara", "password": "long-enough-pw"], as: ""), .unauthorized)
        }
    }

    @Test func securityLevels() async throws {
        try await withApp { t in
            let technician = try await t.securityLevelId(.technician)
            let technicianLevel = try await t.get("/api/v1/security-levels/\(technician)").json
            #expect(technicianLevel["systemKey"] == "technician")

            let id = try await exerciseCollection(
                t, "/api/v1/security-levels",
                create: ["name": "Senior Technician", "copyOf": .string(technician)],
                update: ["name": "Lead Technician"], skip: ["copyOf"], delete: false)
            let copy = try await t.get("/api/v1/security-levels/\(id)").json
            #expect(copy["systemKey"].isNull)
            #expect(copy["permissions"] == technicianLevel["permissions"], "a copy starts with the permissions of its source")
            expectStatus(try await t.delete("/api/v1/security-levels/\(id)"), .noContent)

            // The system levels are listed, and refuse edits and deletes.
            let all = try await t.get("/api/v1/security-levels?limit=200").json["items"].array
            #expect(Set(all.compactMap { $0["systemKey"].string }) == Set(SystemSecurityLevel.allCases.map(\.rawValue)))
            let before = try await t.rowCounts()
            expectProblem(try await t.patch("/api/v1/security-levels/\(technician)", ["name": "Renamed"]), .conflict, contains: "cannot be edited")
            expectProblem(try await t.delete("/api/v1/security-levels/\(technician)"), .conflict, contains: "cannot be deleted")

            // A co-managed level can never hold an administrative permission.
            let refused = try await t.post(
                "/api/v1/security-levels",
                [
                    "name": "Client IT admin", "coManaged": true,
                    "permissions": ["ticketScope": "all", "areas": ["tickets": "edit"], "admin": ["manageUsers"]],
                ])
            expectProblem(refused, .unprocessableEntity, field: "permissions.admin", contains: "manageUsers")
            let administrator = try await t.securityLevelId(.administrator)
            expectProblem(
                try await t.post("/api/v1/security-levels", ["name": "Copy", "copyOf": .string(administrator), "coManaged": true]),
                .unprocessableEntity, field: "permissions.admin")
            #expect(try await t.rowCounts() == before)
        }
    }

    @Test func queues() async throws {
        try await withApp { t in
            let (tara, _) = try await t.resource("tara")
            try await exerciseCollection(
                t, "/api/v1/queues", create: ["name": "Service Desk", "memberIds": [.string(t.adminId)]],
                update: ["name": "Service Desk EU", "memberIds": [.string(tara)]])
        }
    }

    @Test func teams() async throws {
        try await withApp { t in
            let (tara, _) = try await t.resource("tara")
            try await exerciseCollection(
                t, "/api/v1/teams", create: ["name": "Network", "members": [["principalId": .string(t.adminId), "access": "full"]]],
                update: ["members": [["principalId": .string(t.adminId), "access": "readOnly"], ["principalId": .string(tara), "access": "own"]]])
        }
    }

    @Test func roles() async throws {
        try await withApp { t in
            try await exerciseCollection(
                t, "/api/v1/roles", create: ["name": "Engineer", "hourlyRate": 120.5, "blockHourMultiplier": 1.5],
                update: ["hourlyRate": 135, "blockHourMultiplier": 2])
        }
    }

    @Test func internalLocations() async throws {
        try await withApp { t in
            try await exerciseCollection(
                t, "/api/v1/internal-locations",
                create: [
                    "name": "Seattle NOC", "timeZone": "America/Los_Angeles",
                    "businessHours": [["weekday": 1, "start": "08:00", "end": "17:00"], ["weekday": 2, "start": "08:00", "end": "17:00"]],
                    "holidays": ["2026-12-25"],
                ],
                update: ["timeZone": "Europe/London", "holidays": ["2026-12-25", "2026-12-26"]])
        }
    }

    @Test func tickets() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let siteId = try await t.site(organizationId, "Boston Lab")
            let contactId = try await t.contact(organizationId, "Alice")
            let queueId = try await t.create("/api/v1/queues", ["name": "Service Desk"]).id
            let teamId = try await t.create("/api/v1/teams", ["name": "Network"]).id
            let (tara, _) = try await t.resource("tara")
            let id = try await exerciseCollection(
                t, "/api/v1/tickets",
                create: [
                    "organizationId": .string(organizationId), "siteId": .string(siteId), "contactId": .string(contactId),
                    "queueId": .string(queueId), "teamId": .string(teamId), "title": "VPN disconnects", "description": "Every hour",
                    "priority": "high", "source": "phone", "assigneeIds": [.string(t.adminId), .string(tara)], "coManagedVisible": true,
                ],
                update: ["title": "VPN disconnects hourly", "status": "inProgress", "priority": "critical", "assigneeIds": [.string(tara)]],
                delete: false)
            let ticket = try await t.get("/api/v1/tickets/\(id)").json
            #expect(ticket["status"] == "inProgress")
            #expect(ticket["number"].int ?? 0 >= 1)
            #expect(ticket["version"] == 2)
            expectStatus(try await t.delete("/api/v1/tickets/\(id)"), .noContent)
            expectProblem(try await t.get("/api/v1/tickets/\(id)"), .notFound)
            #expect(try await t.get("/api/v1/tickets/count").json["count"] == 0)
        }
    }

    @Test func notes() async throws {
        try await withApp { t in
            let ticketId = try await t.ticket(try await t.organization("Contoso")).id
            try await exerciseCollection(
                t, "/api/v1/tickets/\(ticketId)/notes", create: ["body": "Rebooted the router.", "publishTo": "internal"],
                update: ["body": "Rebooted the router twice.", "publishTo": "all"])
            let defaulted = try await t.note(ticketId, "No publish-to given")
            #expect(defaulted["publishTo"] == "internal", "MSP staff notes default to internal")
            #expect(defaulted["authorId"] == .string(t.adminId))
        }
    }

    @Test func timeEntries() async throws {
        try await withApp { t in
            let ticketId = try await t.ticket(try await t.organization("Contoso")).id
            let roleId = try await t.create("/api/v1/roles", ["name": "Engineer", "hourlyRate": 120]).id
            try await exerciseCollection(
                t, "/api/v1/tickets/\(ticketId)/time-entries",
                create: ["roleId": .string(roleId), "minutes": 30, "summary": "Replaced the switch", "publishTo": "all"],
                update: ["minutes": 45, "summary": "Replaced and configured the switch"])
        }
    }

    @Test func attachments() async throws {
        try await withApp { t in
            let ticketId = try await t.ticket(try await t.organization("Contoso")).id
            let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data((0..<2000).map { UInt8($0 % 251) })
            let path = "/api/v1/tickets/\(ticketId)/attachments"
            let id = try await exerciseCollection(
                t, path,
                create: ["filename": "screenshot.png", "contentType": "image/png", "content": .string(png.base64EncodedString()), "publishTo": "all"],
                update: ["filename": "error-dialog.png"], skip: ["content"], delete: false)
            let meta = try await t.get("\(path)/\(id)").json
            #expect(meta["size"].int == png.count)

            // The content endpoint answers the very bytes, with their type.
            let content = try await t.get("\(path)/\(id)/content")
            expectStatus(content, .ok)
            let sameBytes = content.body == png
            #expect(sameBytes, "the content endpoint answers the bytes that were sent (got \(content.body.count) bytes)")
            #expect(content.contentType == "image/png")
            #expect(content.headers.first(name: "X-Content-Type-Options") == "nosniff")

            // Bytes that are not what the type says are refused, and nothing is written.
            let before = try await t.rowCounts()
            let lie = try await t.post(
                path, ["filename": "evil.png", "contentType": "image/png", "content": .string(Data("<script>".utf8).base64EncodedString())])
            expectProblem(lie, .unprocessableEntity, field: "content", contains: "not a image/png")
            let exe = try await t.post(path, ["filename": "setup.exe", "contentType": "application/x-msdownload", "content": "TVqQAAMAAAAEAAAA"])
            expectProblem(exe, .unprocessableEntity, field: "contentType")

            // More than 10 MB is too large, even inside the 15 MB body limit.
            var big = Data([0x89, 0x50, 0x4E, 0x47])
            big.append(Data(count: 10 * 1024 * 1024 + 1 - big.count))
            let tooBig = try await t.post(path, ["filename": "huge.png", "contentType": "image/png", "content": .string(big.base64EncodedString())])
            expectProblem(tooBig, .payloadTooLarge)
            #expect(try await t.rowCounts() == before)

            expectStatus(try await t.delete("\(path)/\(id)"), .noContent)
            expectProblem(try await t.get("\(path)/\(id)/content"), .notFound)
            expectProblem(try await t.get("\(path)/\(id)"), .notFound)
        }
    }

    @Test func auditEventsAreReadOnly() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let events = try await t.get("/api/v1/audit-events")
            expectStatus(events, .ok)
            let event = try #require(events.json["items"].array.first { $0["entityId"] == .string(organizationId) })
            let one = try await t.get("/api/v1/audit-events/\(event.id)")
            expectStatus(one, .ok)
            #expect(one.json == event)

            let before = try await t.rowCounts()
            let patch = try await t.patch("/api/v1/audit-events/\(event.id)", ["action": "nothing happened"])
            expectProblem(patch, .methodNotAllowed)
            #expect(patch.headers.first(name: .allow) == "GET")
            expectProblem(try await t.delete("/api/v1/audit-events/\(event.id)"), .methodNotAllowed)
            #expect(try await t.rowCounts() == before)
            #expect(try await t.get("/api/v1/audit-events/\(event.id)").json == event)
        }
    }
}

/// Creates an object, finds it in the list, reads it, updates it, deletes it and checks it is gone.
/// Every field of the create and update bodies must come back as sent, except those in `skip`
/// (write-only or create-only fields). Returns the id.
@discardableResult
func exerciseCollection(
    _ t: TestApp, _ path: String, create: JSON, update: JSON, skip: Set<String> = [], delete: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let skipped = skip.union(["password"])
    func expectEcho(_ sent: JSON, _ got: JSON, _ step: String) {
        for (key, value) in sent.object ?? [:] where !skipped.contains(key) {
            #expect(got[key] == value, "\(step) \(path): \(key) sent \(value), got \(got[key])", sourceLocation: sourceLocation)
        }
    }

    let created = try await t.post(path, create)
    #expect(created.status == .created, "POST \(path): \(created)", sourceLocation: sourceLocation)
    let id = created.id
    #expect(UUID(uuidString: id) != nil, "POST \(path) gave id '\(id)'", sourceLocation: sourceLocation)
    expectEcho(create, created.json, "POST")

    #expect(try await allIds(t, path).contains(id), "GET \(path) lists the new object", sourceLocation: sourceLocation)

    let read = try await t.get("\(path)/\(id)")
    #expect(read.status == .ok, "GET \(path)/{id}: \(read)", sourceLocation: sourceLocation)
    expectEcho(create, read.json, "GET")

    let updated = try await t.patch("\(path)/\(id)", update)
    #expect(updated.status == .ok, "PATCH \(path)/{id}: \(updated)", sourceLocation: sourceLocation)
    expectEcho(update, updated.json, "PATCH")
    let reread = try await t.get("\(path)/\(id)")
    expectEcho(update, reread.json, "GET after PATCH")
    // Fields the update did not name keep their values.
    for (key, value) in create.object ?? [:] where !skipped.contains(key) && update[key] == .null && update.object?[key] == nil {
        #expect(reread.json[key] == value, "PATCH \(path) kept \(key)", sourceLocation: sourceLocation)
    }

    if delete {
        let deleted = try await t.delete("\(path)/\(id)")
        #expect(deleted.status == .noContent, "DELETE \(path)/{id}: \(deleted)", sourceLocation: sourceLocation)
        let gone = try await t.get("\(path)/\(id)")
        #expect(gone.status == .notFound, "GET after DELETE \(path)/{id}: \(gone)", sourceLocation: sourceLocation)
        #expect(try await !allIds(t, path).contains(id), "GET \(path) no longer lists it", sourceLocation: sourceLocation)
    }
    return id
}

/// Every id of a collection, walking its pages.
func allIds(_ t: TestApp, _ path: String, as token: String? = nil) async throws -> [String] {
    var ids: [String] = []
    var cursor: String?
    repeat {
        let separator = path.contains("?") ? "&" : "?"
        let page = try await t.get("\(path)\(separator)limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""), as: token)
        guard page.status == .ok else { throw TestSetupError("GET \(path): \(page)") }
        ids += page.json.ids
        cursor = page.json["nextCursor"].string
    } while cursor != nil
    return ids
}

import Foundation
import Testing
import VaporTesting

@testable import App

/// `?limit=` and `?cursor=` (Appendix A), and the ticket list's filters.
@Suite struct PaginationTests {
    @Test func ticketPagesReturnEveryTicketOnceNewestFirst() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            var created: [JSON] = []
            for index in 1...7 { created.append(try await t.ticket(organizationId, "Ticket \(index)")) }

            var seen: [JSON] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await t.get("/api/v1/tickets?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
                expectStatus(page, .ok)
                let items = page.json["items"].array
                #expect(items.count == (pages < 2 ? 3 : 1))
                seen += items
                cursor = page.json["nextCursor"].string
                pages += 1
            } while cursor != nil && pages < 10

            #expect(pages == 3)
            #expect(seen.map(\.id) == created.reversed().map(\.id), "every ticket exactly once, newest first")
            let numbers = seen.compactMap { $0["number"].int }
            #expect(numbers == numbers.sorted(by: >))
        }
    }

    @Test func collectionPagesWalkByCursor() async throws {
        try await withApp { t in
            var created: [String] = []
            for index in 1...5 { created.append(try await t.organization("Organization \(index)")) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await t.get("/api/v1/organizations?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                expectStatus(page, .ok)
                #expect(page.json["items"].array.count <= 2)
                seen += page.json.ids
                cursor = page.json["nextCursor"].string
            } while cursor != nil && seen.count < 20
            #expect(seen == created)
            // The last page says so by leaving out nextCursor.
            let last = try await t.get("/api/v1/organizations?limit=200")
            #expect(last.json["nextCursor"].isNull)
        }
    }

    @Test(arguments: ["0", "201", "-1", "abc", "2.5"])
    func badLimitIsRefused(limit: String) async throws {
        try await withApp { t in
            for path in ["/api/v1/tickets", "/api/v1/organizations", "/api/v1/audit-events"] {
                expectProblem(try await t.get("\(path)?limit=\(limit)"), .unprocessableEntity, field: "limit", contains: "between 1 and 200")
            }
        }
    }

    @Test(arguments: ["not-a-cursor!", "bm90LWEtbnVtYmVy", "%00"])
    func badCursorIsRefused(cursor: String) async throws {
        try await withApp { t in
            for path in ["/api/v1/tickets", "/api/v1/organizations", "/api/v1/contacts"] {
                expectProblem(try await t.get("\(path)?cursor=\(cursor)"), .unprocessableEntity, field: "cursor")
            }
        }
    }

    @Test func ticketFilters() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let queue = try await t.create("/api/v1/queues", ["name": "Service Desk"]).id
            let (tara, _) = try await t.resource("tara")
            let vpn = try await t.ticket(contoso, "VPN drops every hour", extra: ["queueId": .string(queue)]).id
            let printer = try await t.ticket(contoso, "Printer offline", extra: ["assigneeIds": [.string(tara)]]).id
            let backup = try await t.ticket(fabrikam, "Backup failed", extra: ["description": "The nightly VPN backup job failed"]).id
            expectStatus(try await t.patch("/api/v1/tickets/\(printer)", ["status": "inProgress"]), .ok)

            func ids(_ query: String) async throws -> Set<String> {
                let reply = try await t.get("/api/v1/tickets?\(query)")
                expectStatus(reply, .ok)
                return Set(reply.json.ids)
            }
            func count(_ query: String) async throws -> Int? {
                try await t.get("/api/v1/tickets/count?\(query)").json["count"].int
            }
            #expect(try await ids("organizationId=\(contoso)") == [vpn, printer])
            #expect(try await ids("queueId=\(queue)") == [vpn])
            #expect(try await ids("assigneeId=\(tara)") == [printer])
            #expect(try await ids("status=inProgress") == [printer])
            #expect(try await ids("status=new,inProgress") == [vpn, printer, backup])
            #expect(try await ids("q=vpn") == [vpn, backup], "text matches title and description, case-insensitively")
            #expect(try await ids("q=vpn&organizationId=\(fabrikam)") == [backup])
            #expect(try await ids("q=100%25") == [], "LIKE wildcards in the text are literal")
            #expect(try await count("organizationId=\(contoso)") == 2)
            #expect(try await count("q=vpn") == 2)
            #expect(try await count("") == 3)

            expectProblem(try await t.get("/api/v1/tickets?status=open"), .unprocessableEntity, field: "status", contains: "inProgress")
            expectProblem(try await t.get("/api/v1/tickets?organizationId=nope"), .unprocessableEntity, field: "organizationId")
            expectProblem(try await t.get("/api/v1/tickets/count?queueId=nope"), .unprocessableEntity, field: "queueId")
        }
    }
}

import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Optimistic concurrency (ETag / If-Match) and the status state machine, through the API.
@Suite struct TicketWriteTests {
    @Test func staleIfMatchChangesNothing() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let created = try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "Printer offline"])
            #expect(created.headers.first(name: .eTag) == "\"1\"")
            let id = created.id

            let read = try await t.get("/api/v1/tickets/\(id)")
            let firstTag = try #require(read.headers.first(name: .eTag))
            #expect(firstTag == "\"1\"")

            // A write with the current tag succeeds and moves the tag on.
            let updated = try await t.patch("/api/v1/tickets/\(id)", ["priority": "high"], headers: ["If-Match": firstTag])
            expectStatus(updated, .ok)
            let secondTag = try #require(updated.headers.first(name: .eTag))
            #expect(secondTag == "\"2\"")
            let current = try await t.get("/api/v1/tickets/\(id)")
            #expect(current.headers.first(name: .eTag) == secondTag)

            // Writes with the old tag are refused and change nothing.
            let auditBefore = try await t.count("audit_events")
            let stalePatch = try await t.patch("/api/v1/tickets/\(id)", ["title": "Lost update"], headers: ["If-Match": firstTag])
            expectProblem(stalePatch, .preconditionFailed, contains: "version 2")
            let staleDelete = try await t.delete("/api/v1/tickets/\(id)", headers: ["If-Match": firstTag])
            expectProblem(staleDelete, .preconditionFailed)
            let weakStale = try await t.patch("/api/v1/tickets/\(id)", ["title": "Lost update"], headers: ["If-Match": "W/\(firstTag)"])
            expectProblem(weakStale, .preconditionFailed)

            let after = try await t.get("/api/v1/tickets/\(id)")
            expectStatus(after, .ok)
            #expect(after.json == current.json, "the ticket is unchanged after the stale writes")
            #expect(after.headers.first(name: .eTag) == secondTag)
            #expect(try await t.count("audit_events") == auditBefore)

            // With the current tag the delete goes through.
            expectStatus(try await t.delete("/api/v1/tickets/\(id)", headers: ["If-Match": secondTag]), .noContent)
            expectProblem(try await t.get("/api/v1/tickets/\(id)"), .notFound)
        }
    }

    @Test func statusMachineRefusesIllegalTransitions() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let id = try await t.ticket(organizationId).id
            func move(_ status: String) async throws -> Reply {
                try await t.patch("/api/v1/tickets/\(id)", ["status": .string(status)])
            }
            expectProblem(try await move("closed"), .unprocessableEntity, field: "status", contains: "cannot go from new to closed")
            for status in ["inProgress", "resolved", "closed"] {
                let reply = try await move(status)
                expectStatus(reply, .ok)
                #expect(reply.json["status"] == .string(status))
            }
            let version = try await t.get("/api/v1/tickets/\(id)").json["version"]

            let refused = try await move("waitingApproval")
            expectProblem(refused, .unprocessableEntity, field: "status", contains: "from closed it can go to inProgress")
            expectProblem(try await move("resolved"), .unprocessableEntity, field: "status")
            let after = try await t.get("/api/v1/tickets/\(id)").json
            #expect(after["status"] == "closed")
            #expect(after["version"] == version, "a refused transition writes nothing")

            // Reopening is legal, and staying in the same status is not a transition.
            expectStatus(try await move("inProgress"), .ok)
            expectStatus(try await move("inProgress"), .ok)
            expectStatus(try await move("waitingCustomer"), .ok)
            expectStatus(try await move("closed"), .ok)
        }
    }

    /// Every pair of statuses through the API agrees with the state machine in the core.
    @Test func everyTransitionThroughTheAPI() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            var checked = 0
            for from in TicketStatus.allCases {
                let path = try #require(Self.path(to: from))
                for to in TicketStatus.allCases {
                    let id = try await t.ticket(organizationId, "\(from) to \(to)").id
                    for step in path { expectStatus(try await t.patch("/api/v1/tickets/\(id)", ["status": .string(step.rawValue)]), .ok) }
                    let reply = try await t.patch("/api/v1/tickets/\(id)", ["status": .string(to.rawValue)])
                    if from == to || from.allowedNext.contains(to) {
                        #expect(reply.status == .ok, "\(from) → \(to): \(reply)")
                    } else {
                        expectProblem(reply, .unprocessableEntity, field: "status")
                        #expect(try await t.get("/api/v1/tickets/\(id)").json["status"] == .string(from.rawValue))
                    }
                    checked += 1
                }
            }
            #expect(checked == 49)
        }
    }

    /// The shortest legal path from `new` to `status`.
    static func path(to status: TicketStatus) -> [TicketStatus]? {
        var paths: [TicketStatus: [TicketStatus]] = [.new: []]
        var queue: [TicketStatus] = [.new]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            for next in current.allowedNext.sorted(by: { $0.rawValue < $1.rawValue }) where paths[next] == nil {
                paths[next] = paths[current]! + [next]
                queue.append(next)
            }
        }
        return paths[status]
    }

    @Test func historyListsTheTicketsChanges() async throws {
        try await withApp { t in
            let id = try await t.ticket(try await t.organization("Contoso")).id
            expectStatus(try await t.patch("/api/v1/tickets/\(id)", ["priority": "high"]), .ok)
            expectStatus(try await t.patch("/api/v1/tickets/\(id)", ["status": "inProgress"]), .ok)
            let history = try await t.get("/api/v1/tickets/\(id)/history")
            expectStatus(history, .ok)
            #expect(history.json["items"].array.map { $0["action"].string ?? "" } == ["created", "updated", "updated"])
            expectProblem(try await t.get("/api/v1/tickets/\(UUID().uuidString)/history"), .notFound)
        }
    }
}

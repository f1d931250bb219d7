import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The ticket list: the API's `sort`, and the page's sort, counts per status, "assigned to me" and
/// saved filters, each under the access policy (the counts are the list's totals, never more).
@Suite struct TicketListPageTests {
    /// Tickets with priorities and due dates in an order that differs from their numbers.
    static let fixtures: [(title: String, priority: String, dueDays: Int?)] = [
        ("A", "low", 3), ("B", "critical", nil), ("C", "medium", 1), ("D", "high", 5), ("E", "low", nil), ("F", "critical", 2),
    ]

    @Test func theAPISortsAndPagesByEachKey() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let now = Date()
            var tickets: [(id: String, number: Int, priority: Int, due: Date?)] = []
            let ranks = ["low": 0, "medium": 1, "high": 2, "critical": 3]
            for fixture in Self.fixtures {
                var extra: JSON = ["priority": .string(fixture.priority)]
                let due = fixture.dueDays.map { now.addingTimeInterval(Double($0) * 86_400) }
                if let due { extra = extra.merging(["dueAt": .string(ISO8601DateFormatter().string(from: due))]) }
                let created = try await t.ticket(northwind, fixture.title, extra: extra)
                tickets.append((created.id, created["number"].int ?? 0, ranks[fixture.priority]!, due))
            }
            // The last change: touch the tickets in an order of their own.
            for index in [2, 0, 5] {
                expectStatus(try await t.patch("/api/v1/tickets/\(tickets[index].id)", ["description": .string("touched \(index)")]), .ok)
            }
            let byNumber = tickets.sorted { $0.number < $1.number }.map(\.id)
            let byPriority = tickets.sorted { ($0.priority, $0.number) < ($1.priority, $1.number) }.map(\.id)
            let byDue = tickets.sorted { a, b in
                switch (a.due, b.due) {
                case (let x?, let y?): x != y ? x < y : a.number < b.number
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): a.number < b.number
                }
            }.map(\.id)
            let touched = [2, 0, 5].map { tickets[$0].id }
            let untouchedNewestLast = byNumber.filter { !touched.contains($0) }

            // Every order, with pages of two (the cursor carries over between pages of any order).
            func paged(_ sort: String) async throws -> [String] {
                var ids: [String] = []
                var cursor: String?
                repeat {
                    let page = try await t.get("/api/v1/tickets?sort=\(sort)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    guard page.status == .ok else { throw TestSetupError("sort=\(sort): \(page)") }
                    ids += page.json.ids
                    cursor = page.json["nextCursor"].string
                } while cursor != nil
                return ids
            }
            #expect(try await paged("number") == byNumber)
            #expect(try await paged("-number") == byNumber.reversed())
            #expect(try await allIds(t, "/api/v1/tickets") == byNumber.reversed(), "the default is still newest first")
            #expect(try await paged("priority") == byPriority)
            #expect(try await paged("-priority") == byPriority.reversed())
            #expect(try await paged("dueAt") == byDue)
            // Descending by due date: the latest first, and still no due date last.
            let dated = byDue.filter { id in tickets.first { $0.id == id }!.due != nil }
            let undated = byDue.filter { !dated.contains($0) }
            #expect(try await paged("-dueAt") == dated.reversed() + undated.reversed())
            let updated = try await paged("-updatedAt")
            #expect(Array(updated.prefix(3)) == touched.reversed(), "the last touched first")
            #expect(try await paged("updatedAt") == updated.reversed())
            #expect(Set(updated.suffix(3)) == Set(untouchedNewestLast))

            // A sort it does not know, and a cursor whose ticket is gone or hidden, are refused.
            expectProblem(try await t.get("/api/v1/tickets?sort=title"), .unprocessableEntity, field: "sort")
            let (_, rick) = try await t.resource("rick", restrictions: [try await t.organization("Contoso")])
            let hidden = ListPage<TicketDTO>.ticketCursor(after: tickets[0].number)
            expectProblem(try await t.get("/api/v1/tickets?sort=priority&cursor=\(hidden)", as: rick), .unprocessableEntity, field: "cursor")
            expectProblem(
                try await t.get("/api/v1/tickets?sort=priority&cursor=\(ListPage<TicketDTO>.ticketCursor(after: 999_999))"), .unprocessableEntity,
                field: "cursor")
        }
    }

    @Test func countsPerStatusAreTheListsTotalsForEachKindOfPrincipal() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service Desk")
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: TestApp.password)
            let statuses = ["new", "inProgress", "waitingCustomer", "resolved", "new", "inProgress"]
            var all: [String] = []
            for (index, status) in statuses.enumerated() {
                for (organization, contact) in [(northwind, alice), (contoso, nil)] {
                    var extra: JSON = ["queueId": .string(queue), "coManagedVisible": .bool(index % 2 == 0)]
                    if let contact, index < 4 { extra = extra.merging(["contactId": .string(contact)]) }
                    let ticket = try await t.ticket(organization, "Ticket \(index)", extra: extra)
                    if status != "new" { expectStatus(try await t.patch("/api/v1/tickets/\(ticket.id)", ["status": .string(status)]), .ok) }
                    all.append(ticket.id)
                }
            }
            let (_, rickToken) = try await t.resource("rick", restrictions: [northwind])
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
            try await t.setUp(northwind, users: [nina])
            try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(nina)/totp-pause", ["for": "24h"])
            let ninaToken = try await t.login("nina", TestApp.password)
            let aliceToken = try await t.login("alice@northwind.example", TestApp.password)
            let sessions = [
                ("admin", try await t.pageSession("admin", TestApp.adminPassword), t.adminToken),
                ("rick", try await t.pageSession("rick", TestApp.password), rickToken),
                ("nina", try await t.pageSession("nina", TestApp.password), ninaToken),
                ("alice", try await t.pageSession("alice@northwind.example", TestApp.password), aliceToken),
            ]
            var totals: [String: Int] = [:]
            for (who, session, token) in sessions {
                let page = try await t.page("/tickets", session: session)
                expectStatus(page, .ok)
                let counts = statusCounts(page.text)
                let visible = try await allIds(t, "/api/v1/tickets", as: token)
                totals[who] = visible.count
                #expect(counts["All"] == visible.count, "\(who): All counts \(counts["All"] ?? -1), the list has \(visible.count)")
                #expect(page.text.contains(visible.count == 1 ? "1 ticket" : "\(visible.count) tickets"))
                for status in Set(statuses) {
                    let listed = try await allIds(t, "/api/v1/tickets?status=\(status)", as: token)
                    let label = TicketStatus(rawValue: status)!.label
                    #expect((counts[label] ?? 0) == listed.count, "\(who): \(label) counts \(counts[label] ?? 0), the list has \(listed.count)")
                    // The status's page lists exactly those tickets.
                    let filtered = try await t.page("/tickets?status=\(status)", session: session)
                    #expect(Set(ids(in: filtered.text)) == Set(listed.map { $0.lowercased() }), "\(who): \(label)")
                }
                #expect(counts.values.reduce(0, +) == 2 * visible.count, "All and the statuses add up")
            }
            // The counts follow the policy: each principal sees fewer than the administrator, and never a hidden ticket.
            #expect(totals["admin"] == all.count)
            #expect(totals["rick"] == statuses.count, "Northwind only")
            #expect(totals["nina"] == statuses.count / 2, "Northwind's co-managed-visible tickets")
            #expect(totals["alice"] == 4, "Alice's own")
        }
    }

    @Test func thePageSortsAndFiltersAssignedToMeAndAppliesSavedFilters() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let (tara, taraToken) = try await t.resource("tara")
            let low = try await t.ticket(northwind, "Low one", extra: ["priority": "low"]).id
            let critical = try await t.ticket(northwind, "Critical one", extra: ["priority": "critical", "assigneeIds": [.string(tara)]]).id
            let high = try await t.ticket(northwind, "High one", extra: ["priority": "high", "assigneeIds": [.string(tara)]]).id
            let session = try await t.pageSession("tara", TestApp.password)

            let page = try await t.page("/tickets?sort=-priority", session: session)
            #expect(ids(in: page.text) == [critical, high, low].map { $0.lowercased() })
            #expect(page.text.contains("aria-sort=\"descending\""))
            // The header links sort by their column, and turn the order around when it already does.
            #expect(page.text.contains("href=\"/tickets?sort=priority\""))
            #expect(ids(in: try await t.page("/tickets?sort=priority", session: session).text) == [low, high, critical].map { $0.lowercased() })
            #expect(page.text.contains(">Assignees<") && page.text.contains("Tara Tester"))

            let mine = try await t.page("/tickets?mine=1", session: session)
            #expect(Set(ids(in: mine.text)) == Set([critical, high].map { $0.lowercased() }))
            #expect(mine.text.contains("id=\"mine\" name=\"mine\" type=\"checkbox\" value=\"1\" checked"))
            #expect(statusCounts(mine.text)["All"] == 2)

            // Held by: the client's IT's tickets (a handoff sets the side, SLATests; here the column, for a small fixture).
            try await t.db.sql.update(Ticket.schema).set("responsible_side", to: "clientIT").where("id", .equal, UUID(uuidString: low)!).run()
            let held = try await t.page("/tickets?responsibleSide=clientIT", session: session)
            #expect(ids(in: held.text) == [low.lowercased()] && statusCounts(held.text)["All"] == 1)
            #expect(held.text.contains("<option value=\"clientIT\" selected>Client IT</option>"))
            #expect(!ids(in: try await t.page("/tickets?responsibleSide=msp", session: session).text).contains(low.lowercased()))
            let unknownSide = try await t.page("/tickets?responsibleSide=them", session: session)
            #expect(unknownSide.text.contains("That side is not known") && ids(in: unknownSide.text).count == 3)

            try await t.create(
                "/api/v1/saved-filters", ["name": "Urgent of mine", "query": .string("assigneeId=\(tara)&sort=-priority&status=new")], as: taraToken)
            let withSaved = try await t.page("/tickets", session: session)
            let link = try #require(withSaved.text.firstMatch(of: /<a href="([^"]+)">Urgent of mine<\/a>/)).1.replacingOccurrences(of: "&amp;", with: "&")
            #expect(ids(in: try await t.page(link, session: session).text) == [critical, high].map { $0.lowercased() })
            // Another technician does not see Tara's filter.
            _ = try await t.resource("omar")
            #expect(!(try await t.page("/tickets", session: try await t.pageSession("omar", TestApp.password)).text.contains("Urgent of mine")))
        }
    }
}

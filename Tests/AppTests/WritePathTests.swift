import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The fast paths of the busiest requests give the same answers as the general ones: hand-written
/// JSON, the date format, and group commit's transaction semantics on SQLite.
@Suite struct WritePathTests {
    /// The API's Content encoder, as `configure` sets it up.
    static func apiEncoder(fastDates: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = fastDates ? ISO8601.encodingStrategy : .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    @Test func iso8601MatchesFoundation() throws {
        let standard = Self.apiEncoder(fastDates: false), fast = Self.apiEncoder(fastDates: true)
        var dates: [Date] = [0, 0.5, 59.999, 951_782_400, 951_868_799.9, 4_107_542_400, 1_795_000_000.9996, 253_402_300_799.999, -1, 253_402_300_800]
            .map { Date(timeIntervalSince1970: $0) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 { dates.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_200_000_000, using: &generator))) }
        for date in dates {
            #expect(try fast.encode([date]) == standard.encode([date]), "\(date.timeIntervalSince1970)")
        }
    }

    @Test func ticketJSONMatchesEncoder() throws {
        let ticket = Ticket.new()
        ticket.id = .v7()
        ticket.number = 42
        ticket.title = "Quotes \" backslash \\ slash / tab \t newline \n control \u{1} \u{1f} unicode é 漢 😀 \u{2028} \u{7f}"
        ticket.description = ""
        ticket.organizationId = UUID()
        ticket.siteId = UUID()
        ticket.status = "new"
        ticket.priority = "high"
        ticket.source = "api"
        ticket.coManagedVisible = true
        ticket.dueAt = Date(timeIntervalSince1970: 1_795_000_000.75)
        ticket.version = 3
        ticket.createdAt = Date()
        ticket.updatedAt = nil
        let full = TicketDTO(ticket, assignees: [UUID(), UUID()])
        ticket.siteId = nil
        ticket.dueAt = nil
        let sparse = TicketDTO(ticket, assignees: [])
        for page in [ListPage(items: [full, sparse], nextCursor: "MTIz"), ListPage(items: [], nextCursor: nil), ListPage(items: [sparse], nextCursor: nil)] {
            var json = JSONWriter()
            page.write(to: &json)
            #expect(String(decoding: json.bytes, as: UTF8.self) == String(decoding: try Self.apiEncoder(fastDates: false).encode(page), as: UTF8.self))
        }
    }

    /// The API's page of tickets (written from the rows' bytes on PostgreSQL) is what the Content
    /// encoder writes for `TicketService.list`'s page, and every ticket on it is what the general
    /// path (`get`, through Fluent and `ticket_assignees`) reads: awkward text, NULLs, assignees,
    /// cursors included, and still after each kind of write that changes assignees (on PostgreSQL
    /// the page reads the copy the triggers keep in `tickets.assignee_ids`).
    @Test func ticketPageJSONMatchesTheGeneralPath() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let siteId = try await t.site(organizationId, "Head office")
            let contactId = try await t.contact(organizationId, "Pat")
            let queueId = try await t.queue("Service desk")
            let tech = try await t.resource("tess")
            let other = try await t.resource("otto")
            let awkward = "Quotes \" backslash \\ slash / unicode é 漢 😀 \u{2028}"
            let extras: [JSON] = [
                [:],
                [
                    "description": .string(awkward + " tab \t newline \n"), "siteId": .string(siteId), "contactId": .string(contactId),
                    "queueId": .string(queueId),
                    "assigneeIds": .array([.string(tech.id), .string(t.adminId)]), "dueAt": .string("2027-01-31T23:59:59Z"), "priority": .string("high"),
                ],
                ["assigneeIds": .array([.string(t.adminId), .string(other.id), .string(tech.id)]), "coManagedVisible": .bool(false)],
                ["assigneeIds": .array([.string(tech.id)]), "source": .string("email"), "description": .string("")],
            ]
            var ids: [String] = []
            for (n, extra) in extras.enumerated() { ids.append(try await t.ticket(organizationId, n == 1 ? awkward : "Ticket \(n)", extra: extra).id) }
            try await Self.expectPagesMatchTheGeneralPath(t)
            // A ticket's assignees replaced, reordered, emptied.
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ids[2])", ["assigneeIds": .array([.string(tech.id), .string(t.adminId)])])
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ids[3])", ["assigneeIds": []])
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ids[0])", ["assigneeIds": .array([.string(other.id)])])
            try await Self.expectPagesMatchTheGeneralPath(t)
            // A deleted resource leaves every ticket it was assigned to.
            try await t.must(.noContent, .DELETE, "/api/v1/resources/\(tech.id)")
            let lists = try await Self.expectPagesMatchTheGeneralPath(t)
            #expect(!lists.contains { $0.contains(tech.id) } && lists.contains { $0.contains(other.id) }, "\(lists)")
        }
        // Co-managing users: erased, and unassigned when co-management is deactivated.
        try await withApp { t in
            let world = try await DeactivationTests.world(t, deactivateUser: false)
            try await Self.expectPagesMatchTheGeneralPath(t)
            try await t.must(.noContent, .DELETE, "/api/v1/co-managing-users/\(world.user)")
            let lists = try await Self.expectPagesMatchTheGeneralPath(t)
            #expect(!lists.contains { $0.contains(world.user) } && lists.contains { $0.contains(world.technician) }, "\(lists)")
        }
        try await withApp { t in
            _ = try await DeactivationTests.world(t)
            try await CoManagementService.deactivate(by: t.adminPrincipal(), on: t.db)
            try await Self.expectPagesMatchTheGeneralPath(t)
        }
    }

    /// Compares the administrator's pages of tickets (whole, and one and three at a time, cursors
    /// followed) with the general path; answers each ticket's assignee ids as the page shows them.
    @discardableResult
    static func expectPagesMatchTheGeneralPath(_ t: TestApp, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String]] {
        let principal = try await t.adminPrincipal()
        var assignees: [[String]] = []
        var pages: [App.PageRequest] = [App.PageRequest(), App.PageRequest(limit: 1), App.PageRequest(limit: 3)]
        while let page = pages.first {
            pages.removeFirst()
            let json = try await TicketService.listJSON(TicketFilter(), page: page, by: principal, on: t.db)
            let expected = try await TicketService.list(TicketFilter(), page: page, by: principal, on: t.db)
            #expect(
                String(decoding: json.bytes, as: UTF8.self) == String(decoding: try Self.apiEncoder(fastDates: false).encode(expected), as: UTF8.self),
                sourceLocation: sourceLocation)
            for item in expected.items {
                #expect(try await TicketService.get(#require(UUID(uuidString: item.id)), by: principal, on: t.db) == item, sourceLocation: sourceLocation)
                if page.limit == App.PageRequest.defaultLimit { assignees.append(item.assigneeIds) }
            }
            // Follow the cursors of the small pages to the end.
            if let cursor = expected.nextCursor, page.limit < App.PageRequest.defaultLimit {
                pages.append(App.PageRequest(limit: page.limit, after: String(decoding: try #require(Data(base64URLEncoded: cursor)), as: UTF8.self)))
            }
        }
        return assignees
    }

    /// The reference path: every ticket through Fluent, the policy's scope and the filter evaluated in
    /// Swift (`Scope.evaluate`, not its SQL), newest first, one page after `page.after`.
    static func referencePage(_ filter: TicketFilter, page: App.PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<TicketDTO> {
        var assignees: [UUID: [UUID]] = [:]
        for row in try await TicketAssignee.query(on: db).sort(\.$position).all() { assignees[row.ticketId, default: []].append(row.principalId) }
        let scope = Scope.allOf([AccessPolicy.ticketScope(for: principal), filter.scope])
        let after = try page.after.map { try #require(Int($0)) }
        let matching = try await Ticket.query(on: db).sort(\.$number, .descending).all().filter { ticket in
            scope.evaluate(TicketService.facts(ticket, assignees: assignees[ticket.id!] ?? []))
                && (filter.statuses.isEmpty || filter.statuses.map(\.rawValue).contains(ticket.status))
                && (filter.text.map { text in [ticket.title, ticket.description].contains { $0.lowercased().contains(text.lowercased()) } } ?? true)
                && (after.map { ticket.number < $0 } ?? true)
        }
        let items = matching.prefix(page.limit).map { TicketDTO($0, assignees: assignees[$0.id!] ?? []) }
        return .tickets(Array(items), more: matching.count > page.limit)
    }

    /// The fast paths (the page of DTOs, and the API's JSON written from the rows) agree with the
    /// reference path for `principal` under each filter, whole and three at a time with the cursors followed.
    static func expectPagesMatchTheReference(
        _ t: TestApp, by principal: Principal, filters: [(String, TicketFilter)], label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let fields = TicketField.shown(to: principal)
        for (name, filter) in filters {
            var pages = [App.PageRequest(), App.PageRequest(limit: 3)]
            while let page = pages.first {
                pages.removeFirst()
                let expected = try await referencePage(filter, page: page, by: principal, on: t.db)
                let listed = try await TicketService.list(filter, page: page, by: principal, on: t.db)
                #expect(
                    listed.items == expected.items && listed.nextCursor == expected.nextCursor, "\(label), \(name): the page", sourceLocation: sourceLocation)
                // The JSON holds the fields the principal is shown, from the same tickets.
                var reference = try #require(JSON.parse(try apiEncoder(fastDates: false).encode(expected)))
                if let fields, case .array(let items) = reference["items"] {
                    let shaped = items.map { item in JSON.object((item.object ?? [:]).filter { TicketField(rawValue: $0.key).map(fields.contains) ?? false }) }
                    reference = reference.merging(["items": .array(shaped)])
                }
                let json = try await TicketService.listJSON(filter, page: page, by: principal, on: t.db)
                #expect(JSON.parse(Data(json.bytes)) == reference, "\(label), \(name): the JSON", sourceLocation: sourceLocation)
                if let cursor = expected.nextCursor, page.limit < App.PageRequest.defaultLimit {
                    pages.append(App.PageRequest(limit: page.limit, after: String(decoding: try #require(Data(base64URLEncoded: cursor)), as: UTF8.self)))
                }
            }
        }
    }

    /// A created ticket's audit JSON, written around its number before the number is drawn, is what
    /// `JSONColumn.encode` writes for the ticket (the form of every other audit event).
    @Test func ticketAuditJSONMatchesColumnEncoder() throws {
        let ticket = Ticket.new()
        ticket.id = .v7()
        ticket.title = "Slash / and \\/ quotes \" tab \t control \u{1} unicode é 漢 😀 \u{2028}"
        ticket.description = "a/b"
        ticket.organizationId = UUID()
        ticket.contactId = UUID()
        ticket.status = "new"
        ticket.priority = "low"
        ticket.source = "email"
        ticket.coManagedVisible = false
        ticket.version = 1
        for (created, due) in [
            (Date(), Date(timeIntervalSinceReferenceDate: 786_466_620)), (Date(timeIntervalSinceReferenceDate: 0.5), nil),
            (Date(timeIntervalSince1970: 0), Date(timeIntervalSinceReferenceDate: -1.25)),
        ] {
            ticket.createdAt = created
            ticket.updatedAt = created
            ticket.dueAt = due
            let audit = try TicketService.NewTicket.auditAroundNumber(ticket)
            ticket.number = 1234
            #expect(audit.head + "1234" + audit.tail == JSONColumn.encode(TicketDTO(ticket, assignees: [])))
        }
    }

    /// The stored phones read without `JSONDecoder` are what `JSONDecoder` reads, for the column as
    /// written and for any other JSON (which takes the decoder's path).
    @Test func storedPhonesReadAsTheDecoderReads() {
        let phones = [
            Phone(number: "5551234", countryCode: "US", kind: "office"), Phone(number: "0712", countryCode: "GB", kind: "mobile"),
            Phone(number: "é漢", countryCode: "", kind: "home"),
        ]
        var texts = [ClientProfileDTO.phonesJSON([]), ClientProfileDTO.phonesJSON(Array(phones.prefix(1))), ClientProfileDTO.phonesJSON(phones)]
        texts += [
            #"[{"countryCode":"US","kind":"office","number":"55\"5"}]"#, #"[ {"countryCode":"US","kind":"office","number":"5"} ]"#,
            #"[{"number":"5","countryCode":"US","kind":"office"}]"#, #"[{"countryCode":"US","kind":"office","number":"5"}]x"#,
            #"[{"countryCode":"US","kind":"office","number":"5"},]"#, "not json", "", "[",
        ]
        for text in texts {
            #expect(Phone.decodeStored(text) == JSONColumn.decode(text, default: [Phone]()), "\(text)")
        }
        #expect(Phone.decodeStored(ClientProfileDTO.phonesJSON(phones)) == phones)
    }

    /// `queryText` answers what Vapor's `query[String.self, at:]` answers, parsing the query once.
    @Test func queryTextReadsAsVaporQuery() async throws {
        let app = try await Application.make(.testing)
        let queries = [
            "limit=50&cursor=MTIz", "q=a+b%20c&status=new,resolved", "q=%zz&limit=", "limit=5&limit=7", "q=caf%C3%A9%2B", "&&q=x&",
            "q", "q=a=b", "", "status=new&q=%2Fslash%2F",
        ]
        for query in queries {
            let request = Request(application: app, method: .GET, url: URI(string: "/api/v1/tickets?" + query), on: app.eventLoopGroup.next())
            for name in ["limit", "cursor", "q", "status", "absent"] {
                #expect(request.queryText(name) == request.query[String.self, at: name], "\(query) \(name)")
            }
        }
        try await app.asyncShutdown()
    }

    /// The ticket list's column list written once is what SQLKit writes for its columns, on this database.
    @Test func ticketColumnsAsSQLKitWritesThem() async throws {
        try await withApp { t in
            var serializer = SQLSerializer(database: t.db.sql)
            SQLList(Ticket.sqlColumns.map { SQLColumn($0, table: Ticket.schema) }).serialize(to: &serializer)
            #expect(serializer.sql == Ticket.qualifiedColumns)
        }
    }

    /// `bulkInsert` (one `unnest` statement on PostgreSQL, multi-row INSERTs on SQLite) stores what
    /// SQLKit's own INSERT stores for every kind of value, NULLs and awkward text included.
    @Test func bulkInsertStoresWhatSQLKitStores() async throws {
        try await withApp { t in
            let db = t.db
            let type = { (postgres: String, sqlite: String) in db.isSQLite ? sqlite : postgres }
            for table in ["bulk_probe", "bulk_expected"] {
                try await db.sql.raw(
                    """
                    CREATE TABLE \(unsafeRaw: table) (n BIGINT PRIMARY KEY, id \(unsafeRaw: type("UUID", "BLOB")), t TEXT, b BOOLEAN NOT NULL,
                    i BIGINT NOT NULL, d \(unsafeRaw: type("TIMESTAMPTZ", "REAL")))
                    """
                ).run()
            }
            let at = Date(timeIntervalSince1970: 1_796_000_000.123456)
            let rows: [[BulkValue]] = (0..<300).map { n in
                [
                    .int(n), .id(n % 3 == 0 ? nil : UUID()), .text(n % 4 == 0 ? nil : ["", "tab\t nl\n \\ quote' \"", "é 😀 {a,b}", "NULL"][n % 4]),
                    .bool(n % 2 == 0), .int(n % 5 == 0 ? Int.min : n * 1_000_003), .date(n % 6 == 0 ? nil : at.addingTimeInterval(Double(n))),
                ]
            }
            try await db.bulkInsert(into: "bulk_probe", columns: ["n", "id", "t", "b", "i", "d"], rows: rows)
            for row in rows {
                try await db.sql.insert(into: "bulk_expected").columns("n", "id", "t", "b", "i", "d").values(row.map(\.bind)).run()
            }
            func stored(_ table: String) async throws -> [String] {
                try await db.sql.raw("SELECT n, id, t, b, i, d FROM \(unsafeRaw: table) ORDER BY n").all().map { row in
                    [
                        try row.decode(column: "n", as: Int.self).description, try row.decode(column: "id", as: UUID?.self)?.uuidString ?? "-",
                        try row.decode(column: "t", as: String?.self) ?? "-", try row.decode(column: "b", as: Bool.self).description,
                        try row.decode(column: "i", as: Int.self).description,
                        try row.decode(column: "d", as: Date?.self).map { String($0.timeIntervalSince1970) } ?? "-",
                    ].joined(separator: "|")
                }
            }
            let expected = try await stored("bulk_expected")
            #expect(expected.count == rows.count)
            #expect(try await stored("bulk_probe") == expected)
        }
    }

    @Test func logLineMatchesEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for text in ["GET /api/v1/tickets?limit=50", "q\"uote \\ tab\t nl\n \u{8} \u{c} \u{1} é 😀", ""] {
            let fields = ["ts": "2026-11-23T18:10:00Z", "level": "info", "msg": text, "request-id": text]
            var expected = try encoder.encode(fields)
            expected.append(0x0A)
            #expect(JSONLogHandler.line(fields) == expected)
        }
    }

    /// Concurrent writes share transactions on SQLite; a failing body undoes only its own changes and
    /// gets its own error, the others commit and return their results.
    @Test func concurrentWritesKeepTheirOwnOutcome() async throws {
        try await withApp { t in
            let db = t.db
            try await db.sql.raw("CREATE TABLE write_probe (n INTEGER PRIMARY KEY)").run()
            struct Refused: Error, Equatable { let n: Int }
            let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int, Refused>).self) { group in
                for n in 0..<60 {
                    group.addTask {
                        do {
                            let value = try await db.write { db in
                                try await db.sql.raw("INSERT INTO write_probe (n) VALUES (\(bind: n))").run()
                                if n % 3 == 0 { throw Refused(n: n) }
                                if n % 7 == 0 {
                                    // A failing statement (duplicate key) after a good one: the whole body is undone.
                                    try await db.sql.raw("INSERT INTO write_probe (n) VALUES (\(bind: 1000 + n))").run()
                                    try await db.sql.raw("INSERT INTO write_probe (n) VALUES (\(bind: n))").run()
                                }
                                return n * 10
                            }
                            return (n, .success(value))
                        } catch let error as Refused {
                            return (n, .failure(error))
                        } catch {
                            return (n, .failure(Refused(n: -n)))
                        }
                    }
                }
                var outcomes: [Int: Result<Int, Refused>] = [:]
                for try await (n, outcome) in group { outcomes[n] = outcome }
                return outcomes
            }
            let stored = Set(try await db.sql.raw("SELECT n FROM write_probe").all().map { try $0.decode(column: "n", as: Int.self) })
            for n in 0..<60 {
                if n % 3 == 0 {
                    #expect(outcomes[n] == .failure(Refused(n: n)))
                    #expect(!stored.contains(n))
                } else if n % 7 == 0 {
                    #expect(outcomes[n] == .failure(Refused(n: -n)), "the duplicate key fails the body")
                    #expect(!stored.contains(n) && !stored.contains(1000 + n))
                } else {
                    #expect(outcomes[n] == .success(n * 10))
                    #expect(stored.contains(n))
                }
            }
            #expect(stored.count == (0..<60).filter { $0 % 3 != 0 && $0 % 7 != 0 }.count)
        }
    }

    /// Many tickets created at once: every one answered 201 is there with its audit entry, numbers unique.
    @Test func concurrentTicketCreation() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<40 {
                    group.addTask {
                        let reply = try await t.post("/api/v1/tickets", ["title": .string("Ticket \(n)"), "organizationId": .string(organizationId)])
                        #expect(reply.status == .created, "\(reply)")
                        return reply.id
                    }
                }
                var ids: [String] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            let numbers = Set(try await Ticket.query(on: t.db).all().map(\.number))
            #expect(numbers.count == 40)
            for id in ids {
                // The audit event holds the ticket as created, its number included (drawn inside the
                // statement on PostgreSQL, by the group's counter update on SQLite).
                let ticket = try await t.get("/api/v1/tickets/\(id)").json
                let history = try await t.get("/api/v1/tickets/\(id)/history").json["items"].array
                #expect(history.count == 1)
                let after = history.first?["after"].string.flatMap { JSON.parse(Data($0.utf8)) }
                #expect(after?["number"] == ticket["number"] && after?["id"] == ticket["id"] && after?["title"] == ticket["title"], "\(history)")
            }
        }
    }

    /// Writes of one batch queued together run as one batch; when the batch throws, each runs alone
    /// and only the failing one gets its error.
    @Test func batchedWritesFallBackToOneByOne() async throws {
        try await withApp { t in
            let db = t.db
            // PostgreSQL has no commit groups: every call runs alone there.
            let batches = db.isSQLite
            try await db.sql.raw("CREATE TABLE batch_probe (n INTEGER PRIMARY KEY, how TEXT NOT NULL)").run()
            struct Refused: Error, Equatable { let n: Int }
            // Says how many items its run had: a whole round in one run, or one at a time after a refusal.
            let probe = WriteBatch<Int, String>(name: "probe") { items, connection in
                if let bad = items.first(where: { $0 % 5 == 0 }) { throw Refused(n: bad) }
                for n in items { try connection.execute("INSERT INTO batch_probe (n, how) VALUES (?1, ?2)", [.integer(n), .text("batch of \(items.count)")]) }
                return items.map { "batch \($0) of \(items.count)" }
            }
            func write(_ n: Int) async -> Result<String, Refused> {
                do {
                    return .success(
                        try await db.write(batch: probe, item: n) { db in
                            if n % 5 == 0 { throw Refused(n: n) }
                            try await db.sql.raw("INSERT INTO batch_probe (n, how) VALUES (\(bind: n), 'alone')").run()
                            return "alone \(n)"
                        })
                } catch let error as Refused {
                    return .failure(error)
                } catch {
                    return .failure(Refused(n: Int.min))
                }
            }
            // Hold the writer until both rounds have queued: each round is then one run of its group.
            for round in [Array(1...4), Array(6...9) + [10] + Array(11...14)] {
                let (held, release) = AsyncStream.makeStream(of: Void.self)
                let holder = Task { try await db.write { _ in for await _ in held { break } } }
                try await Task.sleep(for: .milliseconds(50))
                let outcomes = await withTaskGroup(of: (Int, Result<String, Refused>).self) { group in
                    for n in round { group.addTask { (n, await write(n)) } }
                    try? await Task.sleep(for: .milliseconds(100))
                    release.yield()
                    var outcomes: [Int: Result<String, Refused>] = [:]
                    for await (n, outcome) in group { outcomes[n] = outcome }
                    return outcomes
                }
                try await holder.value
                let failing = round.contains(10)
                for n in round {
                    let expected: Result<String, Refused> =
                        n == 10
                        ? .failure(Refused(n: 10))
                        : .success(!batches ? "alone \(n)" : failing ? "batch \(n) of 1" : "batch \(n) of \(round.count)")
                    #expect(outcomes[n] == expected, "\(n): \(outcomes)")
                }
            }
            let stored = try await db.sql.raw("SELECT n, how FROM batch_probe ORDER BY n").all()
                .map { "\(try $0.decode(column: "n", as: Int.self)) \(try $0.decode(column: "how", as: String.self))" }
            #expect(
                stored == (1...4).map { "\($0) \(batches ? "batch of 4" : "alone")" }
                    + (6...14).filter { $0 != 10 }.map { "\($0) \(batches ? "batch of 1" : "alone")" })
        }
    }
}

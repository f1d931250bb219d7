import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// `GET /api/v1/organizations/{id}/audit-export`: one organization's audit events, streamed as CSV or JSON
/// lines, under `AccessPolicy.auditExport`; and the organization page's download.
@Suite struct AuditExportTests {
    /// Two organizations with changes of their own: tickets, a note, a contact.
    struct World {
        var contoso = "", fabrikam = ""
        var contosoTicket = ""
    }

    static func world(_ t: TestApp) async throws -> World {
        var w = World()
        w.contoso = try await t.organization("Contoso")
        w.fabrikam = try await t.organization("Fabrikam")
        w.contosoTicket = try await t.ticket(w.contoso, "VPN down").id
        try await t.note(w.contosoTicket, "Restarted the concentrator")
        _ = try await t.contact(w.contoso, "Carla")
        let fabrikamTicket = try await t.ticket(w.fabrikam, "Printer jam").id
        try await t.note(fabrikamTicket, "Cleared the tray")
        _ = try await t.contact(w.fabrikam, "Frank")
        return w
    }

    static func export(_ t: TestApp, _ organizationId: String, _ query: String, as token: String? = nil) async throws -> Reply {
        // Over a socket, so the streamed body arrives as a client reads it.
        try await t.send(.GET, "/api/v1/organizations/\(organizationId)/audit-export\(query)", as: token, live: true)
    }

    static func lines(_ reply: Reply) -> [JSON] {
        reply.text.split(separator: "\n").map { JSON.parse(Data($0.utf8)) ?? .null }
    }

    /// The audit events of an organization as stored, oldest first.
    static func stored(_ t: TestApp, _ organizationId: String) async throws -> [AuditEvent] {
        try await AuditEvent.query(on: t.db).filter(\.$organizationId == UUID(uuidString: organizationId)!).sort(\.$id).all()
    }

    @Test func jsonLinesHoldEveryEventOfTheOrganizationAndNoOther() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let reply = try await Self.export(t, w.contoso, "?format=jsonl")
            expectStatus(reply, .ok)
            #expect(reply.contentType.hasPrefix("application/x-ndjson"), "\(reply.contentType)")
            #expect(reply.headers.first(name: .contentDisposition)?.contains("contoso-audit.jsonl") == true)
            let lines = Self.lines(reply)
            let stored = try await Self.stored(t, w.contoso)
            // The export's own event is written before the stream starts, so it is the last line.
            #expect(lines.map { $0["id"].string ?? "" } == stored.map { $0.id!.uuidString }, "every event of Contoso, oldest first")
            #expect(lines.allSatisfy { $0["organizationId"] == .string(w.contoso) }, "no event of another organization")
            #expect(Set(lines.compactMap { $0["entityType"].string }).isSuperset(of: ["organizations", "tickets", "notes", "contacts"]))
            // Each line is an AuditEventDTO as the API answers it.
            let created = try #require(lines.first { $0["entityType"] == "tickets" && $0["action"] == "created" })
            let api = try await t.get("/api/v1/audit-events/\(created["id"].string ?? "")").json
            #expect(created == api, "a line reads like the API's event")
            let own = try #require(lines.last)
            #expect(own["action"] == "exported" && own["entityType"] == "organizations" && own["entityId"] == .string(w.contoso))
            #expect(own["actorId"] == .string(t.adminId))
            #expect(JSON.parse(Data((own["after"].string ?? "").utf8))?["format"] == "jsonl")
        }
    }

    @Test func csvHasAHeaderAndOneRowPerEvent() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            // A name that a spreadsheet would run as a formula.
            expectStatus(try await t.patch("/api/v1/organizations/\(w.contoso)", ["name": "=Contoso, \"Ltd\""]), .ok)
            let reply = try await Self.export(t, w.contoso, "?format=csv")
            expectStatus(reply, .ok)
            #expect(reply.contentType.hasPrefix("text/csv"), "\(reply.contentType)")
            let rows = try CSVText.rows(reply.text)
            #expect(rows.first == AuditExport.columns, "the header row")
            let body = Array(rows.dropFirst())
            let stored = try await Self.stored(t, w.contoso)
            #expect(body.map { $0[0] } == stored.map { $0.id!.uuidString })
            #expect(body.allSatisfy { $0.count == AuditExport.columns.count && $0[8] == w.contoso })
            let renamed = try #require(body.first { $0[5] == "updated" && $0[6] == "organizations" })
            #expect(JSON.parse(Data(renamed[11].utf8))?["name"] == "=Contoso, \"Ltd\"", "JSON that starts with { is kept as it is: \(renamed[11])")
            #expect(body.last?[5] == "exported" && body.last?[11].contains("\"format\":\"csv\"") == true)
            // CSV is the default.
            #expect(try await Self.export(t, w.fabrikam, "").contentType.hasPrefix("text/csv"))
        }
    }

    /// More events than one read holds: the stream reads page after page and misses none.
    @Test func aLargeExportStreamsEveryPage() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            try await Self.insertEvents(t, w.contoso, count: AuditExport.batchSize * 2 + 17, at: Date())
            try await Self.insertEvents(t, w.fabrikam, count: 300, at: Date())
            let lines = Self.lines(try await Self.export(t, w.contoso, "?format=jsonl"))
            let stored = try await Self.stored(t, w.contoso)
            #expect(lines.count == stored.count && stored.count > AuditExport.batchSize * 2)
            #expect(Set(lines.compactMap { $0["id"].string }).count == lines.count, "no event twice")
            #expect(lines.allSatisfy { $0["organizationId"] == .string(w.contoso) })
        }
    }

    /// The answer's body is a stream written while the events are read, not a buffer built first.
    @Test func theAnswerIsAStream() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: t.adminToken)
            let request = Request(
                application: t.app, method: .GET, url: URI(path: "/api/v1/organizations/\(w.contoso)/audit-export?format=jsonl"), headers: headers,
                on: t.app.eventLoopGroup.next())
            let response = try await t.app.responder.respond(to: request).get()
            #expect(response.status == .ok)
            #expect(response.body.buffer == nil && response.body.count == -1, "a streamed body of unknown length")
            let collected = try await response.body.collect(on: request.eventLoop).get()
            #expect(collected.map { String(buffer: $0).split(separator: "\n").count } == (try await Self.stored(t, w.contoso)).count)
        }
    }

    @Test func thePeriodLimitsTheEvents() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let january = try Self.date("2020-01-10T09:00:00Z"), february = try Self.date("2020-02-15T12:00:00Z")
            let march = try Self.date("2020-03-20T18:30:00Z")
            for date in [january, february, march] { try await Self.insertEvents(t, w.contoso, count: 1, at: date) }
            func exported(_ query: String) async throws -> [Date] {
                let reply = try await Self.export(t, w.contoso, "?format=jsonl&" + query)
                expectStatus(reply, .ok)
                return Self.lines(reply).compactMap { $0["at"].string }.compactMap { try? ISO8601.date(from: $0).get() }
            }
            #expect(try await exported("from=2020-02-01&to=2020-02-28") == [february])
            #expect(try await exported("from=2020-01-01&to=2020-02-15") == [january, february], "a day includes its whole length")
            #expect(try await exported("to=2020-02-15T11:59:59Z") == [january], "a date and time is exact")
            #expect(try await exported("from=2020-02-15T12:00:00Z&to=2020-03-31") == [february, march])
            // Each export is audited with its format and period.
            let own = try await AuditEvent.query(on: t.db).filter(\.$action == "exported").sort(\.$id).all()
            #expect(own.count == 4)
            let first = JSON.parse(Data((own.first?.after ?? "").utf8))
            #expect(first?["format"] == "jsonl" && first?["period"]["from"] == "2020-02-01T00:00:00Z" && first?["period"]["before"] == "2020-02-29T00:00:00Z")
        }
    }

    @Test func badParametersAnswer400NamingTheField() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let before = try await t.count("audit_events")
            expectProblem(try await Self.export(t, w.contoso, "?format=xml"), .badRequest, field: "format")
            expectProblem(try await Self.export(t, w.contoso, "?from=2026-02-30"), .badRequest, field: "from", contains: "not a real date")
            expectProblem(try await Self.export(t, w.contoso, "?to=yesterday"), .badRequest, field: "to")
            expectProblem(try await Self.export(t, w.contoso, "?from=2026-03-01&to=2026-02-01"), .badRequest, field: "to", contains: "before")
            expectProblem(try await Self.export(t, w.contoso, "?from=2026-13-01T00:00:00Z"), .badRequest, field: "from")
            #expect(try await t.count("audit_events") == before, "a refused export is not audited")
        }
    }

    @Test func unknownAndHiddenOrganizationsAnswer404() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            expectProblem(try await Self.export(t, UUID().uuidString, "?format=csv"), .notFound)
            expectProblem(try await Self.export(t, "not-an-id", "?format=csv"), .notFound)
            // Client restrictions: Contoso is hidden from a technician limited to Fabrikam, whatever the parameters.
            let (_, rick) = try await t.resource("rick", .technician, restrictions: [w.fabrikam])
            expectProblem(try await Self.export(t, w.contoso, "?format=csv", as: rick), .notFound)
            expectProblem(try await Self.export(t, w.contoso, "?format=xml", as: rick), .notFound)
            let allowed = try await Self.export(t, w.fabrikam, "?format=jsonl", as: rick)
            expectStatus(allowed, .ok)
            #expect(Self.lines(allowed).allSatisfy { $0["organizationId"] == .string(w.fabrikam) })
            // Help Desk has no report access; contacts never export.
            let (_, hugo) = try await t.resource("hugo", .helpDesk)
            expectProblem(try await Self.export(t, w.contoso, "?format=csv", as: hugo), .notFound)
            let carla = try await t.contact(w.contoso, "Portal", email: "portal@contoso.example")
            let portal = try await t.portalLogin(carla, email: "portal@contoso.example", organizationWide: true)
            expectProblem(try await Self.export(t, w.contoso, "?format=csv", as: portal), .notFound)
            expectStatus(try await t.send(.GET, "/api/v1/organizations/\(w.contoso)/audit-export", as: ""), .unauthorized)
        }
    }

    /// A client's IT lead (a co-managing user whose level views reports) exports their co-managed organization,
    /// as §3 lets them see it; one without report access, or outside their organizations, gets 404.
    @Test func coManagingUsersExportTheirOwnOrganizationsOnly() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.coManagedOrganization("Contoso")
            let queue = try await t.queue("Service Desk")
            let lead = try await t.coManagingUser("lena", organizationId: northwind, queueIds: [queue]).id
            let basic = try await t.coManagingUser("bert", organizationId: northwind, queueIds: [queue], level: .coManagedBasic).id
            try await t.setUp(northwind, users: [lead, basic])
            let shared = try await t.ticket(northwind, "Shared", extra: ["coManagedVisible": true]).id
            try await t.note(shared, "Internal only", publishTo: "internal")
            let hidden = try await t.ticket(northwind, "MSP only", extra: ["coManagedVisible": false]).id
            _ = try await t.ticket(contoso, "Elsewhere", extra: ["coManagedVisible": true])
            // The MSP's own records of the organization: billing and its SLA policy.
            _ = try await t.create(
                "/api/v1/expenses", ["date": "2026-12-01", "category": "travel", "description": "Train", "amount": 30, "organizationId": .string(northwind)])
            _ = try await t.create(
                "/api/v1/sla-policies",
                ["organizationId": .string(northwind), "priority": "high", "firstResponseMinutes": 60, "resolutionMinutes": 480])
            let leadToken = try await t.loginCoManaging(lead, "lena")
            let basicToken = try await t.loginCoManaging(basic, "bert")

            let reply = try await Self.export(t, northwind, "?format=jsonl", as: leadToken)
            expectStatus(reply, .ok)
            let lines = Self.lines(reply)
            #expect(!lines.isEmpty && lines.allSatisfy { $0["organizationId"] == .string(northwind) })
            #expect(lines.contains { $0["ticketId"] == .string(shared) }, "events of a ticket they see")
            #expect(!lines.contains { $0["ticketId"] == .string(hidden) }, "no event of a ticket whose co-managed visibility is off")
            #expect(!lines.contains { $0["entityType"] == "notes" }, "no event of ticket items, whose publish-to the log does not keep")
            #expect(lines.allSatisfy { $0["before"].isNull && $0["after"].isNull }, "no before or after")
            let kinds = Set(lines.compactMap { $0["entityType"].string })
            #expect(kinds.isSubset(of: AuditExport.clientFacingRecords) && kinds.contains("tickets"), "only client-facing records: \(kinds)")
            let staff = Set(Self.lines(try await Self.export(t, northwind, "?format=jsonl", as: t.adminToken)).compactMap { $0["entityType"].string })
            #expect(staff.isSuperset(of: ["expenses", "sla_policies"]), "MSP staff export every record: \(staff)")
            #expect(lines.last?["action"] == "exported" && lines.last?["actorId"] == .string(lead))
            let own = try #require(try await AuditEvent.query(on: t.db).filter(\.$action == "exported").first())
            #expect(own.organizationId?.uuidString == northwind && own.actorId?.uuidString == lead)

            expectProblem(try await Self.export(t, contoso, "?format=jsonl", as: leadToken), .notFound, contains: "organization")
            // Co-managed Basic does not view reports.
            expectProblem(try await Self.export(t, northwind, "?format=jsonl", as: basicToken), .notFound)
        }
    }

    /// The organization page offers the download to those who may export, and its route answers the file.
    @Test func theOrganizationPageLinksTheExport() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let page = try await t.page("/organizations/\(w.contoso)", session: admin)
            #expect(page.text.contains("action=\"/organizations/\(w.contoso)/audit-export\""), "the export form")
            let file = try await t.page("/organizations/\(w.contoso)/audit-export?format=csv&from=&to=", session: admin)
            expectStatus(file, .ok)
            #expect(file.contentType.hasPrefix("text/csv"))
            #expect(try CSVText.rows(file.text).dropFirst().allSatisfy { $0[8] == w.contoso })
            let bad = try await t.page("/organizations/\(w.contoso)/audit-export?format=csv&from=2026-02-30", session: admin)
            #expect(bad.status == .badRequest && bad.contentType.hasPrefix("text/html"), "a page error, in words")

            _ = try await t.resource("hugo", .helpDesk)
            let hugo = try await t.pageSession("hugo", TestApp.password)
            let noReports = try await t.page("/organizations/\(w.contoso)", session: hugo)
            expectStatus(noReports, .ok)
            #expect(!noReports.text.contains("audit-export"), "no export without report access")
            expectStatus(try await t.page("/organizations/\(w.contoso)/audit-export", session: hugo), .notFound)
        }
    }

    // MARK: Helpers

    static func date(_ text: String) throws -> Date { try ISO8601.date(from: text).get() }

    /// Audit events of an organization written straight to the log, at a chosen time.
    static func insertEvents(_ t: TestApp, _ organizationId: String, count: Int, at: Date) async throws {
        let organization = UUID(uuidString: organizationId)!
        let entries = (0..<count).map { n in
            AuditEntry(action: "updated", entityType: "sites", entityId: UUID(), actor: nil, organizationId: organization, after: "{\"n\":\(n)}")
        }
        try await t.db.write { db in
            try await db.bulkInsert(into: AuditEvent.schema, columns: Audit.columns, rows: entries.map { $0.values(at: at) })
        }
    }
}

/// A small CSV reader for the tests (quotes, doubled quotes, CRLF), independent of the writer; drops a BOM.
enum CSVText {
    struct Malformed: Error {}

    static func rows(_ text: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], cell = "", quoted = false, afterQuote = false
        var characters = Substring(text)
        if characters.first == "\u{FEFF}" { characters = characters.dropFirst() }
        for character in characters {
            if quoted {
                if character == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    cell.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                if afterQuote { cell.append("\"") }
                quoted = true
            case ",":
                row.append(cell)
                cell = ""
            case "\r\n", "\n":
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            default:
                cell.append(character)
            }
            afterQuote = false
        }
        guard !quoted else { throw Malformed() }
        if !cell.isEmpty || !row.isEmpty { rows.append(row + [cell]) }
        return rows
    }
}

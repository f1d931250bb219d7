import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// `/admin/audit`: the audit log page, newest first, its filters applied under `AccessPolicy.auditScope`,
/// each filter's problem shown beside its field.
@Suite struct AuditLogPageTests {
    /// The ids of the events a page lists, in its order.
    static func listed(_ page: Reply) -> [String] {
        page.text.matches(of: /<tr id="event-([0-9A-Fa-f-]{36})">/).map { String($0.1) }
    }

    static func ids(_ events: [AuditEvent]) -> [String] { events.map { $0.id!.uuidString } }

    @Test func theLogListsNewestFirstAndPagesByCursor() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            try await AuditExportTests.insertEvents(t, contoso, count: AuditLogPage.pageSize + 7, at: Date())
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let first = try await t.page("/admin/audit", session: admin)
            expectStatus(first, .ok)
            let newest = try await AuditEvent.query(on: t.db).sort(\.$id, .descending).all()
            #expect(Self.listed(first) == Array(Self.ids(newest).prefix(AuditLogPage.pageSize)), "newest first, one page")
            let next = try #require(first.text.firstMatch(of: /href="([^"]+)" rel="next"/)?.1)
            let second = try await t.page(String(next).replacingOccurrences(of: "&amp;", with: "&"), session: admin)
            #expect(Self.listed(second) == Array(Self.ids(newest).dropFirst(AuditLogPage.pageSize)), "the rest, none twice")
            #expect(first.text.contains("Contoso"), "the organization is named")
            // The admin tabs link the page.
            #expect(try await t.page("/admin/rules", session: admin).text.contains("href=\"/admin/audit\""))
        }
    }

    @Test func filtersNarrowTheLogInSQL() async throws {
        try await withApp { t in
            let w = try await AuditExportTests.world(t)
            let (taraId, tara) = try await t.resource("tara", .administrator)
            let taraTicket = try await t.ticket(w.fabrikam, "Tara's ticket", as: tara).id
            try await AuditExportTests.insertEvents(t, w.contoso, count: 1, at: try AuditExportTests.date("2020-02-15T12:00:00Z"))
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            func listed(_ query: String) async throws -> Set<String> {
                let page = try await t.page("/admin/audit?\(query)", session: admin)
                expectStatus(page, .ok)
                return Set(Self.listed(page))
            }
            func stored(_ narrow: (QueryBuilder<AuditEvent>) -> QueryBuilder<AuditEvent>) async throws -> Set<String> {
                Set(Self.ids(try await narrow(AuditEvent.query(on: t.db)).all()))
            }

            let contoso = UUID(uuidString: w.contoso)!
            #expect(try await listed("organizationId=\(w.contoso)") == stored { $0.filter(\.$organizationId == contoso) })
            let byTara = try await stored { $0.filter(\.$actorId == UUID(uuidString: taraId)!) }
            #expect(!byTara.isEmpty)
            #expect(try await listed("actor=\(taraId)") == byTara, "by the actor's id")
            #expect(try await listed("actor=TARA") == byTara, "by the actor's name, in any case")
            #expect(try await listed("kind=tickets") == stored { $0.filter(\.$entityType == "tickets") })
            #expect(try await listed("kind=tickets&action=created&organizationId=\(w.fabrikam)").count == 2, "Fabrikam's two new tickets")
            #expect(try await listed("action=created&actor=tara&kind=tickets") == stored { $0.filter(\.$entityId == UUID(uuidString: taraTicket)!) })
            let february = try await listed("from=2020-02-01&to=2020-02-29")
            let stored2020 = try await stored { $0.filter(\.$at < Date(timeIntervalSince1970: 1_600_000_000)) }
            #expect(february.count == 1 && february == stored2020)
            #expect(try await listed("from=2020-02-16&to=2020-12-31").isEmpty)
            // A ticket's events link to it.
            let page = try await t.page("/admin/audit?kind=tickets&organizationId=\(w.contoso)", session: admin)
            #expect(page.text.contains("href=\"/tickets/\(w.contosoTicket)\""))
        }
    }

    @Test func eachFieldShowsItsProblem() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let cases: [(query: String, field: String, words: String)] = [
                ("from=2026-02-30", "from", "not a real date"),
                ("to=31.12.2026", "to", "be a date such as 2026-11-23 or a date and time"),
                ("from=2026-03-01&to=2026-02-01", "to", "not be before from"),
                ("organizationId=contoso", "organizationId", "not a valid id"),
                ("kind=spaceships", "kind", "not a kind the log records"),
                ("action=drop%20table", "action", "be one word"),
                ("actor=\(String(repeating: "a", count: 201))", "actor", "200"),
            ]
            for (query, field, words) in cases {
                let page = try await t.page("/admin/audit?\(query)", session: admin)
                #expect(page.status == .badRequest, "\(query): \(page.status)")
                let error = page.text.firstMatch(of: try Regex("<p class=\"field-error\" id=\"\(field)-error\">([^<]*)</p>"))
                #expect(error.map { String($0.output[1].substring ?? "").contains(words) } == true, "\(query): \(field) shows '\(words)'")
                #expect(page.text.contains("id=\"\(field)\"") && page.text.contains("aria-describedby=\"\(field)-error\""))
                #expect(Self.listed(page).isEmpty, "\(query): nothing is listed under a filter that cannot be read")
            }
            // What was typed stays in the form.
            #expect(try await t.page("/admin/audit?from=2026-02-30", session: admin).text.contains("value=\"2026-02-30\""))
        }
    }

    @Test func theLogNeverShowsAnEventOutsideTheScope() async throws {
        try await withApp { t in
            let w = try await AuditExportTests.world(t)
            _ = try await t.resource("rick", .technician, restrictions: [w.fabrikam])
            let rick = try await t.pageSession("rick", TestApp.password)
            let fabrikam = UUID(uuidString: w.fabrikam)!
            let reachable = Set(Self.ids(try await AuditEvent.query(on: t.db).filter(\.$organizationId == fabrikam).all()))
            let page = try await t.page("/admin/audit", session: rick)
            expectStatus(page, .ok)
            #expect(Set(Self.listed(page)) == reachable, "only Fabrikam's events")
            // Asking for Contoso by its id shows nothing of it, and Contoso is not among the choices.
            let asked = try await t.page("/admin/audit?organizationId=\(w.contoso)", session: rick)
            #expect(Self.listed(asked).isEmpty)
            #expect(!asked.text.contains(">Contoso<"))
            #expect(try await t.page("/admin/audit?actor=admin", session: rick).status == .ok)

            // No report access: no page and no tab.
            _ = try await t.resource("hugo", .helpDesk)
            let hugo = try await t.pageSession("hugo", TestApp.password)
            expectStatus(try await t.page("/admin/audit", session: hugo), .forbidden)
            #expect(!(try await t.page("/tickets", session: hugo).text.contains("/admin")))
            expectStatus(try await t.page("/admin/audit", session: ""), .seeOther)
        }
    }
}

import Fluent
import Foundation
import Testing
import VaporTesting

@testable import App

/// "View as": an administrator sees the pages exactly as another principal's own session does,
/// read-only; only unrestricted administrators may, and every view is audited.
@Suite struct ViewAsTests {
    struct Setup {
        var northwind: String
        var contoso: String
        var nina: String
        var alice: String
        var visible: [String]
        var hidden: [String]
        var internalNote: String
    }

    static func setup(_ t: TestApp) async throws -> Setup {
        try await t.setCoManagement(enabled: true)
        let northwind = try await t.coManagedOrganization("Northwind")
        let contoso = try await t.organization("Contoso")
        let queue = try await t.queue("Service Desk")
        let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
        try await t.setUp(northwind, users: [nina])
        try await t.must(.ok, .POST, "/api/v1/co-managing-users/\(nina)/totp-pause", ["for": "24h"])
        let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: TestApp.password)
        _ = try await t.contact(contoso, "Cora")
        var visible: [String] = []
        var hidden: [String] = []
        for index in 0..<4 {
            visible.append(try await t.ticket(northwind, "Shared \(index)", extra: ["queueId": .string(queue), "coManagedVisible": true]).id)
            hidden.append(try await t.ticket(northwind, "MSP only \(index)", extra: ["queueId": .string(queue)]).id)
            hidden.append(try await t.ticket(contoso, "Contoso \(index)").id)
        }
        let internalNote = try await t.note(visible[0], "SECRET-INTERNAL not for the client", publishTo: "internal").id
        try await t.note(visible[0], "For the client's IT too", publishTo: "internalAndCoManaged")
        return Setup(northwind: northwind, contoso: contoso, nina: nina, alice: alice, visible: visible, hidden: hidden, internalNote: internalNote)
    }

    /// Starts a view; the view-as cookie's value.
    static func start(_ t: TestApp, admin: String, kind: String, id: String) async throws -> String {
        let reply = try await t.submitForm("/admin/view-as", [("kind", kind), ("id", id)], session: admin)
        guard reply.status == .seeOther, let cookie = reply.headers.setCookie?[ViewAs.cookie]?.string, !cookie.isEmpty else {
            throw TestSetupError("view as answered \(reply)")
        }
        return cookie
    }

    static func cookies(_ session: String, _ view: String) -> HTTPHeaders {
        ["Cookie": "\(Tokens.sessionCookie)=\(session); \(ViewAs.cookie)=\(view)"]
    }

    @Test func viewingAsACoManagingUserShowsTheSameTicketsAsTheirOwnSession() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let ninaSession = try await t.pageSession("nina", TestApp.password)
            let view = try await Self.start(t, admin: admin, kind: "coManagingUser", id: s.nina)

            for path in ["/tickets", "/tickets?sort=priority", "/tickets?status=new", "/tickets?q=Shared"] {
                let own = try await t.page(path, session: ninaSession)
                let viewed = try await t.get(path, as: "", headers: Self.cookies(admin, view))
                expectStatus(viewed, .ok)
                #expect(ids(in: viewed.text) == ids(in: own.text), "\(path): the view and Nina's own session differ")
                #expect(statusCounts(viewed.text) == statusCounts(own.text))
            }
            let viewedList = try await t.get("/tickets", as: "", headers: Self.cookies(admin, view))
            #expect(Set(ids(in: viewedList.text)) == Set(s.visible.map { $0.lowercased() }))
            #expect(viewedList.text.contains("Viewing as Nina Comanager (co-managing user)"))
            // It links only to pages a view shows: no new ticket, settings or admin pages.
            #expect(!viewedList.text.contains("href=\"/tickets/new\"") && !viewedList.text.contains("href=\"/settings/notifications\""))
            #expect(try await t.page("/tickets", session: ninaSession).text.contains("href=\"/tickets/new\""))
            #expect(!(try await t.page("/tickets", session: admin).text.contains("Viewing as")))

            // A ticket as Nina sees it: no internal note; a ticket she cannot see is not found.
            let ticket = try await t.get("/tickets/\(s.visible[0])", as: "", headers: Self.cookies(admin, view))
            expectStatus(ticket, .ok)
            #expect(ticket.text.contains("For the client&#39;s IT too") || ticket.text.contains("For the client's IT too"))
            #expect(!ticket.text.contains("SECRET-INTERNAL") && !ticket.text.lowercased().contains(s.internalNote.lowercased()))
            for hidden in s.hidden {
                expectStatus(try await t.get("/tickets/\(hidden)", as: "", headers: Self.cookies(admin, view)), .notFound)
                expectStatus(try await t.page("/tickets/\(hidden)", session: ninaSession), .notFound)
            }
            // The people directory as Nina's: the same people.
            func people(_ reply: Reply) -> [String] { reply.text.matches(of: /data-person-id="([^"]+)"/).map { String($0.1) } }
            let ownPeople = people(try await t.page("/people", session: ninaSession))
            #expect(!ownPeople.isEmpty)
            #expect(people(try await t.get("/people", as: "", headers: Self.cookies(admin, view))) == ownPeople)
            #expect(people(try await t.page("/people", session: admin)) != ownPeople, "the administrator's own directory is larger")

            // Stopping: the administrator's own pages again.
            let stop = try await t.send(
                .POST, "/view-as/stop", as: "", raw: TestApp.formEncoded([(CSRF.field, CSRF.token(forSession: admin))]),
                headers: Self.cookies(admin, view).adding("Content-Type", "application/x-www-form-urlencoded"))
            #expect(stop.status == .seeOther)
            #expect(stop.headers.setCookie?[ViewAs.cookie]?.string == "")
            #expect(Set(ids(in: try await t.page("/tickets", session: admin).text)).isSuperset(of: s.hidden.prefix(2).map { $0.lowercased() }))
        }
    }

    @Test func everyViewIsAuditedAndAViewWithoutItsAuditIsIgnored() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            for (kind, id) in [("coManagingUser", s.nina), ("contact", s.alice), ("resource", t.adminId)] {
                _ = try await Self.start(t, admin: admin, kind: kind, id: id)
                let events = try await t.get("/api/v1/audit-events?entityId=\(id)").json["items"].array.filter { $0["action"] == "viewedAs" }
                #expect(events.count == 1, "\(kind)")
                let event = try #require(events.first)
                #expect(event["actorId"] == .string(t.adminId))
                #expect(event["actorName"].string?.isEmpty == false)
                #expect(event["after"].string?.contains(id) == true && event["after"].string?.contains(t.adminId) == true)
            }
            // As the contact: only Alice's tickets (none), with the banner.
            let aliceView = try await t.get(
                "/tickets", as: "", headers: Self.cookies(admin, ViewAs.value(kind: .contact, id: UUID(uuidString: s.alice)!, secret: admin)))
            #expect(aliceView.text.contains("Viewing as Alice Contact (contact)"))
            #expect(ids(in: aliceView.text).isEmpty)

            // A view cookie the administrator makes without starting it (no audit event) is ignored and cleared.
            let other = try await t.contact(s.contoso, "Carol", email: "carol@contoso.example", password: TestApp.password)
            let forged = ViewAs.value(kind: .contact, id: UUID(uuidString: other)!, secret: admin)
            let reply = try await t.get("/tickets", as: "", headers: Self.cookies(admin, forged))
            #expect(!reply.text.contains("Viewing as"))
            #expect(reply.headers.setCookie?[ViewAs.cookie]?.string == "")
            // Nor does another session's cookie carry over.
            let view = try await Self.start(t, admin: admin, kind: "coManagingUser", id: s.nina)
            let second = try await t.pageSession("admin", TestApp.adminPassword)
            #expect(!(try await t.get("/tickets", as: "", headers: Self.cookies(second, view)).text.contains("Viewing as")))
        }
    }

    @Test func onlyUnrestrictedAdministratorsMayViewAs() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            _ = try await t.resource("tara")
            _ = try await t.resource("rita", .administrator, restrictions: [s.contoso])
            let sessions = [
                ("tara", try await t.pageSession("tara", TestApp.password)), ("rita", try await t.pageSession("rita", TestApp.password)),
                ("nina", try await t.pageSession("nina", TestApp.password)), ("alice", try await t.pageSession("alice@northwind.example", TestApp.password)),
            ]
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let before = try await t.count("audit_events")
            for (who, session) in sessions {
                expectStatus(try await t.page("/admin/view-as", session: session), .forbidden)
                let reply = try await t.submitForm("/admin/view-as", [("kind", "coManagingUser"), ("id", s.nina)], session: session)
                expectStatus(reply, .forbidden)
                #expect(reply.headers.setCookie?[ViewAs.cookie] == nil, "\(who) got a view")
                // A cookie they make themselves changes nothing: the policy is asked on every request.
                let forged = ViewAs.value(kind: .resource, id: UUID(uuidString: t.adminId)!, secret: session)
                let page = try await t.get("/tickets", as: "", headers: Self.cookies(session, forged))
                #expect(!page.text.contains("Viewing as"), "\(who)")
            }
            #expect(try await t.count("audit_events") == before, "a refused view records nothing")
            #expect(try await t.page("/admin/view-as", session: admin).status == .ok)
            #expect(try await t.page("/admin/audit", session: admin).text.contains("href=\"/admin/view-as\""), "the administrator has the tab")
        }
    }

    @Test func aViewNeverWrites() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let view = try await Self.start(t, admin: admin, kind: "coManagingUser", id: s.nina)
            let before = try await t.rowCounts()
            func post(_ path: String, _ fields: [(String, String)]) async throws -> Reply {
                try await t.send(
                    .POST, path, as: "", raw: TestApp.formEncoded(fields + [(CSRF.field, CSRF.token(forSession: admin))]),
                    headers: Self.cookies(admin, view).adding("Content-Type", "application/x-www-form-urlencoded"))
            }
            let ticket = s.visible[0]
            for (path, fields) in [
                ("/tickets/\(ticket)/notes", [("body", "written while viewing"), ("publishTo", "internalAndCoManaged")]),
                ("/tickets/\(ticket)/edit", [("status", "resolved"), ("version", "1")]),
                ("/tickets/new", [("organizationId", s.northwind), ("title", "opened while viewing")]),
                ("/tickets/\(ticket)/time-entries", [("minutes", "5"), ("summary", "x")]),
                ("/admin/view-as", [("kind", "contact"), ("id", s.alice)]),
                ("/settings/notifications", []),
                ("/admin/co-management/settings", []),
            ] {
                let reply = try await post(path, fields)
                expectStatus(reply, .forbidden)
                #expect(reply.text.contains("read-only"), "\(path)")
            }
            // The pages that are not only shown (exports audit, forms lead to writes) are refused too.
            for path in ["/tickets/new", "/organizations/\(s.northwind)/audit-export?format=csv", "/settings/notifications", "/admin/view-as"] {
                expectStatus(try await t.get(path, as: "", headers: Self.cookies(admin, view)), .forbidden)
            }
            #expect(try await t.rowCounts() == before, "nothing was written")
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] == "new")
        }
    }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var headers = self
        headers.add(name: name, value: value)
        return headers
    }
}

import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The standing attack suite for people in scope: every principal kind asks the endpoints that name people
/// (audience, history, co-managed setup, co-managing teams, assignment refusals), and no name or id of a
/// person outside its scope may appear in an answer. Who may see whom is written out below, independently
/// of the policy (SPEC §2 customer group override, client restrictions; contacts know only themselves).
@Suite struct AttackSuiteScopeTests {
    struct Person {
        let id: String
        /// A word that appears in this person's name and nowhere else.
        let name: String
    }

    /// Northwind and Contoso are co-managed. Zedekiah works for Contoso and reaches Northwind through a team.
    /// The ticket is Northwind's: Alicette's, in the Service Desk queue, assigned to Tarquin and Zedekiah, with
    /// an internal note and an internal-only team change in its history.
    struct World {
        let northwind: String, contoso: String, ticket: String, team: String
        let people: [String: Person]
        /// Bearer tokens by principal; the administrator's is nil (the default).
        let tokens: [String: String?]

        subscript(_ key: String) -> Person { people[key]! }
    }

    /// Who each principal may know, by the person keys of `World.people`.
    static let sees: [String: Set<String>] = {
        let staff: Set<String> = ["ada", "tarquin", "rick", "hugo"]
        let everyone = staff.union(["nina", "omar", "zed", "alice", "bob", "carol"])
        return [
            "admin": everyone,
            "rick": staff.union(["nina", "alice", "bob"]),
            "hugo": everyone,
            "nina": staff.union(["nina", "alice", "bob"]),
            "omar": staff.union(["omar", "zed", "carol"]),
            "alice": ["alice"],
            "bob": ["bob"],
        ]
    }()

    static func world(_ t: TestApp) async throws -> World {
        try await t.setCoManagement(enabled: true)
        let northwind = try await t.coManagedOrganization("Northwind Traders")
        let contoso = try await t.coManagedOrganization("Contoso")
        let queue = try await t.queue("Service Desk")
        let tarquin = try await t.resource("tarquin")
        let rick = try await t.resource("rick", restrictions: [northwind])
        let hugo = try await t.resource("hugo", .helpDesk, queueIds: [queue])
        let nina = try await t.coManagingUser("ninabelle", organizationId: northwind, queueIds: [queue]).id
        let omar = try await t.coManagingUser("omaretto", organizationId: contoso, queueIds: [queue]).id
        let zed = try await t.coManagingUser("zedekiah", organizationId: contoso, queueIds: [queue]).id
        let team = try await t.coManagingTeam("Contoso helpers", members: [zed])
        try await t.setUp(northwind, users: [nina], teams: [team])
        try await t.setUp(contoso, users: [omar, zed])
        let alice = try await t.contact(northwind, "Alicette")
        let bob = try await t.contact(northwind, "Bobbington")
        let carol = try await t.contact(contoso, "Carolina")
        let tokens: [String: String?] = [
            "admin": nil, "rick": rick.token, "hugo": hugo.token,
            "nina": try await t.loginCoManaging(nina, "ninabelle"), "omar": try await t.loginCoManaging(omar, "omaretto"),
            "alice": try await t.portalLogin(alice, email: "alicette@northwind.example"),
            "bob": try await t.portalLogin(bob, email: "bobbington@northwind.example", organizationWide: true),
        ]

        let ticket = try await t.ticket(
            northwind, "Scanner jams",
            extra: [
                "contactId": .string(alice), "queueId": .string(queue), "coManagedVisible": true, "assigneeIds": [.string(tarquin.id), .string(zed)],
            ]
        ).id
        try await t.note(ticket, "Internal: the scanner lease ends in May.", publishTo: "internal")
        let zedToken = try await t.loginCoManaging(zed, "zedekiah")
        try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["status": "inProgress"], as: zedToken)
        let mspTeam = try await t.create("/api/v1/teams", ["name": "Network"]).id
        try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)", ["teamId": .string(mspTeam)])

        let people: [String: Person] = [
            "ada": Person(id: t.adminId, name: "Ada"), "tarquin": Person(id: tarquin.id, name: "Tarquin"), "rick": Person(id: rick.id, name: "Rick"),
            "hugo": Person(id: hugo.id, name: "Hugo"), "nina": Person(id: nina, name: "Ninabelle"), "omar": Person(id: omar, name: "Omaretto"),
            "zed": Person(id: zed, name: "Zedekiah"), "alice": Person(id: alice, name: "Alicette"), "bob": Person(id: bob, name: "Bobbington"),
            "carol": Person(id: carol, name: "Carolina"),
        ]
        return World(northwind: northwind, contoso: contoso, ticket: ticket, team: team, people: people, tokens: tokens)
    }

    /// No name or id of anyone outside the principal's scope in the bodies that name people.
    @Test func noAnswerNamesAnyoneOutsideTheCallersScope() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            for (principal, token) in world.tokens {
                let hidden = world.people.filter { !Self.sees[principal]!.contains($0.key) }.map(\.value)
                var bodies: [(String, Reply)] = []
                for publishTo in PublishTo.allCases {
                    let path = "/api/v1/tickets/\(world.ticket)/audience?publishTo=\(publishTo.rawValue)"
                    bodies.append((path, try await t.get(path, as: token)))
                }
                for path in [
                    "/api/v1/tickets/\(world.ticket)/history?limit=200", "/api/v1/organizations/\(world.northwind)/co-management",
                    "/api/v1/organizations/\(world.contoso)/co-management", "/api/v1/co-managing-teams?limit=200",
                    "/api/v1/co-managing-teams/\(world.team)",
                ] {
                    bodies.append((path, try await t.get(path, as: token)))
                }
                // Assigning someone hidden answers exactly as assigning no one at all.
                let unknown = UUID().uuidString
                for person in hidden where ![world["tarquin"].id, world["zed"].id].contains(person.id) {
                    let path = "/api/v1/tickets/\(world.ticket)"
                    let refusal = try await t.patch(path, ["assigneeIds": [.string(person.id)]], as: token)
                    let unknownRefusal = try await t.patch(path, ["assigneeIds": [.string(unknown)]], as: token)
                    #expect(refusal.status != .ok, "\(principal) assigned \(person.name)")
                    #expect(refusal.status == unknownRefusal.status, "\(principal): assigning \(person.name) vs an unknown id")
                    #expect(
                        Self.problem(refusal, naming: person.id) == Self.problem(unknownRefusal, naming: unknown),
                        "\(principal): assigning \(person.name) must read as an unknown id: \(refusal)")
                }
                for (path, reply) in bodies {
                    #expect(reply.status.code < 500, "\(principal) \(path): \(reply)")
                    let body = reply.text.lowercased()
                    // Names are looked for outside ids: a short name ("Ada") can be hex digits of a UUID.
                    let words = body.replacing(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, with: "")
                    for person in hidden {
                        #expect(!words.contains(person.name.lowercased()), "\(principal) learns \(person.name)'s name from \(path): \(reply)")
                        #expect(!body.contains(person.id.lowercased()), "\(principal) learns \(person.name)'s id from \(path): \(reply)")
                    }
                }
            }
        }
    }

    /// An answer's JSON with `id` written as `<id>`, to compare two answers about different ids.
    static func problem(_ reply: Reply, naming id: String) -> JSON? {
        JSON.parse(Data(reply.text.replacingOccurrences(of: id, with: "<id>", options: .caseInsensitive).utf8))
    }

    // MARK: Assignment

    @Test func assigningSomeoneOutsideTheScopeReadsAsUnknownAndVisibleRefusalsStillSayWhy() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let rick = world.tokens["rick"]!
            let fabrikam = try await t.organization("Fabrikam")
            // Omaretto is Contoso's: for Rick (Northwind only) he does not exist.
            let hidden = try await t.patch("/api/v1/tickets/\(world.ticket)", ["assigneeIds": [.string(world["omar"].id)]], as: rick)
            expectProblem(hidden, .unprocessableEntity, field: "assigneeIds", contains: "no active resource or co-managing user with id \(world["omar"].id)")
            #expect(!hidden.text.contains("Omaretto") && !hidden.text.contains("associated"))
            // Ninabelle is Northwind's: Rick sees her, so he is told why she cannot take a ticket of Fabrikam's… but Rick cannot
            // reach Fabrikam, so the administrator asks, and learns every failing condition (SPEC §2).
            let other = try await t.ticket(fabrikam).id
            let visible = try await t.patch("/api/v1/tickets/\(other)", ["assigneeIds": [.string(world["nina"].id)]])
            expectProblem(visible, .unprocessableEntity, field: "assigneeIds", contains: "Ninabelle Comanager cannot be assigned")
            #expect(visible.text.contains("not co-managed") && visible.text.contains("not associated") && visible.text.contains("co-managed visibility is off"))
            // Rick sees the refusal reasons of someone he may see.
            let hidden2 = try await t.ticket(world.northwind, "Hidden from co-managing users").id
            let reasons = try await t.patch("/api/v1/tickets/\(hidden2)", ["assigneeIds": [.string(world["nina"].id)]], as: rick)
            expectProblem(
                reasons, .unprocessableEntity, field: "assigneeIds",
                contains: "Ninabelle Comanager cannot be assigned: the ticket's co-managed visibility is off")
        }
    }

    // MARK: Audience

    @Test func theAudienceNamesOnlyWhomTheCallerMaySeeAndAnswersOnlyWriters() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let path = "/api/v1/tickets/\(world.ticket)/audience?publishTo=all"
            let everyone = try await t.must(.ok, .GET, path)
            let asNina = try await t.must(.ok, .GET, path, as: world.tokens["nina"]!)
            for (all, seen) in zip(everyone["parties"].array, asNina["parties"].array) {
                #expect(all["count"] == seen["count"], "the counts are everyone's")
            }
            let coManaged = asNina["parties"].array.first { $0["party"] == "coManaged" }!
            #expect(coManaged["count"].int == 2 && coManaged["members"].array.compactMap { $0["name"].string } == ["Ninabelle Comanager"])
            let contacts = try await t.must(.ok, .GET, path, as: world.tokens["alice"]!)["parties"].array
            #expect(contacts.flatMap { $0["members"].array }.compactMap { $0["name"].string } == ["Alicette Contact"])

            // A level that may read the ticket's items but add none gets no preview.
            let reader = try await t.create(
                "/api/v1/security-levels",
                [
                    "name": "Reader", "copyOf": .string(try await t.securityLevelId(.technician)),
                    "permissions": ["ticketScope": "all", "areas": ["tickets": "view", "notes": "view", "timeEntries": "view", "attachments": "view"]],
                ]
            ).id
            let viewer = try await t.create(
                "/api/v1/resources",
                [
                    "username": "viv", "password": .string(TestApp.password), "firstName": "Viv", "lastName": "Viewer", "email": "viv@msp.example",
                    "securityLevelId": .string(reader),
                ])
            let token = try await t.login("viv", TestApp.password)
            #expect(viewer["id"].string != nil)
            expectStatus(try await t.get("/api/v1/tickets/\(world.ticket)", as: token), .ok)
            expectProblem(try await t.get(path, as: token), .forbidden)
        }
    }

    @Test func theTicketPageShowsTheAPIsAudience() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let page = try await PageClient.login(t, principalId: world["nina"].id, kind: .coManagingUser)
            let html = try await page.get("/tickets/\(world.ticket)").text
            #expect(html.contains("Ninabelle"))
            #expect(!html.contains("Zedekiah") && !html.contains(world["zed"].id) && !html.contains(world["zed"].id.lowercased()))
            #expect(html.contains("1 more") || html.contains("not shown to you"), "the hidden co-managing reader is counted")
        }
    }

    // MARK: Co-managed setup and teams

    @Test func theCoManagedSetupNamesOnlyVisibleUsersAndAnEditKeepsTheOthers() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let setup = "/api/v1/organizations/\(world.contoso)/co-management"
            let asAlice = try await t.must(.ok, .GET, "/api/v1/organizations/\(world.northwind)/co-management", as: world.tokens["alice"]!)
            #expect(asAlice["coManagingUserIds"] == [] && asAlice["coManagingTeamIds"] == [])
            // An administrator limited to Contoso sees Contoso's users; another organization's user it may not see reads as unknown.
            let (_, token) = try await t.resource("carmen", .administrator, restrictions: [world.contoso])
            let seen = try await t.must(.ok, .GET, setup, as: token)
            #expect(Set(seen["coManagingUserIds"].array.compactMap(\.string)) == [world["omar"].id, world["zed"].id])
            expectProblem(
                try await t.send(.PUT, setup, as: token, json: ["coManagingUserIds": [.string(world["nina"].id)]]),
                .unprocessableEntity, field: "coManagingUserIds")
            // An administrator limited to Northwind edits Northwind's setup without learning of, or dropping, Contoso's team.
            let (_, northwindAdmin) = try await t.resource("nora", .administrator, restrictions: [world.northwind])
            let northwindSetup = "/api/v1/organizations/\(world.northwind)/co-management"
            let before = try await t.must(.ok, .GET, northwindSetup, as: northwindAdmin)
            #expect(before["coManagingTeamIds"] == [.string(world.team)], "the team touches Northwind, so it is seen")
            let after = try await t.must(.ok, .PUT, northwindSetup, ["coManagingUserIds": []], as: northwindAdmin)
            #expect(after["coManagingUserIds"] == [])
            let all = try await t.must(.ok, .GET, northwindSetup)
            #expect(all["coManagingUserIds"] == [] && all["coManagingTeamIds"] == [.string(world.team)])
        }
    }

    @Test func aClientRestrictedTechnicianListsOnlyTeamsAndMembersInItsScope() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let fabrikam = try await t.coManagedOrganization("Fabrikam")
            let far = try await t.coManagingUser("faraway", organizationId: fabrikam, queueIds: [try await t.queue("Far")]).id
            let farTeam = try await t.coManagingTeam("Fabrikam crew", members: [far])
            let ninaTeam = try await t.coManagingTeam("Northwind crew", members: [world["nina"].id, world["zed"].id])
            let teams = try await t.must(.ok, .GET, "/api/v1/co-managing-teams?limit=200", as: world.tokens["rick"]!)["items"].array
            let byId = Dictionary(uniqueKeysWithValues: teams.map { ($0["id"].string!, $0["memberIds"]) })
            #expect(byId[farTeam] == nil, "a team touching none of Rick's organizations")
            #expect(byId[ninaTeam] == [.string(world["nina"].id)], "a member of his organization, and only she")
            #expect(byId[world.team] == [], "associated with Northwind; its member is Contoso's")
            expectStatus(try await t.get("/api/v1/co-managing-teams/\(farTeam)", as: world.tokens["rick"]!), .notFound)
            #expect(try await t.must(.ok, .GET, "/api/v1/co-managing-teams?limit=200")["items"].array.count == 3)
        }
    }

    // MARK: History

    @Test func historyShowsEachPrincipalOnlyWhatItsTicketGetShows() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let path = "/api/v1/tickets/\(world.ticket)/history?limit=200"
            let all = try await t.must(.ok, .GET, path)["items"].array
            #expect(all.count == 3, "created, the status change, the team change")

            let asAlice = try await t.must(.ok, .GET, path, as: world.tokens["alice"]!)["items"].array
            #expect(asAlice.count == 2, "the team change is nothing a contact sees")
            let ticket = try await t.must(.ok, .GET, "/api/v1/tickets/\(world.ticket)", as: world.tokens["alice"]!)
            guard case .object(let shown) = ticket else { Issue.record("no ticket"); return }
            for event in asAlice {
                for side in ["before", "after"] {
                    guard let text = event[side].string, case .object(let fields) = JSON.parse(Data(text.utf8)) ?? .null else { continue }
                    #expect(Set(fields.keys).isSubset(of: Set(shown.keys)), "\(side) shows fields the ticket does not: \(fields.keys.sorted())")
                    #expect(fields["queueId"] == nil && fields["coManagedVisible"] == nil && fields["assigneeIds"] == nil)
                }
            }
            #expect(shown["queueId"] == nil && shown["coManagedVisible"] == nil && shown["assigneeIds"] == nil && shown["teamId"] == nil)
            #expect(asAlice.map { $0["actorName"] } == ["MSP staff", "Co-managing user"])
            #expect(asAlice.allSatisfy { $0["actorId"] == .null })

            let asNina = try await t.must(.ok, .GET, path, as: world.tokens["nina"]!)["items"].array
            #expect(asNina.map { $0["actorName"] } == ["Ada Admin", "Co-managing user"], "Zedekiah is Contoso's")
            #expect(asNina.count == 2, "co-managing users do not see MSP teams")
            #expect(!asNina.contains { ($0["after"].string ?? "").contains("teamId") })
            #expect(try await t.must(.ok, .GET, "/api/v1/tickets/\(world.ticket)", as: world.tokens["nina"]!)["teamId"] == .null)
        }
    }

    @Test func everyTicketAnswerShowsOnlyTheFieldsOfTheCallersKind() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let hiddenFrom: [String: Set<String>] = [
                "admin": [], "nina": ["teamId"], "alice": ["queueId", "teamId", "assigneeIds", "coManagedVisible"],
                "bob": ["queueId", "teamId", "assigneeIds", "coManagedVisible"],
            ]
            for (principal, hidden) in hiddenFrom {
                let token = world.tokens[principal]!
                let answers = [
                    try await t.must(.ok, .GET, "/api/v1/tickets/\(world.ticket)", as: token),
                    try await t.must(.ok, .GET, "/api/v1/tickets?limit=200", as: token)["items"].array.first { $0["id"].string == world.ticket } ?? .null,
                    try await t.must(.ok, .GET, "/api/v1/search?q=scanner", as: token)["tickets"].array.first { $0["id"].string == world.ticket } ?? .null,
                ]
                for answer in answers {
                    guard case .object(let fields) = answer else { Issue.record("\(principal) does not get the ticket"); continue }
                    #expect(Set(fields.keys).isDisjoint(with: hidden), "\(principal) is shown \(fields.keys.sorted())")
                    #expect(fields["title"] == "Scanner jams" && fields["status"] == "inProgress")
                    if hidden.isEmpty { #expect(fields["queueId"] != nil && fields["teamId"] != nil) }
                }
            }
        }
    }

    @Test func explainAccessExplainsOnlyPeopleTheAdministratorMaySee() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let (_, nora) = try await t.resource("nora", .administrator, restrictions: [world.northwind])
            let path = "/api/v1/tickets/\(world.ticket)/access?principalId="
            expectStatus(try await t.get(path + world["nina"].id, as: nora), .ok)
            let hidden = try await t.get(path + world["zed"].id, as: nora)
            expectProblem(hidden, .notFound)
            #expect(Self.problem(hidden, naming: world["zed"].id) == Self.problem(try await t.get(path + UUID().uuidString, as: nora), naming: ""))
            let page = try await PageClient.login(t, username: "nora")
            let html = try await page.get("/tickets/\(world.ticket)").text
            #expect(html.contains("Ninabelle") && !html.contains("Zedekiah") && !html.contains("Omaretto"))
        }
    }

    // MARK: The co-managing user wizard

    @Test func aClientRestrictedAdministratorCreatesCoManagingUsersOnlyInItsOrganizations() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let (_, token) = try await t.resource("nora", .administrator, restrictions: [world.northwind])
            let queue = try await t.queue("Nora's")
            let outside = try await t.coManagingUserBody("outsider", organizationId: world.contoso, queueIds: [queue])
            let unknown = try await t.coManagingUserBody("outsider", organizationId: UUID().uuidString, queueIds: [queue])
            let refused = try await t.post("/api/v1/co-managing-users", outside, as: token)
            expectProblem(refused, .unprocessableEntity, field: "organizationId", contains: "no organization with this id")
            #expect(refused.json == (try await t.post("/api/v1/co-managing-users", unknown, as: token)).json, "outside reads as unknown")
            #expect(!refused.text.contains("Contoso"))
            try await t.create(
                "/api/v1/co-managing-users", try await t.coManagingUserBody("insider", organizationId: world.northwind, queueIds: [queue]), as: token)

            // The wizard's pages offer only Northwind, and refuse Contoso as if it did not exist.
            let nora = try await PageClient.login(t, username: "nora")
            let first = try await nora.get("/admin/co-managing-users/new").text
            #expect(first.contains("Northwind Traders") && !first.contains("Contoso"))
            let contactStep = try await nora.post("/admin/co-managing-users/new", ["organizationId": world.contoso, "go": "contact"])
            #expect(contactStep.status == .unprocessableEntity && !contactStep.text.contains("Carolina"))
        }
    }

    @Test func theWizardKeepsThePasswordServerSide() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let queue = try await t.queue("Wizard")
            let admin = try await PageClient.login(t, username: "admin")
            let password = "wizard-secret-2026"
            var form: [(String, String)] = [
                ("organizationId", world.northwind), ("contactMode", "new"), ("firstName", "Wanda"), ("lastName", "Wizard"),
                ("email", "wanda@northwind.example"), ("username", "wanda"), ("queueIds[]", queue),
                ("securityLevelId", try await t.securityLevelId(.coManagedHelpDesk)),
            ]
            let confirm = try await admin.post("/admin/co-managing-users/new", form + [("password", password), ("go", "confirm")])
            #expect(confirm.status == .ok, "\(confirm.text.suffix(3000))")
            #expect(confirm.text.contains("wizard-confirm") && !confirm.text.contains(password), "the license step carries no password")
            #expect(try await t.count(CoManagingUserDraft.schema) == 1)
            let stored = try await CoManagingUserDraft.query(on: t.db).first()
            #expect(stored?.passwordHash.contains(password) == false, "kept hashed")
            // Back to the details step: the password field stays empty.
            let details = try await admin.post("/admin/co-managing-users/new", form + [("go", "details")])
            #expect(!details.text.contains(password) && details.text.contains("kept from before"))

            form += [("go", "create"), ("confirmLicense", "on")]
            let created = try await admin.post("/admin/co-managing-users/new", form)
            #expect(created.status == .seeOther, "\(created)")
            #expect(try await t.count(CoManagingUserDraft.schema) == 0, "the draft goes with the wizard")
            // The password typed at the details step is the user's: it passes, on to the two-factor enrolment.
            let login = try await t.post("/api/v1/auth/token", ["username": "wanda", "password": .string(password)], as: "")
            #expect(login.json["type"].string?.hasSuffix("totp-enrolment-required") == true, "\(login)")
        }
    }
}

/// A page session (cookie and CSRF token) for calling the server-rendered pages.
struct PageClient {
    let t: TestApp
    let secret: String

    static func login(_ t: TestApp, username: String) async throws -> PageClient {
        guard let resource = try await Resource.query(on: t.db).filter(\.$username == username).first() else { throw TestSetupError("no \(username)") }
        return try await login(t, principalId: resource.id!.uuidString, kind: .resource)
    }

    static func login(_ t: TestApp, principalId: String, kind: PrincipalKind) async throws -> PageClient {
        guard let id = UUID(uuidString: principalId) else { throw TestSetupError("bad id") }
        let (secret, _) = try await Tokens.issue(for: (id, kind), kind: .session, lifetime: 3600, on: t.db)
        return PageClient(t: t, secret: secret)
    }

    var headers: HTTPHeaders { ["Cookie": "\(Tokens.sessionCookie)=\(secret)"] }

    func get(_ path: String) async throws -> Reply {
        try await t.send(.GET, path, as: "", headers: headers)
    }

    func post(_ path: String, _ fields: [(String, String)]) async throws -> Reply {
        var headers = headers
        headers.contentType = .urlEncodedForm
        let all = fields + [(CSRF.field, CSRF.token(forSession: secret))]
        let body = all.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await t.send(.POST, path, as: "", raw: body, headers: headers)
    }

    func post(_ path: String, _ fields: [String: String]) async throws -> Reply {
        try await post(path, fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

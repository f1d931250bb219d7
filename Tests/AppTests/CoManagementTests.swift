import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Deactivating co-management (SPEC §2): refusals, each consequence, the dry run, the rollback.
@Suite struct DeactivationTests {
    /// Two co-managed organizations, a co-managing user associated with one directly and with the
    /// other through a team, tickets with every mix of assignees, items of each publish-to, rules.
    struct World {
        var organizations: [String]
        var neverCoManaged: String
        var user: String
        var username: String
        var team: String
        var technician: String
        /// Assigned only to the co-managing user: directly associated, and through the team.
        var onlyCoManaging: [String]
        /// Assigned to the co-managing user and an MSP resource.
        var mixed: String
        var mspOnly: String
        var hidden: String
        var tickets: [String] { onlyCoManaging + [mixed, mspOnly, hidden] }
        var brokenRule: String
        var keptRule: String
    }

    static func world(_ t: TestApp, deactivateUser: Bool = true) async throws -> World {
        try await t.setCoManagement(enabled: true)
        let northwind = try await t.coManagedOrganization("Northwind")
        let contoso = try await t.coManagedOrganization("Contoso")
        let fabrikam = try await t.organization("Fabrikam")
        let queue = try await t.queue("Service Desk")
        let (technician, _) = try await t.resource("tech")
        let user = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue]).id
        let team = try await t.coManagingTeam("Client IT", members: [user])
        try await t.setUp(northwind, users: [user])
        try await t.setUp(contoso, teams: [team])

        func ticket(_ organization: String, _ title: String, assignees: [String], visible: Bool = true) async throws -> String {
            try await t.ticket(organization, title, extra: ["assigneeIds": JSON(assignees), "coManagedVisible": .bool(visible)]).id
        }
        let direct = try await ticket(northwind, "Only Nina (direct)", assignees: [user])
        let throughTeam = try await ticket(contoso, "Only Nina (team)", assignees: [user])
        let mixed = try await ticket(northwind, "Nina and Tech", assignees: [user, technician])
        let mspOnly = try await ticket(contoso, "Only Tech", assignees: [technician])
        let hidden = try await ticket(fabrikam, "Hidden from co-managing users", assignees: [], visible: false)
        for ticketId in [direct, mixed, hidden] {
            for publishTo in ["internal", "internalAndCoManaged", "all"] {
                try await t.note(ticketId, "Note \(publishTo)", publishTo: publishTo)
                try await t.create(
                    "/api/v1/tickets/\(ticketId)/time-entries", ["minutes": 30, "summary": .string("Work \(publishTo)"), "publishTo": .string(publishTo)])
            }
        }
        if deactivateUser {
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user)", ["active": false])
        }
        // Rules kept from before a user's deactivation marked them (written directly: the API refuses to
        // save a rule naming an inactive user, and deactivating a user now marks its rules itself).
        let brokenRule = try await t.workflowRule("Notify Nina on new tickets", referencing: [user, technician])
        let keptRule = try await t.workflowRule("Notify Tech on new tickets", referencing: [technician])
        return World(
            organizations: [northwind, contoso], neverCoManaged: fabrikam, user: user, username: "nina", team: team, technician: technician,
            onlyCoManaging: [direct, throughTeam], mixed: mixed, mspOnly: mspOnly, hidden: hidden, brokenRule: brokenRule, keptRule: keptRule)
    }

    /// Everything deactivation may touch, as the API and the tables show it.
    struct Snapshot: Equatable {
        var systemEnabled: Bool
        var organizations: [String: JSON]
        var tickets: [String: JSON]
        var items: [String: [JSON]]
        var associations: Int
        var brokenRules: Set<String>
        var deactivatedEvents: Int
    }

    static func snapshot(_ t: TestApp, _ world: World) async throws -> Snapshot {
        var organizations: [String: JSON] = [:]
        for organization in world.organizations + [world.neverCoManaged] {
            organizations[organization] = try await t.get("/api/v1/organizations/\(organization)/co-management").json
        }
        var tickets: [String: JSON] = [:]
        var items: [String: [JSON]] = [:]
        for ticket in world.tickets {
            tickets[ticket] = try await t.get("/api/v1/tickets/\(ticket)").json
            items[ticket] =
                try await t.get("/api/v1/tickets/\(ticket)/notes?limit=200").json["items"].array
                + t.get("/api/v1/tickets/\(ticket)/time-entries?limit=200").json["items"].array
        }
        let broken = Set(try await AutomationRule.query(on: t.db).filter(\.$brokenReason != nil).all().map { $0.id!.uuidString })
        let events = try await AuditEvent.query(on: t.db).filter(\.$action == "deactivated").filter(\.$entityType == "co_management").count()
        return Snapshot(
            systemEnabled: try await t.get("/api/v1/co-management").json["enabled"] == true, organizations: organizations, tickets: tickets,
            items: items, associations: try await t.count("co_managed_associations"), brokenRules: broken, deactivatedEvents: events)
    }

    enum Consequence: String, CaseIterable, Sendable {
        case coManagementOffOnEveryOrganization
        case ticketsOnlyAssignedToCoManagingUsersAreUnassigned
        case associationsAreDeleted
        case rulesReferencingCoManagingUsersAreBroken
        case ticketDataVisibilityAndPublishToAreUnchanged
        case theDeactivationIsAudited
    }

    @Test(arguments: Consequence.allCases)
    func deactivation(_ consequence: Consequence) async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let before = try await Self.snapshot(t, world)

            let reply = try await t.send(.PUT, "/api/v1/co-management", json: ["enabled": false])

            expectStatus(reply, .ok)
            #expect(reply.json["enabled"] == false)
            let after = try await Self.snapshot(t, world)
            switch consequence {
            case .coManagementOffOnEveryOrganization:
                #expect(before.systemEnabled && !after.systemEnabled)
                for organization in world.organizations {
                    #expect(before.organizations[organization]?["enabled"] == true)
                    #expect(after.organizations[organization]?["enabled"] == false)
                }
                #expect(after.organizations[world.neverCoManaged]?["enabled"] == false)
            case .ticketsOnlyAssignedToCoManagingUsersAreUnassigned:
                for ticket in world.onlyCoManaging {
                    #expect(before.tickets[ticket]?["assigneeIds"] == JSON([world.user]))
                    #expect(after.tickets[ticket]?["assigneeIds"] == [], "a ticket only the co-managing user held is unassigned")
                }
                // A ticket with an MSP assignee keeps all of its assignees.
                #expect(after.tickets[world.mixed]?["assigneeIds"] == JSON([world.user, world.technician]))
                #expect(after.tickets[world.mspOnly]?["assigneeIds"] == JSON([world.technician]))
                #expect(after.tickets[world.hidden]?["assigneeIds"] == [])
            case .associationsAreDeleted:
                #expect(before.associations == 2)
                #expect(after.associations == 0)
                for organization in world.organizations {
                    #expect(after.organizations[organization]?["coManagingUserIds"] == [])
                    #expect(after.organizations[organization]?["coManagingTeamIds"] == [])
                }
                // The users and teams themselves stay; only the associations go.
                expectStatus(try await t.get("/api/v1/co-managing-users/\(world.user)"), .ok)
                #expect(try await t.get("/api/v1/co-managing-teams/\(world.team)").json["memberIds"] == JSON([world.user]))
            case .rulesReferencingCoManagingUsersAreBroken:
                #expect(before.brokenRules.isEmpty)
                #expect(after.brokenRules == [world.brokenRule])
                let rule = try #require(try await AutomationRule.find(UUID(uuidString: world.brokenRule), on: t.db))
                #expect(rule.brokenReason?.contains("co-managing user") == true)
                #expect(try await AutomationRule.find(UUID(uuidString: world.keptRule), on: t.db)?.brokenReason == nil)
            case .ticketDataVisibilityAndPublishToAreUnchanged:
                for ticket in world.tickets {
                    var old = try #require(before.tickets[ticket]?.object)
                    var new = try #require(after.tickets[ticket]?.object)
                    // Losing assignees is a new version of the ticket (its ETag moves, so no client overwrites it blindly).
                    let unassigned = old["assigneeIds"] != new["assigneeIds"]
                    #expect(new["version"]?.int == old["version"]?.int.map { unassigned ? $0 + 1 : $0 })
                    for field in ["assigneeIds", "version", "updatedAt"] {
                        old[field] = nil
                        new[field] = nil
                    }
                    #expect(old == new, "ticket \(ticket) changed beyond its assignees")
                    #expect(before.items[ticket] == after.items[ticket], "the notes and time entries of \(ticket) are untouched")
                }
                #expect(after.tickets[world.mixed]?["coManagedVisible"] == true)
                #expect(after.tickets[world.hidden]?["coManagedVisible"] == false)
                let publishTo = Set((after.items[world.mixed] ?? []).compactMap { $0["publishTo"].string })
                #expect(publishTo == ["internal", "internalAndCoManaged", "all"])
            case .theDeactivationIsAudited:
                #expect(before.deactivatedEvents == 0)
                let events = try await AuditEvent.query(on: t.db).filter(\.$action == "deactivated").filter(\.$entityType == "co_management").all()
                #expect(events.count == 1)
                let event = try #require(events.first)
                #expect(event.actorId?.uuidString == t.adminId)
                // The event records what changed: the unassigned tickets among it.
                for ticket in world.onlyCoManaging { #expect(event.before?.contains(ticket) == true) }
                #expect(event.after?.contains("false") == true)
            }
        }
    }

    @Test func refusedWithTheBlockingUsersWhileAnyIsActive() async throws {
        try await withApp { t in
            let world = try await Self.world(t, deactivateUser: false)
            let queue = try await t.queue("Second line")
            let other = try await t.coManagingUser("otto", organizationId: world.organizations[1], queueIds: [queue]).id
            let before = try await Self.snapshot(t, world)

            let reply = try await t.send(.PUT, "/api/v1/co-management", json: ["enabled": false])

            expectProblem(reply, .conflict, contains: "nina")
            #expect(reply.json["type"].string?.hasSuffix("co-managing-users-active") == true)
            let blocking = reply.json["blockingUsers"].array
            #expect(blocking.map(\.id) == [world.user, other], "sorted by username")
            #expect(blocking.map { $0["username"] } == ["nina", "otto"])
            #expect(blocking.map { $0["organizationId"] } == [.string(world.organizations[0]), .string(world.organizations[1])])
            #expect(try await Self.snapshot(t, world) == before, "a refused deactivation changes nothing")
            // The dry run names the same users.
            #expect(try await t.get("/api/v1/co-management/deactivation-impact").json["blockingUsers"] == reply.json["blockingUsers"])

            // Once both are deactivated, it goes through.
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(world.user)", ["active": false])
            expectProblem(try await t.send(.PUT, "/api/v1/co-management", json: ["enabled": false]), .conflict, contains: "otto")
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(other)", ["active": false])
            expectStatus(try await t.send(.PUT, "/api/v1/co-management", json: ["enabled": false]), .ok)
        }
    }

    @Test func anAccountManagerCannotBeDeactivated() async throws {
        try await withApp { t in
            let world = try await Self.world(t, deactivateUser: false)
            let northwind = try #require(UUID(uuidString: world.organizations[0]))
            try await Organization.query(on: t.db).filter(\.$id == northwind).set(\.$accountManagerId, to: UUID(uuidString: world.user)).update()

            let deactivate = try await t.patch("/api/v1/co-managing-users/\(world.user)", ["active": false])
            let erase = try await t.delete("/api/v1/co-managing-users/\(world.user)")

            expectProblem(deactivate, .conflict, contains: "Northwind")
            expectProblem(erase, .conflict, contains: "Northwind")
            #expect(try await t.get("/api/v1/co-managing-users/\(world.user)").json["active"] == true)
            // With another account manager the user can go, and then co-management too.
            try await Organization.query(on: t.db).filter(\.$id == northwind).set(\.$accountManagerId, to: UUID(uuidString: world.technician)).update()
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(world.user)", ["active": false])
            expectStatus(try await t.send(.PUT, "/api/v1/co-management", json: ["enabled": false]), .ok)
        }
    }

    /// Deactivation fails at every one of its row writes in turn (a trigger the test sets, `FailingWrites`):
    /// each failure leaves everything as it was, and the first budget that suffices deactivates for real.
    @Test func aFailureAtAnyWriteRollsEverythingBack() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let before = try await Self.snapshot(t, world)
            let admin = try await t.adminPrincipal()
            let tables = [
                Organization.schema, TicketAssignee.schema, "tickets", CoManagedAssociation.schema, AutomationRule.schema, Setting.schema, AuditEvent.schema,
            ]

            var failures = 0
            while true {
                try await FailingWrites.arm(failingAfter: failures, on: tables, t.db)
                do {
                    try await CoManagementService.deactivate(by: admin, on: t.db)
                    break
                } catch {
                    #expect(String(reflecting: error).contains(FailingWrites.message), "\(error)")
                }
                try await FailingWrites.disarm(tables, t.db)
                let after = try await Self.snapshot(t, world)
                #expect(after == before, "nothing changed after a failure at write \(failures + 1)")
                #expect(after.systemEnabled)
                #expect(after.associations == 2)
                for ticket in world.onlyCoManaging { #expect(after.tickets[ticket]?["assigneeIds"] == JSON([world.user])) }
                failures += 1
                try #require(failures < 100, "deactivation never went through")
            }
            try await FailingWrites.disarm(tables, t.db)

            // Two organizations, the tickets' assignees, two associations, a rule, the setting and the audit event.
            #expect(failures >= 2 + world.onlyCoManaging.count + 2 + 1 + 1 + 1)
            #expect(try await Self.snapshot(t, world).associations == 0)
        }
    }

    @Test func theDryRunListsExactlyWhatChanges() async throws {
        try await withApp { t in
            let world = try await Self.world(t)
            let before = try await Self.snapshot(t, world)

            let impact = try await t.get("/api/v1/co-management/deactivation-impact")
            try await t.setCoManagement(enabled: false)

            expectStatus(impact, .ok)
            let plan = impact.json
            let after = try await Self.snapshot(t, world)
            #expect(plan["blockingUsers"] == [])
            // Organizations: exactly those that were co-managed, and exactly those are now off.
            let listed = Set(plan["organizationsToDisable"].array.map(\.id))
            let switchedOff = Set(world.organizations + [world.neverCoManaged]).filter {
                before.organizations[$0]?["enabled"] == true && after.organizations[$0]?["enabled"] == false
            }
            #expect(listed == Set(world.organizations))
            #expect(listed == switchedOff)
            // Tickets: exactly those listed lost their assignees.
            let unassigned = Set(world.tickets.filter { before.tickets[$0]?["assigneeIds"] != after.tickets[$0]?["assigneeIds"] })
            #expect(Set(plan["ticketsToUnassign"].array.map(\.id)) == unassigned)
            #expect(unassigned == Set(world.onlyCoManaging))
            for ticket in plan["ticketsToUnassign"].array {
                #expect(ticket["assigneeIds"] == JSON([world.user]))
                #expect(ticket["number"].int != nil && ticket["title"].string != nil)
            }
            // Associations: the direct one and the team's, all gone.
            let associations = plan["associationsToDelete"].array
            #expect(associations.count == before.associations)
            #expect(associations.contains { $0["organizationId"] == .string(world.organizations[0]) && $0["coManagingUserId"] == .string(world.user) })
            #expect(associations.contains { $0["organizationId"] == .string(world.organizations[1]) && $0["coManagingTeamId"] == .string(world.team) })
            #expect(after.associations == 0)
            // Rules: exactly those now broken.
            #expect(Set(plan["rulesToBreak"].array.map(\.id)) == after.brokenRules.subtracting(before.brokenRules))
            #expect(plan["rulesToBreak"].array.map { $0["name"] } == ["Notify Nina on new tickets"])
            #expect(plan["unchanged"].array.count == 3)

            // Nothing is left to change.
            let again = try await t.get("/api/v1/co-management/deactivation-impact").json
            for key in ["blockingUsers", "organizationsToDisable", "ticketsToUnassign", "associationsToDelete", "rulesToBreak"] {
                #expect(again[key] == [], "\(key) after deactivation")
            }
        }
    }

    @Test func onlyAdministratorsSwitchCoManagement() async throws {
        try await withApp { t in
            let (_, technician) = try await t.resource("tech")
            expectProblem(try await t.send(.PUT, "/api/v1/co-management", as: technician, json: ["enabled": true]), .forbidden)
            expectProblem(try await t.get("/api/v1/co-management/deactivation-impact", as: technician), .forbidden)
            #expect(try await t.get("/api/v1/co-management").json["enabled"] == false, "off by default")
            let organization = try await t.organization("Northwind")
            // An organization cannot be co-managed while the system switch is off.
            expectProblem(try await t.send(.PUT, "/api/v1/organizations/\(organization)/co-management", json: ["enabled": true]), .conflict)
        }
    }
}

/// The co-managing user wizard, licenses, levels, assignment and the HaloPSA rules (SPEC §2).
@Suite struct CoManagingUserTests {
    struct Setup {
        var organization: String
        var other: String
        var queue: String
    }

    static func setup(_ t: TestApp) async throws -> Setup {
        try await t.setCoManagement(enabled: true)
        return Setup(
            organization: try await t.coManagedOrganization("Northwind"), other: try await t.organization("Contoso"), queue: try await t.queue("Service Desk"))
    }

    @Test func theWizardStartsFromAnExistingContact() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let contact = try await t.contact(s.organization, "Nina", email: "nina@northwind.example")
            var body = try await t.coManagingUserBody("nina", organizationId: s.organization, queueIds: [s.queue])
            body = body.merging(["contact": nil, "contactId": .string(contact)])
            let contactsBefore = try await t.count("contacts")

            let user = try await t.create("/api/v1/co-managing-users", body)

            #expect(user["contactId"] == .string(contact))
            #expect(user["organizationId"] == .string(s.organization))
            #expect(user["active"] == true)
            #expect(user["totpEnrolled"] == false)
            #expect(user["queueIds"] == JSON([s.queue]))
            #expect(try await t.count("contacts") == contactsBefore)
            // The same contact cannot become a second co-managing user.
            expectProblem(try await t.post("/api/v1/co-managing-users", body.merging(["username": "nina2"])), .conflict)
        }
    }

    @Test func theWizardCreatesANewContactInTheSameTransaction() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let site = try await t.site(s.organization, "Head office")
            let body = try await t.coManagingUserBody(
                "nina", organizationId: s.organization, queueIds: [s.queue],
                extra: ["contact": ["firstName": "Nina", "lastName": "Novak", "email": "nina@northwind.example", "siteId": .string(site)]])

            let user = try await t.create("/api/v1/co-managing-users", body)

            let contact = try await t.get("/api/v1/contacts/\(user["contactId"].string ?? "")").json
            #expect(contact["organizationId"] == .string(s.organization))
            #expect(contact["siteId"] == .string(site))
            #expect(contact["email"] == "nina@northwind.example")
            #expect(contact["firstName"] == "Nina")
            let created = try await t.auditEvents(entityId: contact.id)
            #expect(created.map { $0["action"] } == ["created"])

            // A wizard that fails leaves no contact behind, whichever check fails.
            let (_, _) = try await t.resource("ursula")
            let before = try await t.rowCounts()
            let usersBefore = try await t.count("co_managing_users")
            let failing: [(JSON, HTTPStatus)] = [
                (["username": "ursula"], .conflict),  // taken by a resource
                (["username": "nina"], .conflict),  // taken by a co-managing user
                (["roleIds": [.string(UUID().uuidString)]], .unprocessableEntity),  // unknown role
                (["confirmLicense": false], .conflict),  // license not confirmed
                (
                    ["contact": ["firstName": "Olga", "lastName": "Other", "email": "olga@northwind.example", "siteId": .string(UUID().uuidString)]],
                    .unprocessableEntity
                ),
            ]
            for (change, status) in failing {
                let reply = try await t.post("/api/v1/co-managing-users", body.merging(["username": "olga"]).merging(change))
                expectProblem(reply, status)
            }
            #expect(try await t.rowCounts() == before, "no contact, queue membership or audit event was written")
            #expect(try await t.count("co_managing_users") == usersBefore)
            #expect(try await t.get("/api/v1/search?q=olga").json["contacts"] == [])

            // Racing wizards for one username: the losers' contacts roll back with them, even past the early check.
            let contactsBefore = try await t.count("contacts")
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await t.post(
                            "/api/v1/co-managing-users",
                            body.merging([
                                "username": "race",
                                "contact": ["firstName": "Racer", "lastName": .string("No\(index)"), "email": .string("racer\(index)@northwind.example")],
                            ])
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 3)
            #expect(try await t.count("contacts") == contactsBefore + 1)
        }
    }

    @Test func theWizardsRules() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let (_, _) = try await t.resource("ursula")
            let withoutEmail = try await t.contact(s.organization, "Nomail")
            let otherContact = try await t.contact(s.other, "Elsewhere", email: "elsewhere@contoso.example")
            let body = try await t.coManagingUserBody("nina", organizationId: s.organization, queueIds: [s.queue])
            let before = try await t.rowCounts()

            // The organization must have co-management on.
            expectProblem(
                try await t.post("/api/v1/co-managing-users", body.merging(["organizationId": .string(s.other)])),
                .unprocessableEntity, field: "organizationId", contains: "co-management is not enabled")
            // The contact's primary email is required, and the contact must be of the organization.
            expectProblem(
                try await t.post("/api/v1/co-managing-users", body.merging(["contact": nil, "contactId": .string(withoutEmail)])),
                .unprocessableEntity, field: "contactId", contains: "email")
            expectProblem(
                try await t.post("/api/v1/co-managing-users", body.merging(["contact": nil, "contactId": .string(otherContact)])),
                .unprocessableEntity, field: "contactId")
            expectProblem(
                try await t.post("/api/v1/co-managing-users", body.merging(["contact": ["firstName": "Nina", "lastName": "Novak"]])),
                .unprocessableEntity, field: "contact.email")
            // Usernames: at most 32 characters, unique across co-managing users and resources, case-insensitively.
            expectProblem(
                try await t.post("/api/v1/co-managing-users", body.merging(["username": .string(String(repeating: "n", count: 33))])),
                .unprocessableEntity, field: "username")
            expectProblem(try await t.post("/api/v1/co-managing-users", body.merging(["username": "Ursula"])), .conflict, contains: "taken")
            expectProblem(try await t.post("/api/v1/co-managing-users", body.merging(["username": "admin"])), .conflict, contains: "taken")
            // At least one queue.
            expectProblem(try await t.post("/api/v1/co-managing-users", body.merging(["queueIds": []])), .unprocessableEntity, field: "queueIds")
            expectProblem(try await t.post("/api/v1/co-managing-users", body.merging(["queueIds": nil])), .unprocessableEntity, field: "queueIds")
            // A co-managed security level.
            expectProblem(
                try await t.post("/api/v1/co-managing-users", body.merging(["securityLevelId": .string(try await t.securityLevelId(.technician))])),
                .unprocessableEntity, field: "securityLevelId")
            #expect(try await t.rowCounts() == before, "refusals write nothing")

            // 32 characters are fine, and the user logs in as username@<tenant domain>.
            let longest = String(repeating: "n", count: 32)
            let user = try await t.create("/api/v1/co-managing-users", body.merging(["username": .string(longest)]))
            let token = try await t.loginCoManaging(user.id, "\(longest)@tandem.local")
            #expect(try await t.get("/api/v1/me", as: token).json["kind"] == "coManagingUser")
            // Logging time needs a role.
            let ticket = try await t.ticket(s.organization, "Printer", extra: ["coManagedVisible": true]).id
            try await t.setUp(s.organization, users: [user.id])
            expectProblem(
                try await t.post("/api/v1/tickets/\(ticket)/time-entries", ["minutes": 10, "summary": "Checked"], as: token),
                .unprocessableEntity, field: "roleId", contains: "needs a role")
            let engineer = try await t.role("Engineer")
            let architect = try await t.role("Architect", hourlyRate: 200)
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user.id)", ["roleIds": [.string(engineer)]])
            let entry = try await t.create("/api/v1/tickets/\(ticket)/time-entries", ["minutes": 10, "summary": "Checked"], as: token)
            #expect(entry["roleId"] == .string(engineer), "their only role")
            expectProblem(
                try await t.post("/api/v1/tickets/\(ticket)/time-entries", ["minutes": 10, "summary": "x", "roleId": .string(architect)], as: token),
                .unprocessableEntity, field: "roleId", contains: "one of your roles")
        }
    }

    @Test func eachNewLicenseIsConfirmed() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            #expect(try await t.get("/api/v1/licenses").json["coManagedLicenses"] == 0)
            let body = try await t.coManagingUserBody("nina", organizationId: s.organization, queueIds: [s.queue])

            let unconfirmed = try await t.post("/api/v1/co-managing-users", body.merging(["confirmLicense": nil]))
            expectProblem(unconfirmed, .conflict, contains: "1 licenses")
            #expect(unconfirmed.json["type"].string?.hasSuffix("license-confirmation-required") == true)
            #expect(unconfirmed.json["licenseCount"] == 0)
            #expect(try await t.count("co_managing_users") == 0)

            let nina = try await t.create("/api/v1/co-managing-users", body).id
            #expect(try await t.get("/api/v1/licenses").json["coManagedLicenses"] == 1)
            let second = try await t.coManagingUserBody("otto", organizationId: s.organization, queueIds: [s.queue])
            let again = try await t.post("/api/v1/co-managing-users", second.merging(["confirmLicense": false]))
            expectProblem(again, .conflict, contains: "2 licenses")
            #expect(again.json["licenseCount"] == 1)
            try await t.create("/api/v1/co-managing-users", second)
            #expect(try await t.get("/api/v1/licenses").json["coManagedLicenses"] == 2)

            // An inactive user is no license; reactivating adds one again, so it is confirmed too.
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(nina)", ["active": false])
            #expect(try await t.get("/api/v1/licenses").json["coManagedLicenses"] == 1)
            expectProblem(try await t.patch("/api/v1/co-managing-users/\(nina)", ["active": true]), .conflict)
            #expect(try await t.get("/api/v1/co-managing-users/\(nina)").json["active"] == false)
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(nina)", ["active": true, "confirmLicense": true])
            #expect(try await t.get("/api/v1/licenses").json["coManagedLicenses"] == 2)
            let (_, technician) = try await t.resource("tech")
            expectProblem(try await t.get("/api/v1/licenses", as: technician), .forbidden)
        }
    }

    @Test func theOrganizationIsReadOnlyAfterCreation() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let second = try await t.coManagedOrganization("Fabrikam")
            let user = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue])

            expectProblem(
                try await t.patch("/api/v1/co-managing-users/\(user.id)", ["organizationId": .string(second)]), .unprocessableEntity, field: "organizationId")
            expectProblem(
                try await t.patch("/api/v1/co-managing-users/\(user.id)", ["contactId": .string(UUID().uuidString)]), .unprocessableEntity, field: "contactId")

            #expect(try await t.get("/api/v1/co-managing-users/\(user.id)").json["organizationId"] == .string(s.organization))
            // Naming the same organization is no change, and other fields stay editable.
            let edited = try await t.must(
                .ok, .PATCH, "/api/v1/co-managing-users/\(user.id)", ["organizationId": .string(s.organization), "username": "nina.novak"])
            #expect(edited["username"] == "nina.novak")
            expectProblem(try await t.patch("/api/v1/co-managing-users/\(user.id)", ["queueIds": []]), .unprocessableEntity, field: "queueIds")
        }
    }

    @Test func coManagedLevelsNeverHoldAdministrativePermissions() async throws {
        try await withApp { t in
            let helpDesk = try await t.securityLevelId(.coManagedHelpDesk)
            let permissions: JSON = ["ticketScope": "all", "areas": ["tickets": "edit"], "admin": ["manageUsers"]]

            expectProblem(
                try await t.post("/api/v1/security-levels", ["name": "Client IT admin", "copyOf": .string(helpDesk), "permissions": permissions]),
                .unprocessableEntity, field: "permissions.admin", contains: "manageUsers")
            expectProblem(
                try await t.post("/api/v1/security-levels", ["name": "Client IT admin", "coManaged": true, "permissions": permissions]),
                .unprocessableEntity, field: "permissions.admin")
            for admin in AdminPermission.allCases {
                let reply = try await t.post(
                    "/api/v1/security-levels",
                    [
                        "name": "Try", "copyOf": .string(helpDesk),
                        "permissions": ["ticketScope": "all", "admin": [.string(admin.rawValue)]],
                    ])
                expectProblem(reply, .unprocessableEntity, field: "permissions.admin", contains: admin.rawValue)
            }
            // A copy without them is fine; adding one later is refused the same way.
            let copy = try await t.create("/api/v1/security-levels", ["name": "Client IT", "copyOf": .string(helpDesk)])
            #expect(copy["coManaged"] == true)
            #expect(copy["systemKey"].isNull)
            expectProblem(
                try await t.patch("/api/v1/security-levels/\(copy.id)", ["permissions": permissions]), .unprocessableEntity, field: "permissions.admin")
            // An MSP level may hold them; the system levels cannot be edited at all.
            expectStatus(try await t.post("/api/v1/security-levels", ["name": "MSP admin", "coManaged": false, "permissions": permissions]), .created)
            expectProblem(try await t.patch("/api/v1/security-levels/\(helpDesk)", ["name": "Renamed"]), .conflict)
        }
    }

    @Test func assignmentNamesTheConditionThatFails() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let associatedOff = try await t.coManagedOrganization("Fabrikam")
            let notAssociated = try await t.coManagedOrganization("Tailspin")
            let user = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue]).id
            try await t.setUp(s.organization, users: [user])
            try await t.setUp(associatedOff, users: [user])
            try await t.setUp(associatedOff, coManaged: false)
            func ticket(_ organization: String, visible: Bool) async throws -> String {
                try await t.ticket(organization, "Printer", extra: ["coManagedVisible": .bool(visible)]).id
            }
            let cases: [(ticket: String, failing: String)] = [
                (try await ticket(associatedOff, visible: true), "not co-managed"),
                (try await ticket(notAssociated, visible: true), "not associated"),
                (try await ticket(s.organization, visible: false), "co-managed visibility is off"),
            ]
            let conditions = ["not co-managed", "not associated", "co-managed visibility is off"]

            for (ticket, failing) in cases {
                let reply = try await t.patch("/api/v1/tickets/\(ticket)", ["assigneeIds": [.string(user)]])
                expectProblem(reply, .unprocessableEntity, field: "assigneeIds", contains: failing)
                for other in conditions where other != failing {
                    #expect(!reply.text.contains(other), "only the failing condition is named: \(reply)")
                }
                #expect(try await t.assignees(ticket) == [])
            }
            // Creating is checked the same way.
            expectProblem(
                try await t.post(
                    "/api/v1/tickets",
                    [
                        "organizationId": .string(notAssociated), "title": "x", "coManagedVisible": true,
                        "assigneeIds": [.string(user)],
                    ]), .unprocessableEntity, field: "assigneeIds", contains: "not associated")

            // When all three hold, the assignment is accepted; hiding the ticket afterwards is refused while the user holds it.
            let good = try await ticket(s.organization, visible: true)
            #expect(try await t.must(.ok, .PATCH, "/api/v1/tickets/\(good)", ["assigneeIds": [.string(user)]])["assigneeIds"] == JSON([user]))
            expectProblem(
                try await t.patch("/api/v1/tickets/\(good)", ["coManagedVisible": false]), .unprocessableEntity,
                field: "assigneeIds", contains: "co-managed visibility is off")
            // Through a team works like a direct association.
            let team = try await t.coManagingTeam("Client IT", members: [user])
            try await t.setUp(notAssociated, teams: [team])
            expectStatus(try await t.patch("/api/v1/tickets/\(cases[1].ticket)", ["assigneeIds": [.string(user)]]), .ok)
        }
    }

    /// A co-managing user is not shown MSP teams, so the API refuses them a change of one, as the
    /// page never offers it (`AccessPolicy.authorizeTicketChange`); what they are shown they change.
    @Test func coManagingUsersChangeNoFieldTheyAreNotShown() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let user = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue]).id
            try await t.setUp(s.organization, users: [user])
            let token = try await t.loginCoManaging(user, "nina")
            let team = try await t.create("/api/v1/teams", ["name": "Network"]).id
            let ticket = try await t.ticket(s.organization, "Switch down", extra: ["coManagedVisible": true]).id
            #expect(try await t.get("/api/v1/tickets/\(ticket)", as: token).json["teamId"] == .null, "the GET leaves teamId out")
            let refused = try await t.patch("/api/v1/tickets/\(ticket)", ["teamId": .string(team), "priority": "high"], as: token)
            expectStatus(refused, .forbidden)
            #expect(refused.json["detail"].string?.contains("teamId") == true)
            let stored = try await t.get("/api/v1/tickets/\(ticket)").json
            #expect(stored["teamId"] == .null && stored["priority"] == "medium", "a refused change writes nothing")
            expectStatus(try await t.patch("/api/v1/tickets/\(ticket)", ["priority": "high"], as: token), .ok)
            expectStatus(try await t.patch("/api/v1/tickets/\(ticket)", ["teamId": .string(team)]), .ok)
        }
    }

    @Test func coManagingUsersCannotReassignFromMSPResourcesWhenTheSettingIsOn() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let (technician, _) = try await t.resource("tech")
            let user = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue]).id
            try await t.setUp(s.organization, users: [user])
            let token = try await t.loginCoManaging(user, "nina")
            let held = try await t.ticket(s.organization, "Held by the MSP", extra: ["coManagedVisible": true, "assigneeIds": [.string(technician)]]).id
            let theirs = try await t.ticket(s.organization, "Held by Nina", extra: ["coManagedVisible": true, "assigneeIds": [.string(user)]]).id

            // Off (the default): the co-managing user may take the ticket over.
            #expect(try await t.get("/api/v1/co-management").json["coManagingUsersCannotReassign"] == false)
            expectStatus(try await t.patch("/api/v1/tickets/\(held)", ["assigneeIds": [.string(user)]], as: token), .ok)
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(held)", ["assigneeIds": [.string(technician)]])

            let settings = try await t.must(.ok, .PUT, "/api/v1/co-management", ["coManagingUsersCannotReassign": true])

            #expect(settings["coManagingUsersCannotReassign"] == true)
            #expect(settings["enabled"] == true)
            expectProblem(try await t.patch("/api/v1/tickets/\(held)", ["assigneeIds": [.string(user)]], as: token), .forbidden, contains: "MSP resources")
            expectProblem(try await t.patch("/api/v1/tickets/\(held)", ["assigneeIds": []], as: token), .forbidden)
            #expect(try await t.assignees(held) == [technician])
            // Other changes, the same assignees, and tickets no MSP resource holds are fine.
            expectStatus(try await t.patch("/api/v1/tickets/\(held)", ["priority": "high", "assigneeIds": [.string(technician)]], as: token), .ok)
            expectStatus(try await t.patch("/api/v1/tickets/\(theirs)", ["assigneeIds": []], as: token), .ok)
            // MSP staff are not bound by it.
            expectStatus(try await t.patch("/api/v1/tickets/\(held)", ["assigneeIds": [.string(user)]]), .ok)
        }
    }

    @Test func itemsOfCoManagingUsersAreNeverInternal() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let role = try await t.role("Engineer")
            let user = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue], extra: ["roleIds": [.string(role)]]).id
            try await t.setUp(s.organization, users: [user])
            let token = try await t.loginCoManaging(user, "nina")
            let ticket = try await t.ticket(s.organization, "Printer", extra: ["coManagedVisible": true]).id
            let file = Data("log".utf8).base64EncodedString()

            let note = try await t.note(ticket, "Restarted the spooler", as: token)
            let entry = try await t.create("/api/v1/tickets/\(ticket)/time-entries", ["minutes": 15, "summary": "Spooler", "roleId": .string(role)], as: token)
            let attachment = try await t.create(
                "/api/v1/tickets/\(ticket)/attachments", ["filename": "log.txt", "contentType": "text/plain", "content": .string(file)], as: token)

            #expect(note["publishTo"] == "internalAndCoManaged")
            #expect(note["authorKind"] == "coManagingUser")
            #expect(entry["publishTo"] == "internalAndCoManaged")
            #expect(attachment["publishTo"] == "internalAndCoManaged")
            expectProblem(
                try await t.post("/api/v1/tickets/\(ticket)/notes", ["body": "x", "publishTo": "internal"], as: token), .unprocessableEntity, field: "publishTo"
            )
            expectProblem(
                try await t.post(
                    "/api/v1/tickets/\(ticket)/time-entries", ["minutes": 5, "summary": "x", "roleId": .string(role), "publishTo": "internal"], as: token),
                .unprocessableEntity, field: "publishTo")
            expectProblem(
                try await t.post(
                    "/api/v1/tickets/\(ticket)/attachments",
                    ["filename": "x.txt", "contentType": "text/plain", "content": .string(file), "publishTo": "internal"], as: token),
                .unprocessableEntity, field: "publishTo")
            #expect(try await t.note(ticket, "For the end user too", publishTo: "all", as: token)["publishTo"] == "all")
            #expect(try await t.get("/api/v1/tickets/\(ticket)/notes").json["items"].array.allSatisfy { $0["publishTo"] != "internal" })
        }
    }

    @Test func savedFiltersNeedALevelThatGrantsThem() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let user = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue]).id
            let token = try await t.loginCoManaging(user, "nina")
            let (_, technician) = try await t.resource("tech")
            let filter: JSON = ["name": "Open printers", "query": "status=new&q=printer"]

            expectProblem(try await t.post("/api/v1/saved-filters", filter, as: token), .forbidden)
            expectProblem(try await t.post("/api/v1/saved-filters", filter.merging(["shared": true]), as: token), .forbidden)
            let created = try await t.create("/api/v1/saved-filters", filter.merging(["shared": true]), as: technician)
            #expect(created["shared"] == true)
            // A shared list of MSP staff is not shown to co-managing users.
            #expect(try await allIds(t, "/api/v1/saved-filters", as: token) == [])
            expectProblem(try await t.get("/api/v1/saved-filters/\(created.id)", as: token), .notFound)

            // A custom co-managed level that grants them.
            let level = try await t.create(
                "/api/v1/security-levels",
                [
                    "name": "Client IT with lists", "copyOf": .string(try await t.securityLevelId(.coManagedHelpDesk)),
                    "permissions": ["ticketScope": "all", "areas": ["tickets": "edit", "notes": "add"], "savedFilters": true],
                ])
            try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user)", ["securityLevelId": .string(level.id)])
            let mine = try await t.create("/api/v1/saved-filters", filter, as: try await t.loginCoManaging(user, "nina"))
            #expect(mine["ownerId"] == .string(user))
        }
    }

    @Test func explainAccessGivesTheDecisionAndItsReasons() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let off = try await t.coManagedOrganization("Fabrikam")
            let nina = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue]).id
            let olga = try await t.coManagingUser("olga", organizationId: off, queueIds: [s.queue]).id
            try await t.setUp(s.organization, users: [nina])
            try await t.setUp(off, users: [olga])
            try await t.setUp(off, coManaged: false)
            let (restricted, _) = try await t.resource("rick", restrictions: [s.other])
            let (_, technician) = try await t.resource("tech")
            let contact = try await t.contact(s.organization, "Alice", email: "alice@northwind.example")
            let shared = try await t.ticket(s.organization, "Shared", extra: ["coManagedVisible": true, "contactId": .string(contact)]).id
            let hidden = try await t.ticket(s.organization, "Hidden", extra: ["coManagedVisible": false]).id
            let elsewhere = try await t.ticket(off, "Elsewhere", extra: ["coManagedVisible": true]).id
            func explain(_ ticket: String, _ principal: String) async throws -> JSON {
                try await t.must(.ok, .GET, "/api/v1/tickets/\(ticket)/access?principalId=\(principal)")
            }

            let allowed = try await explain(shared, nina)
            #expect(allowed["allowed"] == true)
            #expect(allowed["principalKind"] == "coManagingUser")
            #expect(allowed["principalName"] == "Nina Comanager")
            let reasons = allowed["reasons"].array.compactMap(\.string)
            #expect(reasons.contains("Co-management is on for the system."))
            #expect(reasons.contains("Co-management is on for the ticket's organization."))
            #expect(reasons.contains("The user is associated with the ticket's organization."))
            #expect(reasons.contains("The ticket is visible to co-managing users."))

            let invisible = try await explain(hidden, nina)
            #expect(invisible["allowed"] == false)
            #expect(invisible["reasons"].array.contains("The ticket is hidden from co-managing users (co-managed visibility off)."))
            let switchedOff = try await explain(elsewhere, olga)
            #expect(switchedOff["allowed"] == false)
            #expect(switchedOff["reasons"].array.contains("Co-management is off for the ticket's organization."))
            let notAssociated = try await explain(elsewhere, nina)
            #expect(notAssociated["reasons"].array.contains("The user is not associated with the ticket's organization."))
            let restrictedOut = try await explain(shared, restricted)
            #expect(restrictedOut["allowed"] == false)
            #expect(restrictedOut["reasons"].array.contains("The resource is limited to other organizations (client restrictions)."))
            let theContact = try await explain(shared, contact)
            #expect(theContact["allowed"] == true)
            #expect(theContact["reasons"].array.contains("The contact is the ticket's contact."))
            #expect(try await explain(hidden, contact)["allowed"] == false)

            // Admins only; unknown principals and tickets are 404, a missing principal a field error.
            expectProblem(try await t.get("/api/v1/tickets/\(shared)/access?principalId=\(nina)", as: technician), .forbidden)
            expectProblem(try await t.get("/api/v1/tickets/\(shared)/access?principalId=\(UUID().uuidString)"), .notFound)
            expectProblem(try await t.get("/api/v1/tickets/\(UUID().uuidString)/access?principalId=\(nina)"), .notFound)
            expectProblem(try await t.get("/api/v1/tickets/\(shared)/access"), .unprocessableEntity, field: "principalId")
        }
    }

    @Test func theAudienceIsCountedByParty() async throws {
        try await withApp { t in
            let s = try await Self.setup(t)
            let nina = try await t.coManagingUser("nina", organizationId: s.organization, queueIds: [s.queue]).id
            let otto = try await t.coManagingUser("otto", organizationId: s.organization, queueIds: [s.queue]).id
            let team = try await t.coManagingTeam("Client IT", members: [otto])
            try await t.setUp(s.organization, users: [nina], teams: [team])
            let (technician, _) = try await t.resource("tech")
            let (_, _) = try await t.resource("rick", restrictions: [s.other])
            let alice = try await t.contact(s.organization, "Alice", email: "alice@northwind.example")
            let wide = try await t.contact(s.organization, "Walter", email: "walter@northwind.example", extra: ["portalOrganizationWide": true])
            _ = try await t.contact(s.organization, "Bob", email: "bob@northwind.example")
            let shared = try await t.ticket(s.organization, "Shared", extra: ["coManagedVisible": true, "contactId": .string(alice)]).id
            let hidden = try await t.ticket(s.organization, "Hidden", extra: ["coManagedVisible": false, "contactId": .string(alice)]).id
            func audience(_ ticket: String, _ publishTo: String) async throws -> [String: (count: Int, ids: Set<String>)] {
                let json = try await t.must(.ok, .GET, "/api/v1/tickets/\(ticket)/audience?publishTo=\(publishTo)")
                #expect(json["publishTo"] == .string(publishTo))
                var parties: [String: (Int, Set<String>)] = [:]
                for party in json["parties"].array {
                    let members = party["members"].array
                    #expect(members.allSatisfy { $0["name"].string?.isEmpty == false })
                    parties[party["party"].string ?? ""] = (party["count"].int ?? -1, Set(members.map(\.id)))
                }
                return parties
            }
            let msp: Set<String> = [t.adminId, technician]

            let internalOnly = try await audience(shared, "internal")
            let coManaged = try await audience(shared, "internalAndCoManaged")
            let everyone = try await audience(shared, "all")
            let hiddenCoManaged = try await audience(hidden, "internalAndCoManaged")

            #expect(internalOnly["msp"]?.ids == msp, "the restricted resource is not in the audience")
            #expect(internalOnly["msp"]?.count == 2)
            #expect(internalOnly["coManaged"]?.count == 0)
            #expect(internalOnly["contact"]?.count == 0)
            #expect(coManaged["msp"]?.ids == msp)
            #expect(coManaged["coManaged"]?.ids == [nina, otto], "directly and through the team")
            #expect(coManaged["coManaged"]?.count == 2)
            #expect(coManaged["contact"]?.count == 0)
            #expect(everyone["coManaged"]?.ids == [nina, otto])
            #expect(everyone["contact"]?.ids == [alice, wide], "the ticket's contact and the organization-wide portal user")
            #expect(everyone["contact"]?.count == 2)
            #expect(hiddenCoManaged["coManaged"]?.count == 0)
            expectProblem(try await t.get("/api/v1/tickets/\(shared)/audience?publishTo=everyone"), .unprocessableEntity, field: "publishTo")
        }
    }
}

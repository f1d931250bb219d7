import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The access matrix of issue 3: every principal × every object × every operation, on SQLite and
/// PostgreSQL. The expected answer of each cell comes from `Rules`, a few plain lines that restate
/// SPEC §1–§3 — never from the access policy under test.
@Suite struct AccessMatrixTests {
    enum Party: Sendable { case administrator, technician, coManaging, contact }

    /// A principal as the spec describes it.
    struct Who: Sendable {
        let name: String
        let party: Party
        var id = ""
        var token = ""
        /// Resources: the organizations they are limited to; nil for all.
        var restrictions: Set<String>?
        /// Co-managing users and contacts: their own organization.
        var organization: String?
        /// Co-managing users: organizations associated directly or through a co-managing team.
        var associated: Set<String> = []
        /// Contacts: the portal shows every ticket of their organization.
        var organizationWide = false
    }

    enum Kind: String, Sendable { case ticket, note, timeEntry, attachment, contact, organization, resource, coManagingUser }

    struct TicketFacts: Sendable {
        let id: String
        let organization: String
        let coManagedVisible: Bool
        let contact: String?
    }

    /// An object of the matrix with what the rules need to know about it.
    struct Object: Sendable {
        let kind: Kind
        var id: String
        let name: String
        /// The organization it belongs to (tickets, contacts, co-managing users; an organization's own id).
        var organization: String?
        /// Tickets: their own facts; items: their ticket's.
        var ticket: TicketFacts?
        var publishTo: String?
        /// A PATCH body that changes nothing visible.
        var update: JSON = [:]
        /// Whether the matrix deletes it (the others are principals or stay for later checks).
        var deletable = false

        var path: String {
            switch kind {
            case .ticket: "/api/v1/tickets/\(id)"
            case .note: "/api/v1/tickets/\(ticket!.id)/notes/\(id)"
            case .timeEntry: "/api/v1/tickets/\(ticket!.id)/time-entries/\(id)"
            case .attachment: "/api/v1/tickets/\(ticket!.id)/attachments/\(id)"
            case .contact: "/api/v1/contacts/\(id)"
            case .organization: "/api/v1/organizations/\(id)"
            case .resource: "/api/v1/resources/\(id)"
            case .coManagingUser: "/api/v1/co-managing-users/\(id)"
            }
        }

        var collection: String {
            switch kind {
            case .ticket: "/api/v1/tickets"
            case .note: "/api/v1/tickets/\(ticket!.id)/notes"
            case .timeEntry: "/api/v1/tickets/\(ticket!.id)/time-entries"
            case .attachment: "/api/v1/tickets/\(ticket!.id)/attachments"
            case .contact: "/api/v1/contacts"
            case .organization: "/api/v1/organizations"
            case .resource: "/api/v1/resources"
            case .coManagingUser: "/api/v1/co-managing-users"
            }
        }

        var isItem: Bool { [.note, .timeEntry, .attachment].contains(kind) }
    }

    /// SPEC §1–§3 restated, independent of `AccessPolicy`.
    struct Rules: Sendable {
        let coManagementOn: Bool
        let coManagedOrganizations: Set<String>

        /// Whether the principal reaches an organization at all.
        func reaches(_ who: Who, _ organization: String) -> Bool {
            switch who.party {
            case .administrator, .technician:
                // Client restrictions limit every entity of the other organizations.
                return who.restrictions?.contains(organization) ?? true
            case .coManaging:
                // Global switch, organization switch, association (directly or through a team).
                return coManagementOn && coManagedOrganizations.contains(organization) && who.associated.contains(organization)
            case .contact:
                return who.organization == organization
            }
        }

        func readablePublishTo(_ who: Who) -> Set<String> {
            switch who.party {
            case .administrator, .technician: ["internal", "internalAndCoManaged", "all"]
            case .coManaging: ["internalAndCoManaged", "all"]
            case .contact: ["all"]
            }
        }

        func seesTicket(_ who: Who, _ ticket: TicketFacts) -> Bool {
            switch who.party {
            case .administrator, .technician: reaches(who, ticket.organization)
            case .coManaging: reaches(who, ticket.organization) && ticket.coManagedVisible
            case .contact: ticket.contact == who.id || (who.organizationWide && ticket.organization == who.organization)
            }
        }

        func sees(_ who: Who, _ object: Object) -> Bool {
            switch object.kind {
            case .ticket:
                return seesTicket(who, object.ticket!)
            case .note, .timeEntry, .attachment:
                return seesTicket(who, object.ticket!) && readablePublishTo(who).contains(object.publishTo!)
            case .contact:
                // Contacts see themselves; co-managing users the contacts of the organizations they reach.
                return who.party == .contact ? object.id == who.id : reaches(who, object.organization!)
            case .organization:
                return reaches(who, object.id)
            case .resource:
                // MSP staff are in everyone's directory except the portal's.
                return who.party != .contact
            case .coManagingUser:
                switch who.party {
                case .administrator, .technician: return reaches(who, object.organization!)
                // Customer group override: only co-managing users of the same organization.
                case .coManaging: return object.organization == who.organization
                case .contact: return false
                }
            }
        }

        /// The system levels: Administrator changes everything; Technician edits tickets and contacts
        /// and has full notes, time entries and attachments; Co-managed Help Desk edits tickets and
        /// contacts and only adds items; a contact in the portal reads and replies.
        func mayUpdate(_ who: Who, _ kind: Kind) -> Bool {
            switch who.party {
            case .administrator: true
            case .technician: [.ticket, .note, .timeEntry, .attachment, .contact].contains(kind)
            case .coManaging: [.ticket, .contact].contains(kind)
            case .contact: false
            }
        }

        func mayDelete(_ who: Who, _ kind: Kind) -> Bool {
            switch who.party {
            case .administrator: true
            case .technician: [.note, .timeEntry, .attachment].contains(kind)
            case .coManaging, .contact: false
            }
        }

        /// Hidden → 404, never 403; visible → allowed or 403.
        func status(_ who: Who, _ object: Object, update: Bool) -> HTTPStatus {
            guard sees(who, object) else { return .notFound }
            if update { return mayUpdate(who, object.kind) ? .ok : .forbidden }
            return mayDelete(who, object.kind) ? .noContent : .forbidden
        }
    }

    struct World: Sendable {
        var tickets: [Object]
        var items: [Object]
        var contacts: [Object]
        var organizations: [Object]
        var resources: [Object]
        var coManagingUsers: [Object]
    }

    /// Cells checked and the ones that failed, in words.
    struct Tally: Sendable {
        var cells = 0
        var failures: [String] = []

        mutating func check(_ who: Who, _ operation: String, _ object: Object, _ expected: HTTPStatus, _ reply: Reply) {
            cells += 1
            let problem = expected.code < 400 || reply.contentType.hasPrefix("application/problem+json")
            if reply.status != expected || !problem {
                failures.append("\(who.name) \(operation) \(object.name): expected \(expected.code), got \(reply)")
            }
        }

        mutating func check(_ who: Who, _ operation: String, _ object: Object, listed expected: Bool, in ids: [String]) {
            cells += 1
            if ids.contains(object.id) != expected {
                failures.append("\(who.name) \(operation) \(object.name): expected \(expected ? "present" : "absent")")
            }
        }

        mutating func check(_ who: Who, _ operation: String, count: Int?, expected: Int) {
            cells += 1
            if count != expected { failures.append("\(who.name) \(operation): expected \(expected), got \(count.map(String.init) ?? "nothing")") }
        }

        mutating func merge(_ other: Tally) {
            cells += other.cells
            failures += other.failures
        }
    }

    /// Every read and update cell of one principal. The PATCH bodies change nothing, so principals run side by side.
    static func readsAndUpdates(_ t: TestApp, _ who: Who, _ world: World, _ rules: Rules) async throws -> Tally {
        var tally = Tally()
        let lists: [([Object], String)] = [
            (world.tickets, "/api/v1/tickets"), (world.contacts, "/api/v1/contacts"), (world.organizations, "/api/v1/organizations"),
            (world.resources, "/api/v1/resources"), (world.coManagingUsers, "/api/v1/co-managing-users"),
        ]
        // One search finds every ticket (zxt…), contact (zyc…) and organization (qorg…) of the matrix.
        var found: [Kind: [String]] = [:]
        for (kind, key, prefix) in [(Kind.ticket, "tickets", "zxt"), (.contact, "contacts", "zyc"), (.organization, "organizations", "qorg")] {
            found[kind] = try await t.get("/api/v1/search?q=\(prefix)", as: who.token).json[key].ids
        }
        // The change feed: the events of each ticket and item exactly when the rules let it see them; the
        // contacts made through the API (the first five) announced to whoever reaches them, never to a contact.
        let announced = try await EventTests.feed(t, as: who.token, limit: 200).compactMap { $0["entityId"].string }
        for object in world.tickets + world.items { tally.check(who, "feed", object, listed: rules.sees(who, object), in: announced) }
        for contact in world.contacts.prefix(5) {
            tally.check(who, "feed", contact, listed: who.party != .contact && rules.reaches(who, contact.organization!), in: announced)
        }
        for (objects, collection) in lists {
            let listed = try await allIds(t, collection, as: who.token)
            // A hidden object reads exactly like one that does not exist.
            let unknown = try await t.get("\(collection)/\(UUID().uuidString)", as: who.token)
            for object in objects {
                let visible = rules.sees(who, object)
                tally.check(who, "list", object, listed: visible, in: listed)
                let reply = try await t.get(object.path, as: who.token)
                tally.check(who, "get", object, visible ? .ok : .notFound, reply)
                if !visible, reply.json["detail"] != unknown.json["detail"] {
                    tally.failures.append("\(who.name) get \(object.name): the 404 differs from an unknown id's: \(reply) vs \(unknown)")
                }
                if let hits = found[object.kind] {
                    tally.check(who, "search", object, listed: visible, in: hits)
                }
            }
        }

        tally.check(
            who, "count", count: try await t.get("/api/v1/tickets/count", as: who.token).json["count"].int,
            expected: world.tickets.filter { rules.sees(who, $0) }.count)
        for organization in world.organizations {
            tally.check(
                who, "count in \(organization.name)",
                count: try await t.get("/api/v1/tickets/count?organizationId=\(organization.id)", as: who.token).json["count"].int,
                expected: world.tickets.filter { $0.organization == organization.id && rules.sees(who, $0) }.count)
        }

        for ticket in world.tickets {
            let ticketVisible = rules.sees(who, ticket)
            for kind in [Kind.note, .timeEntry, .attachment] {
                let mine = world.items.filter { $0.kind == kind && $0.ticket!.id == ticket.id }
                let list = try await t.get("\(mine[0].collection)?limit=200", as: who.token)
                tally.check(who, "list \(kind.rawValue)s of", ticket, ticketVisible ? .ok : .notFound, list)
                for item in mine {
                    if ticketVisible { tally.check(who, "list", item, listed: rules.sees(who, item), in: list.json.ids) }
                    tally.check(who, "get", item, rules.sees(who, item) ? .ok : .notFound, try await t.get(item.path, as: who.token))
                }
            }
        }

        // Updates with bodies that change nothing, and adding a note.
        for object in world.tickets + world.items + world.contacts + world.organizations + world.resources + world.coManagingUsers {
            tally.check(who, "update", object, rules.status(who, object, update: true), try await t.patch(object.path, object.update, as: who.token))
        }
        for ticket in world.tickets {
            let reply = try await t.post("\(ticket.path)/notes", ["body": .string("Reply from \(who.name)")], as: who.token)
            tally.check(who, "add a note to", ticket, rules.sees(who, ticket) ? .created : .notFound, reply)
        }
        return tally
    }

    @Test func everyPrincipalSeesExactlyWhatTheSpecSays() async throws {
        try await withApp { t in
            // MARK: The world
            try await t.setCoManagement(enabled: true)
            let o1 = try await t.coManagedOrganization("Qorgone")
            let o2 = try await t.coManagedOrganization("Qorgtwo")
            let o3 = try await t.coManagedOrganization("Qorgthree")
            let queue = try await t.queue("Service Desk")
            let userA = try await t.coManagingUser("zyca", organizationId: o1, queueIds: [queue])
            let userB = try await t.coManagingUser("zycb", organizationId: o2, queueIds: [queue])
            let userC = try await t.coManagingUser("zycc", organizationId: o3, queueIds: [queue])
            let userD = try await t.coManagingUser("zycd", organizationId: o1, queueIds: [queue])
            let teamB = try await t.coManagingTeam("Qorgtwo IT", members: [userB.id])
            try await t.setUp(o1, users: [userA.id])
            try await t.setUp(o2, teams: [teamB])
            try await t.setUp(o3, users: [userA.id, userC.id])
            // Organization 3 stops being co-managed: its associations stay, but reach nothing.
            try await t.setUp(o3, coManaged: false)
            let rules = Rules(coManagementOn: true, coManagedOrganizations: [o1, o2])

            var contacts: [Object] = []
            func contactObject(_ id: String, _ organization: String, _ word: String, deletable: Bool) -> Object {
                Object(
                    kind: .contact, id: id, name: "contact \(word)", organization: organization,
                    update: ["firstName": .string(word.capitalized)], deletable: deletable)
            }
            for (organization, word) in [(o1, "zyc1"), (o2, "zyc2"), (o3, "zyc3")] {
                contacts.append(contactObject(try await t.contact(organization, word.capitalized), organization, word, deletable: true))
            }
            let wide = try await t.contact(o1, "Zycpw")
            let own = try await t.contact(o1, "Zycpo")
            contacts.append(contactObject(wide, o1, "zycpw", deletable: false))
            contacts.append(contactObject(own, o1, "zycpo", deletable: false))
            for (user, organization) in [(userA, o1), (userB, o2), (userC, o3), (userD, o1)] {
                let word = user["username"].string!
                contacts.append(contactObject(user["contactId"].string!, organization, word, deletable: false))
            }

            var tickets: [Object] = []
            for (number, organization) in [o1, o2, o3].enumerated() {
                for visible in [true, false] {
                    let word = "zxt\(number + 1)\(visible ? "v" : "h")"
                    // The own-tickets contact is the contact of organization 1's visible ticket.
                    let contact = number == 0 && visible ? own : nil
                    var extra: JSON = ["coManagedVisible": .bool(visible)]
                    if let contact { extra = extra.merging(["contactId": .string(contact)]) }
                    let title = "Matrix \(word) printer"
                    let id = try await t.ticket(organization, title, extra: extra).id
                    tickets.append(
                        Object(
                            kind: .ticket, id: id, name: "ticket \(word)", organization: organization,
                            ticket: TicketFacts(id: id, organization: organization, coManagedVisible: visible, contact: contact),
                            update: ["title": .string(title)], deletable: true))
                }
            }

            let fileContent = Data("matrix file".utf8).base64EncodedString()
            func createItem(_ kind: Kind, on ticket: TicketFacts, publishTo: String) async throws -> Object {
                let name = "\(kind.rawValue) \(publishTo) on \(ticket.id.suffix(4))"
                switch kind {
                case .note:
                    let id = try await t.note(ticket.id, "Note \(publishTo)", publishTo: publishTo).id
                    return Object(kind: .note, id: id, name: name, ticket: ticket, publishTo: publishTo, update: ["body": .string("Note \(publishTo)")])
                case .timeEntry:
                    let id = try await t.create(
                        "/api/v1/tickets/\(ticket.id)/time-entries", ["minutes": 15, "summary": .string("Time \(publishTo)"), "publishTo": .string(publishTo)]
                    ).id
                    return Object(kind: .timeEntry, id: id, name: name, ticket: ticket, publishTo: publishTo, update: ["summary": .string("Time \(publishTo)")])
                default:
                    let filename = "file-\(publishTo).txt"
                    let id = try await t.create(
                        "/api/v1/tickets/\(ticket.id)/attachments",
                        ["filename": .string(filename), "contentType": "text/plain", "content": .string(fileContent), "publishTo": .string(publishTo)]
                    ).id
                    return Object(kind: .attachment, id: id, name: name, ticket: ticket, publishTo: publishTo, update: ["filename": .string(filename)])
                }
            }
            var items: [Object] = []
            for ticket in tickets {
                for kind in [Kind.note, .timeEntry, .attachment] {
                    for publishTo in ["internal", "internalAndCoManaged", "all"] {
                        items.append(try await createItem(kind, on: ticket.ticket!, publishTo: publishTo))
                    }
                }
            }

            let organizations = [(o1, "qorgone"), (o2, "qorgtwo"), (o3, "qorgthree")].map { id, word in
                Object(kind: .organization, id: id, name: "organization \(word)", organization: id, update: ["name": .string(word.capitalized)])
            }

            // MARK: The principals
            let (techId, techToken) = try await t.resource("tech")
            let (restrictedId, restrictedToken) = try await t.resource("rtech", restrictions: [o1])
            let (spareId, _) = try await t.resource("spare")
            var resources: [Object] = []
            for (id, name) in [(t.adminId, "Ada"), (techId, "Tech"), (restrictedId, "Rtech"), (spareId, "Spare")] {
                resources.append(Object(kind: .resource, id: id, name: "resource \(name)", update: ["firstName": .string(name)], deletable: id == spareId))
            }
            var coManagingUsers: [Object] = []
            for (user, organization) in [(userA, o1), (userB, o2), (userC, o3), (userD, o1)] {
                coManagingUsers.append(
                    Object(
                        kind: .coManagingUser, id: user.id, name: "co-managing user \(user["username"].string!)", organization: organization,
                        update: ["timesheetStart": "2026-01-05"], deletable: user.id == userD.id))
            }

            let principals: [Who] = [
                Who(name: "admin", party: .administrator, id: t.adminId, token: t.adminToken),
                Who(name: "technician", party: .technician, id: techId, token: techToken),
                Who(name: "restricted technician", party: .technician, id: restrictedId, token: restrictedToken, restrictions: [o1]),
                Who(
                    name: "co-managing A (direct)", party: .coManaging, id: userA.id, token: try await t.loginCoManaging(userA.id, "zyca"),
                    organization: o1, associated: [o1, o3]),
                Who(
                    name: "co-managing B (team)", party: .coManaging, id: userB.id, token: try await t.loginCoManaging(userB.id, "zycb@tandem.local"),
                    organization: o2, associated: [o2]),
                Who(
                    name: "co-managing C (organization off)", party: .coManaging, id: userC.id, token: try await t.loginCoManaging(userC.id, "zycc"),
                    organization: o3, associated: [o3]),
                Who(
                    name: "contact (organization-wide)", party: .contact, id: wide,
                    token: try await t.portalLogin(wide, email: "zycpw@qorgone.example", organizationWide: true),
                    organization: o1, organizationWide: true),
                Who(
                    name: "contact (own tickets)", party: .contact, id: own, token: try await t.portalLogin(own, email: "zycpo@qorgone.example"),
                    organization: o1),
            ]

            // MARK: The ticket list's fast paths against the reference path, for every principal and each filter
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(tickets[0].id)", ["assigneeIds": [.string(techId)], "queueId": .string(queue)])
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(tickets[2].id)", ["status": "inProgress", "assigneeIds": [.string(techId), .string(t.adminId)]])
            let filters: [(String, TicketFilter)] = [
                ("no filter", TicketFilter()),
                (
                    "status",
                    {
                        var f = TicketFilter(); f.statuses = [.new]; return f
                    }()
                ),
                (
                    "organization",
                    {
                        var f = TicketFilter(); f.organizationId = UUID(uuidString: o1); return f
                    }()
                ),
                (
                    "queue",
                    {
                        var f = TicketFilter(); f.queueId = UUID(uuidString: queue); return f
                    }()
                ),
                (
                    "assignee",
                    {
                        var f = TicketFilter(); f.assigneeId = UUID(uuidString: techId); return f
                    }()
                ),
                (
                    "text",
                    {
                        var f = TicketFilter(); f.text = "ZXT1"; return f
                    }()
                ),
                (
                    "all at once",
                    {
                        var f = TicketFilter(); f.statuses = [.new, .inProgress]; f.organizationId = UUID(uuidString: o1); f.text = "printer"; return f
                    }()
                ),
            ]
            for who in principals {
                let kind: PrincipalKind = who.party == .contact ? .contact : who.party == .coManaging ? .coManagingUser : .resource
                let id = try #require(UUID(uuidString: who.id))
                let principal = try #require(try await PrincipalLoader.load(id: id, kind: kind, on: t.db))
                try await WritePathTests.expectPagesMatchTheReference(t, by: principal, filters: filters, label: who.name)
            }

            // MARK: Reads (list, get, count, search) and updates, each principal on its own task
            let world = World(
                tickets: tickets, items: items, contacts: contacts, organizations: organizations, resources: resources,
                coManagingUsers: coManagingUsers)
            var tally = Tally()
            try await withThrowingTaskGroup(of: Tally.self) { group in
                for who in principals {
                    group.addTask { try await Self.readsAndUpdates(t, who, world, rules) }
                }
                for try await part in group { tally.merge(part) }
            }

            // MARK: Deletes, last
            // Principals that may delete nothing try everything side by side; then the restricted technician, the
            // technician and the administrator one after the other, a deleted item put back for the next one.
            let dedicated = (contacts + resources + coManagingUsers + tickets).filter(\.deletable)
            let deleters = principals.reversed().filter { $0.party == .administrator || rules.mayDelete($0, .note) }
            let everything = items + dedicated
            try await withThrowingTaskGroup(of: Tally.self) { group in
                for who in principals where !deleters.contains(where: { $0.id == who.id }) {
                    group.addTask {
                        var part = Tally()
                        for object in everything {
                            part.check(who, "delete", object, rules.status(who, object, update: false), try await t.delete(object.path, as: who.token))
                        }
                        return part
                    }
                }
                for try await part in group { tally.merge(part) }
            }
            var deletedItems: Set<String> = []
            for who in deleters {
                for index in items.indices {
                    let item = items[index]
                    let reply = try await t.delete(item.path, as: who.token)
                    tally.check(who, "delete", item, rules.status(who, item, update: false), reply)
                    guard reply.status == .noContent else { continue }
                    deletedItems.insert(item.id)
                    if who.id != deleters.last?.id {
                        items[index].id = try await createItem(item.kind, on: item.ticket!, publishTo: item.publishTo!).id
                    }
                }
            }
            // Deleted items are gone, and only they.
            for ticket in tickets {
                for kind in [Kind.note, .timeEntry, .attachment] {
                    let path = items.first { $0.kind == kind && $0.ticket!.id == ticket.id }!.collection
                    let left = Set(try await allIds(t, path))
                    #expect(left.isDisjoint(with: deletedItems), "deleted \(kind.rawValue)s of \(ticket.name) are gone")
                    #expect(items.filter { $0.kind == kind && $0.ticket!.id == ticket.id && !deletedItems.contains($0.id) }.allSatisfy { left.contains($0.id) })
                }
            }
            var deleted: Set<String> = []
            for who in deleters {
                for object in dedicated {
                    let expected = deleted.contains(object.id) ? HTTPStatus.notFound : rules.status(who, object, update: false)
                    let reply = try await t.delete(object.path, as: who.token)
                    tally.check(who, "delete", object, expected, reply)
                    if reply.status == .noContent { deleted.insert(object.id) }
                }
            }
            #expect(deleted.count == dedicated.count, "the administrator deleted every dedicated object")

            let (cells, failures) = (tally.cells, tally.failures)
            print("access matrix: \(cells) cells on \(TestDatabase.name), \(failures.count) failed")
            for failure in failures.prefix(200) { Issue.record(Comment(rawValue: failure)) }
            #expect(failures.count == 0, "failed cells (listed above)")
            #expect(cells > 2000)
        }
    }
}

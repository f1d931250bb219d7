import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The policy's scopes rendered to SQL select exactly the rows the same scopes accept in Swift,
/// for many random principals, on whichever database the suite runs on.
@Suite struct ScopeSQLTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func sqlAgreesWithTheCoreForRandomPrincipals() async throws {
        try await withApp { t in
            var g = Generator(state: 7)
            func some(_ ids: [UUID]) -> Set<UUID> { Set(ids.filter { _ in Bool.random(using: &g) }) }

            // A small tenant with tickets spread over every column the policy looks at.
            var organizations: [UUID] = [], contacts: [UUID: UUID] = [:]
            for index in 0..<4 {
                let organization = try #require(UUID(uuidString: try await t.organization("Organization \(index)")))
                organizations.append(organization)
                contacts[organization] = UUID(uuidString: try await t.contact(organization.uuidString, "Contact\(index)"))
            }
            var queues: [UUID] = [], teams: [UUID] = []
            for index in 0..<3 {
                queues.append(try #require(UUID(uuidString: try await t.create("/api/v1/queues", ["name": .string("Queue \(index)")]).id)))
                teams.append(try #require(UUID(uuidString: try await t.create("/api/v1/teams", ["name": .string("Team \(index)")]).id)))
            }
            var people = [try #require(UUID(uuidString: t.adminId))]
            for name in ["tara", "hugo", "dana"] { people.append(try #require(UUID(uuidString: try await t.resource(name).id))) }

            var tickets: [(id: String, facts: ScopeFacts)] = []
            for index in 0..<40 {
                let organization = organizations.randomElement(using: &g)!
                var body: JSON = [
                    "organizationId": .string(organization.uuidString), "title": .string("Ticket \(index)"),
                    "coManagedVisible": .bool(Bool.random(using: &g)),
                    "assigneeIds": JSON(Array(some(people)).map(\.uuidString)),
                ]
                if Bool.random(using: &g) { body = body.merging(["queueId": .string(queues.randomElement(using: &g)!.uuidString)]) }
                if Bool.random(using: &g) { body = body.merging(["teamId": .string(teams.randomElement(using: &g)!.uuidString)]) }
                if Bool.random(using: &g) { body = body.merging(["contactId": .string(contacts[organization]!.uuidString)]) }
                let created = try await t.create("/api/v1/tickets", body)
                let id = try #require(UUID(uuidString: created.id))
                let row = try #require(try await Ticket.find(id, on: t.db))
                tickets.append(
                    (created.id, TicketService.facts(row, assignees: created["assigneeIds"].array.compactMap { $0.string.flatMap { UUID(uuidString: $0) } })))
            }

            var checked = 0
            for _ in 0..<150 {
                var areas: [Area: AccessLevel] = [:]
                for area in Area.allCases { areas[area] = AccessLevel.allCases.randomElement(using: &g)! }
                let permissions = Permissions(ticketScope: TicketScope.allCases.randomElement(using: &g)!, areas: areas)
                var memberships: [UUID: TeamAccess] = [:]
                for team in teams where Bool.random(using: &g) { memberships[team] = TeamAccess.allCases.randomElement(using: &g)! }
                let organization = organizations.randomElement(using: &g)!
                let principal: Principal =
                    switch PrincipalKind.allCases.randomElement(using: &g)! {
                    case .resource:
                        Principal(
                            id: people.randomElement(using: &g)!, kind: .resource, displayName: "R", securityLevelId: nil, permissions: permissions,
                            clientRestrictions: Bool.random(using: &g) ? nil : some(organizations), queueIds: some(queues), teams: memberships)
                    case .coManagingUser:
                        Principal(
                            id: people.randomElement(using: &g)!, kind: .coManagingUser, displayName: "C", securityLevelId: nil, permissions: permissions,
                            queueIds: some(queues), organizationId: organization, associatedOrganizationIds: some(organizations),
                            coManagementEnabled: Bool.random(using: &g), coManagedOrganizationIds: some(organizations))
                    case .contact:
                        Principal(
                            id: contacts[organization]!, kind: .contact, displayName: "P", securityLevelId: nil, permissions: .nothing,
                            organizationId: organization, contactId: contacts[organization]!, portalOrganizationWide: Bool.random(using: &g))
                    }

                let view = AccessPolicy.ticketScope(for: principal, .view)
                let expected = Set(tickets.filter { view.evaluate($0.facts) }.map(\.id))
                let listed = try await TicketService.list(TicketFilter(), page: PageRequest(limit: 200), by: principal, on: t.db).items.map(\.id)
                #expect(Set(listed) == expected, "list for \(principal)")
                #expect(listed.count == Set(listed).count, "no ticket twice")
                #expect(try await TicketService.count(TicketFilter(), by: principal, on: t.db) == expected.count)

                let edit = AccessPolicy.ticketScope(for: principal, .edit)
                let editable = try await Ticket.query(on: t.db).filter(edit, on: Ticket.scopeTable).all().map { $0.id!.uuidString }
                #expect(Set(editable) == Set(tickets.filter { edit.evaluate($0.facts) }.map(\.id)), "edit scope for \(principal)")
                checked += 1
            }
            #expect(checked == 150)
            print("scope SQL: \(checked) random principals × \(tickets.count) tickets agree on \(TestDatabase.name)")
        }
    }
}

/// The scope terms of saved filters (owner, shared) and of co-managing teams (the organizations a team
/// touches, through a subquery) select in SQL what they accept in Swift.
extension ScopeSQLTests {
    @Test func savedFilterScopesAgreeWithTheCore() async throws {
        try await withApp { t in
            var g = Generator(state: 11)
            let owners = (0..<4).map { _ in UUID() }
            var filters: [(id: UUID, facts: ScopeFacts)] = []
            for index in 0..<24 {
                let filter = SavedFilter()
                filter.id = .v7()
                filter.ownerId = owners.randomElement(using: &g)!
                filter.name = "Filter \(index)"
                filter.query = ""
                filter.shared = Bool.random(using: &g)
                try await filter.create(on: t.db)
                filters.append((filter.id!, ScopeFacts(values: [.id: filter.id, .owner: filter.ownerId], shared: filter.shared)))
            }
            for kind in PrincipalKind.allCases {
                for owner in owners {
                    let principal = Principal(id: owner, kind: kind, displayName: "P", securityLevelId: nil, permissions: .nothing)
                    for operation in [AccessOperation.view, .edit] {
                        let scope = AccessPolicy.savedFilterScope(for: principal, operation)
                        let selected =
                            scope == .none ? [] : try await SavedFilter.query(on: t.db).filter(scope, on: SavedFilter.scopeTable).all().compactMap(\.id)
                        #expect(Set(selected) == Set(filters.filter { scope.evaluate($0.facts) }.map(\.id)), "\(kind) \(operation)")
                    }
                }
            }
        }
    }

    @Test func coManagingTeamScopesAgreeWithTheirOrganizations() async throws {
        try await withApp { t in
            var g = Generator(state: 13)
            try await t.setCoManagement(enabled: true)
            let queue = try await t.queue("Q")
            var organizations: [String] = [], homes: [String: String] = [:]
            for index in 0..<3 {
                let organization = try await t.coManagedOrganization("Organization \(index)")
                organizations.append(organization)
                homes[try await t.coManagingUser("user\(index)", organizationId: organization, queueIds: [queue]).id] = organization
            }
            var touched: [String: Set<String>] = [:]
            for index in 0..<6 {
                let members = homes.keys.filter { _ in Bool.random(using: &g) }
                let team = try await t.coManagingTeam("Team \(index)", members: members)
                touched[team] = Set(members.compactMap { homes[$0] })
            }
            for organization in organizations {
                let teams = touched.keys.sorted().filter { _ in Bool.random(using: &g) }
                try await t.setUp(organization, teams: teams)
                for team in teams { touched[team]!.insert(organization) }
            }
            for _ in 0..<20 {
                let restrictions = Set(organizations.filter { _ in Bool.random(using: &g) })
                let principal = Principal(
                    id: UUID(), kind: .resource, displayName: "R", securityLevelId: nil, permissions: SystemSecurityLevel.technician.permissions,
                    clientRestrictions: Set(restrictions.compactMap(UUID.init(uuidString:))))
                let scope = AccessPolicy.coManagingTeamScope(for: principal)
                let selected =
                    scope == .none ? [] : try await CoManagingTeam.query(on: t.db).filter(scope, on: CoManagingTeam.scopeTable).all().map { $0.id!.uuidString }
                let expected = touched.filter { !$0.value.isDisjoint(with: restrictions) }.map(\.key)
                #expect(Set(selected.map { $0.lowercased() }) == Set(expected.map { $0.lowercased() }), "restricted to \(restrictions.sorted())")
            }
        }
    }

    /// `.noOrganization` in SQL (`organization_id IS NULL`) and in Swift agree, under every restriction.
    @Test func departmentScopesAgreeWithTheirOwners() async throws {
        try await withApp { t in
            var g = Generator(state: 17)
            try await t.setCoManagement(enabled: true)
            var organizations: [UUID] = []
            for index in 0..<3 { organizations.append(UUID(uuidString: try await t.coManagedOrganization("Organization \(index)"))!) }
            var departments: [(id: UUID, facts: ScopeFacts)] = []
            for index in 0..<8 {
                let owner = index % 3 == 0 ? nil : organizations[index % 3]
                var body: JSON = ["name": .string("Department \(index)")]
                if let owner { body = body.merging(["coManaged": true, "organizationId": .string(owner.uuidString)]) }
                let id = UUID(uuidString: try await t.create("/api/v1/departments", body).id)!
                departments.append((id, ScopeFacts(values: [.id: id, .organization: owner])))
            }
            for _ in 0..<20 {
                let restrictions: Set<UUID>? = Bool.random(using: &g) ? nil : Set(organizations.filter { _ in Bool.random(using: &g) })
                let principal = Principal(
                    id: UUID(), kind: .resource, displayName: "R", securityLevelId: nil, permissions: SystemSecurityLevel.technician.permissions,
                    clientRestrictions: restrictions)
                let scope = AccessPolicy.departmentScope(for: principal)
                let selected = scope == .none ? [] : try await Department.query(on: t.db).filter(scope, on: Department.scopeTable).all().compactMap(\.id)
                #expect(Set(selected) == Set(departments.filter { scope.evaluate($0.facts) }.map(\.id)), "restricted to \(String(describing: restrictions))")
                #expect(selected.count >= 3, "the MSP's departments are always seen")
            }
        }
    }
}

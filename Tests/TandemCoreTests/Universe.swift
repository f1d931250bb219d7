import Foundation
import TandemCore

/// A small seeded generator (SplitMix64), so a failing random case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A handful of organizations, queues, teams, contacts and people to draw random cases from.
struct Universe {
    let organizations = (0..<4).map { _ in UUID() }
    let queues = (0..<3).map { _ in UUID() }
    let teams = (0..<3).map { _ in UUID() }
    let contacts = (0..<4).map { _ in UUID() }
    let people = (0..<4).map { _ in UUID() }

    func subset<G: RandomNumberGenerator>(_ ids: [UUID], _ g: inout G) -> Set<UUID> {
        Set(ids.filter { _ in Bool.random(using: &g) })
    }

    func principal<G: RandomNumberGenerator>(_ g: inout G) -> Principal {
        let kind = PrincipalKind.allCases.randomElement(using: &g)!
        var areas: [Area: AccessLevel] = [:]
        for area in Area.allCases { areas[area] = AccessLevel.allCases.randomElement(using: &g)! }
        let permissions = Permissions(ticketScope: TicketScope.allCases.randomElement(using: &g)!, areas: areas)
        var teams: [UUID: TeamAccess] = [:]
        for team in self.teams where Bool.random(using: &g) { teams[team] = TeamAccess.allCases.randomElement(using: &g)! }
        let organization = organizations.randomElement(using: &g)!
        switch kind {
        case .resource:
            return Principal(
                id: people.randomElement(using: &g)!, kind: .resource, displayName: "R", securityLevelId: UUID(), permissions: permissions,
                clientRestrictions: Bool.random(using: &g) ? nil : subset(organizations, &g),
                queueIds: subset(queues, &g), teams: teams)
        case .coManagingUser:
            return Principal(
                id: people.randomElement(using: &g)!, kind: .coManagingUser, displayName: "C", securityLevelId: UUID(), permissions: permissions,
                queueIds: subset(queues, &g), organizationId: organization, contactId: contacts.randomElement(using: &g)!,
                associatedOrganizationIds: subset(organizations, &g), coManagementEnabled: Int.random(in: 0..<4, using: &g) > 0,
                coManagedOrganizationIds: subset(organizations, &g))
        case .contact:
            let contact = contacts.randomElement(using: &g)!
            return Principal(
                id: contact, kind: .contact, displayName: "P", securityLevelId: nil, permissions: .nothing,
                organizationId: organization, contactId: contact, portalOrganizationWide: Bool.random(using: &g))
        }
    }

    func ticket<G: RandomNumberGenerator>(_ g: inout G) -> ScopeFacts {
        func maybe(_ ids: [UUID]) -> UUID? { Int.random(in: 0..<4, using: &g) == 0 ? nil : ids.randomElement(using: &g) }
        return ScopeFacts(
            values: [
                .id: UUID(), .organization: organizations.randomElement(using: &g)!, .queue: maybe(queues), .team: maybe(teams),
                .contact: maybe(contacts), .site: nil,
            ],
            assigneeIds: subset(people, &g), coManagedVisible: Bool.random(using: &g))
    }
}

/// SPEC §3 written out once more, independently of the policy, as the reference the policy is checked against.
enum ReferenceRules {
    static func canSeeTicket(_ p: Principal, _ t: ScopeFacts) -> Bool {
        reach(p, t, needing: .view)
    }

    static func canEditTicket(_ p: Principal, _ t: ScopeFacts) -> Bool {
        reach(p, t, needing: .edit)
    }

    private static func reach(_ p: Principal, _ t: ScopeFacts, needing level: AccessLevel) -> Bool {
        let organization = t.values[.organization] ?? nil
        let queue = t.values[.queue] ?? nil
        let team = t.values[.team] ?? nil
        let contact = t.values[.contact] ?? nil
        let assigned = t.assigneeIds.contains(p.id)
        switch p.kind {
        case .contact:
            guard level == .view else { return false }
            return (contact != nil && contact == p.contactId) || (p.portalOrganizationWide && organization == p.organizationId)
        case .resource:
            guard p.permissions[.tickets] >= level else { return false }
            if let restrictions = p.clientRestrictions, !restrictions.contains(organization!) { return false }
            switch p.permissions.ticketScope {
            case .all: return true
            case .none: return false
            case .assignedToMe: return assigned
            case .myQueues:
                if let queue, p.queueIds.contains(queue) { return true }
                if let team, let access = p.teams[team] {
                    // Full members reach all team tickets; read-only members see them but change none; own members only theirs.
                    if access == .full || (access == .readOnly && level == .view) { return true }
                }
                return assigned
            }
        case .coManagingUser:
            guard p.permissions[.tickets] >= level, p.coManagementEnabled, let organization,
                p.coManagedOrganizationIds.contains(organization), p.associatedOrganizationIds.contains(organization), t.coManagedVisible
            else { return false }
            switch p.permissions.ticketScope {
            case .all: return true
            case .none: return false
            case .assignedToMe: return assigned
            case .myQueues: return (queue.map(p.queueIds.contains) ?? false) || assigned
            }
        }
    }
}

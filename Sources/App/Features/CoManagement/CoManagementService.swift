import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// What switching co-management off would change (SPEC §13), and what blocks it.
struct DeactivationImpact: Content, Equatable {
    var blockingUsers: [BlockingUserDTO]
    var organizationsToDisable: [OrganizationDTO.Summary]
    var ticketsToUnassign: [ImpactTicketDTO]
    var associationsToDelete: [ImpactAssociationDTO]
    /// Co-managing users' memberships of departments (the MSP's and co-managed ones); the departments stay.
    var departmentMembershipsToDelete: Int
    var rulesToBreak: [ImpactRuleDTO]
    var unchanged: [String]
}

extension OrganizationDTO {
    struct Summary: Content, Equatable {
        var id: String
        var name: String
    }
}

/// Activation, deactivation and per-organization setup of co-management.
enum CoManagementService {
    static func settings(on db: any Database) async throws -> CoManagementDTO {
        CoManagementDTO(
            enabled: try await Setting.flag(Setting.coManagementEnabled, on: db),
            coManagingUsersCannotReassign: try await Setting.flag(Setting.coManagingUsersCannotReassign, on: db))
    }

    static func update(_ input: CoManagementInput, by principal: Principal, on db: any Database) async throws -> CoManagementDTO {
        try AccessPolicy.authorizeTenantWide(principal, .activateCoManagement)
        let current = try await settings(on: db)
        if case .null = input.enabled { throw TandemError.invalid("enabled", "must be true or false") }
        if let cannotReassign = input.coManagingUsersCannotReassign.value, cannotReassign != current.coManagingUsersCannotReassign {
            try await db.write { db in
                try await Setting.set(Setting.coManagingUsersCannotReassign, cannotReassign, on: db)
                try await Audit.record(
                    "updated", "settings", id: nil, by: principal, before: ["coManagingUsersCannotReassign": !cannotReassign],
                    after: ["coManagingUsersCannotReassign": cannotReassign], on: db)
            }
        }
        switch (current.enabled, input.enabled.value) {
        case (false, true?):
            try await db.write { db in
                try await Setting.set(Setting.coManagementEnabled, true, on: db)
                try await Audit.record("activated", "co_management", id: nil, by: principal, after: ["enabled": true], on: db)
            }
        case (true, false?):
            try await deactivate(by: principal, on: db)
        default:
            break
        }
        return try await settings(on: db)
    }

    /// The dry run: exactly what deactivation would change.
    static func impact(on db: any Database) async throws -> DeactivationImpact {
        let blocking = try await CoManagingUser.query(on: db).filter(\.$active == true).filter(\.$erased == false).sort(\.$username).all()
        let organizations = try await Organization.query(on: db).filter(\.$coManagementEnabled == true).sort(\.$name).all()
        let tickets = try await ticketsOnlyAssignedToCoManagingUsers(on: db)
        let associations = try await CoManagedAssociation.query(on: db).sort(\.$id).all()
        let rules = try await rulesReferencingCoManagingUsers(on: db)
        let memberships = try await DepartmentMember.query(on: db).filter(\.$principalKind == .coManagingUser).count()
        return DeactivationImpact(
            blockingUsers: blocking.map { BlockingUserDTO(id: $0.id!.uuidString, username: $0.username, organizationId: $0.organizationId.uuidString) },
            organizationsToDisable: organizations.map { .init(id: $0.id!.uuidString, name: $0.name) },
            ticketsToUnassign: tickets,
            associationsToDelete: associations.map {
                ImpactAssociationDTO(
                    organizationId: $0.organizationId.uuidString, coManagingUserId: $0.userId?.uuidString, coManagingTeamId: $0.teamId?.uuidString)
            },
            departmentMembershipsToDelete: memberships,
            rulesToBreak: rules.map { ImpactRuleDTO(id: $0.id!.uuidString, name: $0.name) },
            unchanged: ["ticket data", "each ticket's co-managed visibility", "the publish-to of notes, time entries and attachments"])
    }

    /// SPEC §2: refused while any co-managing user is active; otherwise one audited transaction.
    static func deactivate(by principal: Principal, on db: any Database) async throws {
        let impact = try await impact(on: db)
        guard impact.blockingUsers.isEmpty else {
            throw CoManagementError.activeUsers(impact.blockingUsers)
        }
        try await db.write { db in
            // Recomputed inside the transaction so nothing that changed since the dry run slips through.
            let impact = try await Self.impact(on: db)
            guard impact.blockingUsers.isEmpty else { throw CoManagementError.activeUsers(impact.blockingUsers) }
            try await Organization.query(on: db).filter(\.$coManagementEnabled == true).set(\.$coManagementEnabled, to: false).update()
            let ticketIds = impact.ticketsToUnassign.compactMap { UUID(uuidString: $0.id) }
            let unassigned = try await TicketPipeline.unassignAll(of: ticketIds, by: principal, on: db)
            try await CoManagedAssociation.query(on: db).delete()
            try await DepartmentMember.query(on: db).filter(\.$principalKind == .coManagingUser).delete()
            let ruleIds = impact.rulesToBreak.compactMap { UUID(uuidString: $0.id) }
            if !ruleIds.isEmpty {
                try await AutomationRule.query(on: db).filter(\.$id ~~ ruleIds)
                    .set(\.$brokenReason, to: "references a co-managing user; co-management was deactivated").set(\.$updatedAt, to: db.now).update()
            }
            try await Setting.set(Setting.coManagementEnabled, false, on: db)
            try await Audit.record("deactivated", "co_management", id: nil, by: principal, before: impact, after: ["enabled": false], along: unassigned, on: db)
        }
    }

    /// Tickets whose assignees are all co-managing users.
    private static func ticketsOnlyAssignedToCoManagingUsers(on db: any Database) async throws -> [ImpactTicketDTO] {
        let rows = try await db.sql.raw(
            """
            SELECT t.id AS id, t.number AS number, t.title AS title FROM tickets t
            WHERE EXISTS (SELECT 1 FROM ticket_assignees a WHERE a.ticket_id = t.id AND a.principal_kind = 'coManagingUser')
              AND NOT EXISTS (SELECT 1 FROM ticket_assignees a WHERE a.ticket_id = t.id AND a.principal_kind <> 'coManagingUser')
            ORDER BY t.number
            """
        ).all()
        var result: [ImpactTicketDTO] = []
        let ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
        let assignees = try await TicketService.assigneeIds(of: ids, on: db)
        for (row, id) in zip(rows, ids) {
            result.append(
                ImpactTicketDTO(
                    id: id.uuidString, number: try row.decode(column: "number", as: Int.self),
                    title: try row.decode(column: "title", as: String.self),
                    assigneeIds: (assignees[id] ?? []).map(\.uuidString)))
        }
        return result
    }

    private static func rulesReferencingCoManagingUsers(on db: any Database) async throws -> [AutomationRule] {
        let userIds = Set(try await CoManagingUser.query(on: db).all().compactMap(\.id))
        guard !userIds.isEmpty else { return [] }
        return try await AutomationRule.query(on: db).filter(\.$kind != .ticketAction).filter(\.$brokenReason == nil).sort(\.$id).all()
            .filter { !(try $0.references().ids[.person] ?? []).isDisjoint(with: userIds) }
    }

    // MARK: Organizations

    /// An organization's co-managed setup, naming only the users and teams `principal` may see.
    static func organizationSetup(_ organizationId: UUID, by principal: Principal, on db: any Database) async throws -> OrganizationCoManagementDTO {
        let organization = try await Lookup.visible(
            Organization.self, organizationId, scope: AccessPolicy.organizationScope(for: principal, area: .organizations, .view),
            table: Organization.scopeTable, what: "organization", on: db)
        let setup = try await fullSetup(organization, on: db)
        let hidden = try await hiddenAssociations(setup, from: principal, on: db)
        return OrganizationCoManagementDTO(
            organizationId: setup.organizationId, enabled: setup.enabled,
            coManagingUserIds: setup.coManagingUserIds.filter { !hidden.users.contains($0) },
            coManagingTeamIds: setup.coManagingTeamIds.filter { !hidden.teams.contains($0) })
    }

    /// Every association of the organization (the audit log's view).
    static func fullSetup(_ organization: Organization, on db: any Database) async throws -> OrganizationCoManagementDTO {
        let associations = try await CoManagedAssociation.query(on: db).filter(\.$organizationId == organization.id!).all()
        return OrganizationCoManagementDTO(
            organizationId: organization.id!.uuidString, enabled: organization.coManagementEnabled,
            coManagingUserIds: associations.compactMap(\.userId).map(\.uuidString).sorted(),
            coManagingTeamIds: associations.compactMap(\.teamId).map(\.uuidString).sorted())
    }

    /// The associated users and teams `principal` may not see (`AccessPolicy.peopleScope`, `coManagingTeamScope`).
    private static func hiddenAssociations(_ setup: OrganizationCoManagementDTO, from principal: Principal, on db: any Database) async throws
        -> (users: Set<String>, teams: Set<String>)
    {
        let users = try await PeopleDirectory.hidden(setup.coManagingUserIds.compactMap(UUID.init(uuidString:)), kind: .coManagingUser, from: principal, on: db)
        let teamIds = setup.coManagingTeamIds.compactMap(UUID.init(uuidString:))
        let visibleTeams = try await CoManagingTeams.visibleIds(teamIds, to: principal, on: db)
        return (Set(users.map(\.uuidString)), Set(teamIds.filter { !visibleTeams.contains($0) }.map(\.uuidString)))
    }

    /// Replaces the associations `principal` may see; those it may not see stay, unnamed.
    static func updateOrganizationSetup(_ organizationId: UUID, _ input: OrganizationCoManagementInput, by principal: Principal, on db: any Database)
        async throws -> OrganizationCoManagementDTO
    {
        let organization = try await Lookup.visible(
            Organization.self, organizationId, scope: AccessPolicy.organizationScope(for: principal, area: .organizations, .view),
            table: Organization.scopeTable, what: "organization", on: db)
        let before = try await fullSetup(organization, on: db)
        let hidden = try await hiddenAssociations(before, from: principal, on: db)
        try AccessPolicy.authorizeAdmin(principal, .activateCoManagement)
        var validator = FieldValidator()
        if case .null = input.enabled { validator.fail("enabled", "must be true or false") }
        let givenUserIds = input.coManagingUserIds.value.map { $0.compactMap { validator.id($0, "coManagingUserIds") } }
        let givenTeamIds = input.coManagingTeamIds.value.map { $0.compactMap { validator.id($0, "coManagingTeamIds") } }
        try validator.check()
        if input.enabled.value == true, !(try await Setting.flag(Setting.coManagementEnabled, on: db)) {
            throw TandemError.conflict("co-management is off for the system; switch it on first (PUT /api/v1/co-management)")
        }
        if let givenUserIds {
            try await Lookup.requireExisting(
                CoManagingUser.self, givenUserIds, field: "coManagingUserIds",
                scope: AccessPolicy.peopleScope(for: principal, .coManagingUser), table: CoManagingUser.scopeTable, on: db)
        }
        if let givenTeamIds {
            try await Lookup.requireExisting(
                CoManagingTeam.self, givenTeamIds, field: "coManagingTeamIds",
                scope: AccessPolicy.coManagingTeamScope(for: principal), table: CoManagingTeam.scopeTable, on: db)
        }
        let userIds = givenUserIds.map { $0 + hidden.users.compactMap(UUID.init(uuidString:)) }
        let teamIds = givenTeamIds.map { $0 + hidden.teams.compactMap(UUID.init(uuidString:)) }
        if let userIds {
            for userId in Set(userIds) where !before.coManagingUserIds.contains(userId.uuidString) {
                let count = try await CoManagedAssociation.query(on: db).filter(\.$userId == userId).count()
                try CoManagedAssociationRules.checkOrganizationAdded(current: count)
            }
        }
        try await db.write { db in
            if let enabled = input.enabled.value {
                try await Organization.query(on: db).filter(\.$id == organizationId).set(\.$coManagementEnabled, to: enabled).update()
            }
            if let userIds {
                try await CoManagedAssociation.query(on: db).filter(\.$organizationId == organizationId).filter(\.$userId != nil).delete()
                for userId in Set(userIds) { try await CoManagedAssociation(organizationId: organizationId, userId: userId).create(on: db) }
            }
            if let teamIds {
                try await CoManagedAssociation.query(on: db).filter(\.$organizationId == organizationId).filter(\.$teamId != nil).delete()
                for teamId in Set(teamIds) { try await CoManagedAssociation(organizationId: organizationId, teamId: teamId).create(on: db) }
            }
            guard let organization = try await Organization.find(organizationId, on: db) else { throw TandemError.notFound("organization") }
            let after = try await fullSetup(organization, on: db)
            try await Audit.record(
                "updated", "organization_co_management", id: organizationId, by: principal, organizationId: organizationId,
                before: before, after: after, on: db)
        }
        return try await organizationSetup(organizationId, by: principal, on: db)
    }

    /// Each active co-managing user is a billable license.
    static func licenseCount(on db: any Database) async throws -> Int {
        try await CoManagingUser.query(on: db).filter(\.$active == true).filter(\.$erased == false).count()
    }
}

/// Errors specific to co-management that carry more than a sentence.
enum CoManagementError: Error {
    case activeUsers([BlockingUserDTO])
    case licenseConfirmationRequired(currentLicenses: Int)
}

import Fluent
import Foundation
import SQLKit
import TandemCore

extension PrincipalLoader {
    /// Everything the policy needs about a co-managing user: level, queues, associations, switches.
    static func principal(for user: CoManagingUser, on db: any Database) async throws -> Principal? {
        guard user.active, !user.erased, let level = try await SecurityLevel.find(user.securityLevelId, on: db),
            let contact = try await Contact.find(user.contactId, on: db)
        else { return nil }
        let id = try user.requireID()
        let associated = try await associatedOrganizations(of: id, on: db)
        let enabled = try await Setting.flag(Setting.coManagementEnabled, on: db)
        // All co-managed organizations, not only associated ones, so explanations name the right reason.
        let coManaged = Set(
            try await db.sql.select().column("id").from(Organization.schema).where("co_management_enabled", .equal, true).all()
                .map { try $0.decode(column: "id", as: UUID.self) })
        let queues = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId)
        // The customer group override: the other organizations of their organization's group.
        let group = try await OrganizationGroups.peers(of: user.organizationId, on: db)
        return Principal(
            id: id, kind: .coManagingUser, displayName: contact.fullName, securityLevelId: level.id, permissions: level.permissions,
            queueIds: Set(queues), organizationId: user.organizationId, contactId: user.contactId,
            associatedOrganizationIds: associated, coManagementEnabled: enabled, coManagedOrganizationIds: coManaged,
            groupOrganizationIds: group, customerGroupOverride: user.customerGroupOverride)
    }

    /// Organizations associated with the user directly or through one of their co-managing teams.
    static func associatedOrganizations(of userId: UUID, on db: any Database) async throws -> Set<UUID> {
        let teams = try await CoManagingTeamMember.query(on: db).filter(\.$userId == userId).all().map(\.teamId)
        var query = CoManagedAssociation.query(on: db)
        query =
            teams.isEmpty
            ? query.filter(\.$userId == userId)
            : query.group(.or) { $0.filter(\.$userId == userId).filter(\.$teamId ~~ teams) }
        return Set(try await query.all().map(\.organizationId))
    }
}

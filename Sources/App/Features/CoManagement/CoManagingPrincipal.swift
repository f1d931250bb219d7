import Fluent
import Foundation
import TandemCore

extension PrincipalLoader {
    /// Everything the policy needs about a co-managing user: level, queues, associations, switches.
    static func principal(for user: CoManagingUser, on db: any Database) async throws -> Principal? {
        guard user.active, !user.erased, let level = try await SecurityLevel.find(user.securityLevelId, on: db),
              let contact = try await Contact.find(user.contactId, on: db) else { return nil }
        let id = try user.requireID()
        let associated = try await associatedOrganizations(of: id, on: db)
        let enabled = try await Setting.flag(Setting.coManagementEnabled, on: db)
        let coManaged = associated.isEmpty ? [] : Set(try await Organization.query(on: db)
            .filter(\.$id ~~ Array(associated)).filter(\.$coManagementEnabled == true).all().compactMap(\.id))
        let queues = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId)
        return Principal(
            id: id, kind: .coManagingUser, displayName: contact.fullName, securityLevelId: level.id, permissions: level.permissions,
            queueIds: Set(queues), organizationId: user.organizationId, contactId: user.contactId,
            associatedOrganizationIds: associated, coManagementEnabled: enabled, coManagedOrganizationIds: coManaged)
    }

    /// Organizations associated with the user directly or through one of their co-managing teams.
    static func associatedOrganizations(of userId: UUID, on db: any Database) async throws -> Set<UUID> {
        let teams = try await CoManagingTeamMember.query(on: db).filter(\.$userId == userId).all().map(\.teamId)
        var query = CoManagedAssociation.query(on: db)
        query = teams.isEmpty
            ? query.filter(\.$userId == userId)
            : query.group(.or) { $0.filter(\.$userId == userId).filter(\.$teamId ~~ teams) }
        return Set(try await query.all().map(\.organizationId))
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// An MSP resource on an organization's account team.
final class AccountTeamMember: Model, @unchecked Sendable {
    static let schema = "account_team_members"

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "resource_id") var resourceId: UUID

    init() {}

    init(organizationId: UUID, resourceId: UUID) {
        self.id = .v7()
        self.organizationId = organizationId
        self.resourceId = resourceId
    }
}

/// An organization's account manager and account team (SPEC §2): MSP resources chosen for it, and the
/// co-managing users associated with it (directly or through a co-managing team), shown marked co-managed
/// for as long as the association lasts. The account manager is a member of either.
struct AccountTeamDTO: Content, Equatable {
    var organizationId: String
    var accountManagerId: String?
    var resourceIds: [String]
    /// Read only: they come from the organization's co-managed setup.
    var coManagingUserIds: [String]

    /// `accountManagerId` is written as null when there is none, not left out.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(organizationId, forKey: .organizationId)
        try c.encode(accountManagerId, forKey: .accountManagerId)
        try c.encode(resourceIds, forKey: .resourceIds)
        try c.encode(coManagingUserIds, forKey: .coManagingUserIds)
    }
}

struct AccountTeamInput: Decodable, Sendable {
    /// Null: no account manager.
    var accountManagerId: Patch<String> = .absent
    /// Replaces the MSP resources on the team.
    var resourceIds: Patch<[String]> = .absent
}

/// `GET|PUT /api/v1/organizations/{id}/account-team`.
enum AccountTeams {
    static func register(_ api: any RoutesBuilder) {
        api.get("organizations", ":id", "account-team") { req async throws -> AccountTeamDTO in
            try await dto(of: visible(req.id("id", "organization"), by: req.principal, on: req.db), shownTo: req.principal, on: req.db)
        }
        api.put("organizations", ":id", "account-team") { req async throws -> AccountTeamDTO in
            let principal = try req.principal
            let organization = try await visible(req.id("id", "organization"), by: principal, on: req.db)
            try await authorizeChange(organization, by: principal, on: req.db)
            return try await update(organization, req.content.decode(AccountTeamInput.self), by: principal, on: req.db)
        }
    }

    /// The organization, if the principal may read its account team.
    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> Organization {
        try await Lookup.visible(
            Organization.self, id, scope: AccessPolicy.accountTeamScope(for: principal, .view), table: Organization.scopeTable, what: "organization", on: db)
    }

    static func authorizeChange(_ organization: Organization, by principal: Principal, on db: any Database) async throws {
        try await Lookup.require(
            organization, in: AccessPolicy.accountTeamScope(for: principal, .edit), table: Organization.scopeTable,
            "your security level does not allow changing this organization's account team", on: db)
    }

    static func resourceIds(of organizationId: UUID, on db: any Database) async throws -> [UUID] {
        try await AccountTeamMember.query(on: db).filter(\.$organizationId == organizationId).all().map(\.resourceId)
    }

    /// The active co-managing users associated with the organization, directly or through a co-managing team.
    static func associatedUserIds(of organizationId: UUID, on db: any Database) async throws -> Set<UUID> {
        let associations = try await CoManagedAssociation.query(on: db).filter(\.$organizationId == organizationId).all()
        var ids = Set(associations.compactMap(\.userId))
        let teams = associations.compactMap(\.teamId)
        if !teams.isEmpty { ids.formUnion(try await CoManagingTeamMember.query(on: db).filter(\.$teamId ~~ teams).all().map(\.userId)) }
        guard !ids.isEmpty else { return [] }
        return Set(try await CoManagingUser.query(on: db).filter(\.$id ~~ Array(ids)).filter(\.$active == true).filter(\.$erased == false).all(\.$id))
    }

    /// The team as `viewer` may see it (people it may not know are left out); without a viewer (the audit log), whole.
    static func dto(of organization: Organization, shownTo viewer: Principal? = nil, on db: any Database) async throws -> AccountTeamDTO {
        let id = organization.id!
        var resources = Set(try await resourceIds(of: id, on: db))
        var users = try await associatedUserIds(of: id, on: db)
        var manager = organization.accountManagerId
        if let viewer {
            resources = resources.intersection(try await PeopleDirectory.visible(Array(resources), kind: .resource, to: viewer, on: db))
            users = users.intersection(try await PeopleDirectory.visible(Array(users), kind: .coManagingUser, to: viewer, on: db))
            if let known = manager, try await PeopleDirectory.visible([known], to: viewer, on: db).isEmpty { manager = nil }
        }
        return AccountTeamDTO(
            organizationId: id.uuidString, accountManagerId: manager?.uuidString, resourceIds: resources.map(\.uuidString).sorted(),
            coManagingUserIds: users.map(\.uuidString).sorted())
    }

    static func update(_ organization: Organization, _ input: AccountTeamInput, by principal: Principal, on db: any Database) async throws -> AccountTeamDTO {
        try await authorizeChange(organization, by: principal, on: db)
        let organizationId = organization.id!
        let before = try await dto(of: organization, on: db)
        var validator = FieldValidator()
        let resources = input.resourceIds.isAbsent ? nil : Array(Set((input.resourceIds.value ?? []).compactMap { validator.id($0, "resourceIds") }))
        var manager = organization.accountManagerId
        switch input.accountManagerId {
        case .absent: break
        case .null: manager = nil
        case .value(let text): manager = validator.id(text, "accountManagerId")
        }
        try validator.check()
        let team: Set<UUID>
        if let resources { team = Set(resources) } else { team = Set(try await resourceIds(of: organizationId, on: db)) }
        if let resources, !resources.isEmpty {
            let found = try await Resource.query(on: db).filter(\.$id ~~ resources).filter(\.$active == true)
                .filter(AccessPolicy.peopleScope(for: principal, .resource), on: Resource.scopeTable).all()
            if found.count != resources.count { throw TandemError.invalid("resourceIds", "lists someone who is not an active MSP resource") }
            let restricted = try await ResourceClientRestriction.query(on: db).filter(\.$resourceId ~~ resources).all()
            for resource in found where resource.clientRestricted {
                let reach = Set(restricted.filter { $0.resourceId == resource.id }.map(\.organizationId))
                if !AccessPolicy.mayJoinAccountTeam(clientRestrictions: reach, organizationId: organizationId) {
                    throw TandemError.invalid("resourceIds", "\(resource.fullName) is limited to other organizations (client restrictions)")
                }
            }
        }
        if let manager, manager != organization.accountManagerId || resources != nil {
            let users = try await associatedUserIds(of: organizationId, on: db)
            if !team.contains(manager), !users.contains(manager) {
                let field = input.accountManagerId.isAbsent ? "resourceIds" : "accountManagerId"
                throw TandemError.invalid(
                    field,
                    input.accountManagerId.isAbsent
                        ? "the account manager must stay on the account team; choose another account manager first"
                        : "must be on the account team: an MSP resource added to it or an associated co-managing user")
            }
        }
        let newManager = manager
        try await db.write { db in
            if let resources {
                try await AccountTeamMember.query(on: db).filter(\.$organizationId == organizationId).delete()
                for resource in resources { try await AccountTeamMember(organizationId: organizationId, resourceId: resource).create(on: db) }
            }
            organization.accountManagerId = newManager
            try await organization.save(on: db)
            try await Audit.record(
                "updated", Organization.schema, id: organizationId, by: principal, organizationId: organizationId, before: ["accountTeam": before],
                after: ["accountTeam": try await dto(of: organization, on: db)], on: db)
        }
        return try await dto(of: organization, shownTo: principal, on: db)
    }

    /// A deactivated resource leaves every account team and stops being an account manager.
    static func remove(_ resourceId: UUID, on db: any Database) async throws {
        try await AccountTeamMember.query(on: db).filter(\.$resourceId == resourceId).delete()
        try await Organization.query(on: db).filter(\.$accountManagerId == resourceId).set(\.$accountManagerId, to: nil).update()
    }

    /// The organizations a resource is on the account team of, and those it is the account manager of, by name.
    static func organizations(of resourceId: UUID, on db: any Database) async throws -> (teams: [String], managed: [String]) {
        let ids = try await AccountTeamMember.query(on: db).filter(\.$resourceId == resourceId).all().map(\.organizationId)
        let teams = try await ids.isEmpty ? [] : Organization.query(on: db).filter(\.$id ~~ ids).sort(\.$name).all().map(\.name)
        let managed = try await Organization.query(on: db).filter(\.$accountManagerId == resourceId).sort(\.$name).all().map(\.name)
        return (teams, managed)
    }
}

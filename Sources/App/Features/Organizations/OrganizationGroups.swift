import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// A named set of organizations whose co-managing users see each other in the people directory
/// (the customer group override, SPEC §2). An organization is in at most one group.
final class OrganizationGroup: Model, @unchecked Sendable {
    static let schema = "organization_groups"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

final class OrganizationGroupMember: Model, @unchecked Sendable {
    static let schema = "organization_group_members"

    @ID(key: .id) var id: UUID?
    @Field(key: "group_id") var groupId: UUID
    @Field(key: "organization_id") var organizationId: UUID

    init() {}

    init(groupId: UUID, organizationId: UUID) {
        self.id = .v7()
        self.groupId = groupId
        self.organizationId = organizationId
    }
}

struct OrganizationGroupDTO: Content, Equatable {
    var id: String
    var name: String
    /// The organizations the caller may see.
    var organizationIds: [String]
}

struct OrganizationGroupInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var organizationIds: Patch<[String]> = .absent
}

/// `/api/v1/organization-groups`: list (`{items, nextCursor}`), create, read, change, delete. MSP staff read
/// the groups, those who manage users change them (`ConfigurationKind.organizationGroups`); a client-restricted
/// resource is shown only the organizations its restrictions reach, and its edits keep the others.
enum OrganizationGroupsAPI {
    static func register(_ api: any RoutesBuilder) {
        let groups = api.grouped("organization-groups")
        groups.get { req async throws -> ListPage<OrganizationGroupDTO> in
            try await OrganizationGroups.list(PageRequest(req), by: req.principal, on: req.db)
        }
        groups.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .create)
            return try await OrganizationGroups.save(nil, req.content.decode(OrganizationGroupInput.self), by: principal, on: req.db)
                .encodeResponse(status: .created, for: req)
        }
        groups.get(":id") { req async throws -> OrganizationGroupDTO in
            let principal = try req.principal
            return try await OrganizationGroups.dto(
                OrganizationGroups.visible(req.id("id", OrganizationGroups.what), by: principal, on: req.db), shownTo: principal, on: req.db)
        }
        groups.patch(":id") { req async throws -> OrganizationGroupDTO in
            let principal = try req.principal
            let group = try await OrganizationGroups.visible(req.id("id", OrganizationGroups.what), by: principal, on: req.db)
            try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .edit)
            return try await OrganizationGroups.save(group, req.content.decode(OrganizationGroupInput.self), by: principal, on: req.db)
        }
        groups.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let group = try await OrganizationGroups.visible(req.id("id", OrganizationGroups.what), by: principal, on: req.db)
            try await OrganizationGroups.delete(group, by: principal, on: req.db)
            return .noContent
        }
    }
}

enum OrganizationGroups {
    static let what = "organization group"

    static func scope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        AccessPolicy.configurationScope(for: principal, .organizationGroups, operation)
    }

    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> OrganizationGroup {
        try await Lookup.visible(OrganizationGroup.self, id, scope: scope(for: principal), table: OrganizationGroup.scopeTable, what: what, on: db)
    }

    static func list(_ page: PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<OrganizationGroupDTO> {
        let (items, next) = try await OrganizationGroup.query(on: db).filter(scope(for: principal), on: OrganizationGroup.scopeTable).page(page)
        let members = try await organizationIds(of: items.compactMap(\.id), on: db)
        let shown = try await visibleOrganizations(members.values.reduce(into: Set<UUID>()) { $0.formUnion($1) }, to: principal, on: db)
        return ListPage(
            items: items.map { dto($0, organizationIds: (members[$0.id!] ?? []).intersection(shown)) }, nextCursor: next)
    }

    static func dto(_ group: OrganizationGroup, organizationIds: Set<UUID>) -> OrganizationGroupDTO {
        OrganizationGroupDTO(id: group.id!.uuidString, name: group.name, organizationIds: organizationIds.map(\.uuidString).sorted())
    }

    /// The group with the organizations `viewer` may see; without a viewer (the audit log), all of them.
    static func dto(_ group: OrganizationGroup, shownTo viewer: Principal? = nil, on db: any Database) async throws -> OrganizationGroupDTO {
        var ids = try await organizationIds(of: [group.id!], on: db)[group.id!] ?? []
        if let viewer { ids = ids.intersection(try await visibleOrganizations(ids, to: viewer, on: db)) }
        return dto(group, organizationIds: ids)
    }

    /// Each group's organizations, in one query.
    static func organizationIds(of groupIds: [UUID], on db: any Database) async throws -> [UUID: Set<UUID>] {
        guard !groupIds.isEmpty else { return [:] }
        var all: [UUID: Set<UUID>] = [:]
        for member in try await OrganizationGroupMember.query(on: db).filter(\.$groupId ~~ groupIds).all() {
            all[member.groupId, default: []].insert(member.organizationId)
        }
        return all
    }

    /// Of `ids`, the organizations `principal` may see (`AccessPolicy.organizationScope`).
    static func visibleOrganizations(_ ids: Set<UUID>, to principal: Principal, on db: any Database) async throws -> Set<UUID> {
        let scope = AccessPolicy.organizationScope(for: principal, area: .organizations, .view)
        guard !ids.isEmpty, scope != .none else { return [] }
        if scope == .all { return ids }
        return Set(try await Organization.query(on: db).filter(\.$id ~~ Array(ids)).filter(scope, on: Organization.scopeTable).all(\.$id))
    }

    /// The group an organization is in, if any.
    static func group(of organizationId: UUID, on db: any Database) async throws -> OrganizationGroup? {
        guard let member = try await OrganizationGroupMember.query(on: db).filter(\.$organizationId == organizationId).first() else { return nil }
        return try await OrganizationGroup.find(member.groupId, on: db)
    }

    /// The other organizations in the group of `organizationId` (the principal facts of its co-managing users).
    static func peers(of organizationId: UUID, on db: any Database) async throws -> Set<UUID> {
        let rows = try await db.sql.raw(
            """
            SELECT other.organization_id AS id FROM organization_group_members mine
            JOIN organization_group_members other ON other.group_id = mine.group_id
            WHERE mine.organization_id = \(bind: organizationId) AND other.organization_id <> \(bind: organizationId)
            """
        ).all()
        return Set(try rows.map { try $0.decode(column: "id", as: UUID.self) })
    }

    static func save(_ existing: OrganizationGroup?, _ input: OrganizationGroupInput, by principal: Principal, on db: any Database) async throws
        -> OrganizationGroupDTO
    {
        try AccessPolicy.authorizeConfiguration(principal, .organizationGroups, existing == nil ? .create : .edit)
        let group = existing ?? OrganizationGroup()
        let before: OrganizationGroupDTO? = if let existing { try await dto(existing, on: db) } else { nil }
        var validator = FieldValidator()
        if existing == nil || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { group.name = name }
        let organizations = input.organizationIds.isAbsent ? nil : (input.organizationIds.value ?? []).compactMap { validator.id($0, "organizationIds") }
        try validator.check()
        if existing == nil { group.id = .v7() }
        let groupId = group.id!
        let stored = try await organizationIds(of: [groupId], on: db)[groupId] ?? []
        // Organizations the principal may not see are neither named to it nor dropped by its edit.
        let hidden = stored.subtracting(try await visibleOrganizations(stored, to: principal, on: db))
        if let organizations {
            try await Lookup.requireExisting(
                Organization.self, organizations, field: "organizationIds", scope: AccessPolicy.organizationScope(for: principal, area: .organizations, .view),
                table: Organization.scopeTable, on: db)
            try await refuseOtherGroups(organizations, except: groupId, on: db)
        }
        try await mapUniqueViolation("an organization group named '\(group.name)' already exists") {
            try await db.write { db in
                try await group.save(on: db)
                if let organizations {
                    try await OrganizationGroupMember.query(on: db).filter(\.$groupId == groupId).delete()
                    for organization in Set(organizations).union(hidden) {
                        try await OrganizationGroupMember(groupId: groupId, organizationId: organization).create(on: db)
                    }
                }
                try await Audit.record(
                    existing == nil ? "created" : "updated", OrganizationGroup.schema, id: groupId, by: principal, before: before,
                    after: try await dto(group, on: db), on: db)
            }
        }
        return try await dto(group, shownTo: principal, on: db)
    }

    /// An organization is in one group at most: one already in another group is refused, naming it.
    static func refuseOtherGroups(_ organizations: [UUID], except groupId: UUID, on db: any Database) async throws {
        guard !organizations.isEmpty else { return }
        let taken = try await OrganizationGroupMember.query(on: db).filter(\.$organizationId ~~ Array(Set(organizations))).filter(\.$groupId != groupId).all()
        guard !taken.isEmpty else { return }
        let names = try await AdminNames.organizations(taken.map(\.organizationId), on: db)
        let groups = try await PageNames.of(OrganizationGroup.self, ids: taken.map(\.groupId), allowed: true, on: db) { $0.name }
        let clashes = taken.map { "\(names[$0.organizationId] ?? $0.organizationId.uuidString) is in '\(groups[$0.groupId] ?? "another group")'" }.sorted()
        throw TandemError.invalid(
            "organizationIds", "an organization is in one group at most: \(clashes.joined(separator: ", ")); take it out of that group first")
    }

    static func delete(_ group: OrganizationGroup, by principal: Principal, on db: any Database) async throws {
        let before = try await dto(group, on: db)
        let stored = Set(before.organizationIds.compactMap(UUID.init(uuidString:)))
        let hidden = stored.subtracting(try await visibleOrganizations(stored, to: principal, on: db))
        try AccessPolicy.authorizeOrganizationGroupDelete(principal, hiddenOrganizations: hidden.count)
        try await db.write { db in
            try await OrganizationGroupMember.query(on: db).filter(\.$groupId == group.id!).delete()
            try await group.delete(on: db)
            try await Audit.record("deleted", OrganizationGroup.schema, id: group.id, by: principal, before: before, on: db)
        }
    }
}

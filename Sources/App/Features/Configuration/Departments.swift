import Fluent
import Foundation
import TandemCore
import Vapor

/// A department (SPEC §4): the MSP's own, or a co-managed one that belongs to one co-managed organization
/// and gives that organization's co-managing users a department of their own (for reporting filters).
final class Department: Model, @unchecked Sendable {
    static let schema = "departments"
    /// `AccessPolicy.departmentScope`'s facts: an MSP department has no organization.
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id"])
    static let mspOwner = "msp"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @OptionalField(key: "description") var descriptionText: String?
    /// Read-only after creation, as is the organization.
    @Field(key: "co_managed") var coManaged: Bool
    @OptionalField(key: "organization_id") var organizationId: UUID?
    /// What names are unique within: "msp" or the organization's id.
    @Field(key: "owner_key") var ownerKey: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

/// A person in a department: an MSP resource or a co-managing user (`DepartmentRules`).
final class DepartmentMember: Model, @unchecked Sendable {
    static let schema = "department_members"

    @ID(key: .id) var id: UUID?
    @Field(key: "department_id") var departmentId: UUID
    @Field(key: "principal_id") var principalId: UUID
    @Field(key: "principal_kind") var principalKind: PrincipalKind

    init() {}

    init(departmentId: UUID, principalId: UUID, kind: PrincipalKind) {
        self.id = .v7()
        self.departmentId = departmentId
        self.principalId = principalId
        self.principalKind = kind
    }
}

struct DepartmentDTO: Content, Equatable {
    var id: String
    var name: String
    var description: String?
    var coManaged: Bool
    var organizationId: String?
    /// Principal ids: MSP resources and co-managing users; to a caller, only those it may see.
    var members: [String]
}

struct DepartmentInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var description: Patch<String> = .absent
    var coManaged: Patch<Bool> = .absent
    var organizationId: Patch<String> = .absent
    var members: Patch<[String]> = .absent
}

/// `/api/v1/departments`: staff read them (a client-restricted resource only the MSP's and its organizations'
/// co-managed ones), `manageSettings` changes them. `members` replaces the list; members the caller may not
/// see are neither shown to it nor dropped by its edit.
enum DepartmentsCollection: ConfigurationCollection {
    static let kind = ConfigurationKind.departments
    static let path: PathComponent = "departments"
    static let what = "department"
    static var table: ScopeTable { Department.scopeTable }

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.departmentScope(for: principal, operation)
    }

    static func dto(_ row: Department, on db: any Database) async throws -> DepartmentDTO {
        let members = try await DepartmentMember.query(on: db).filter(\.$departmentId == row.id!).all()
        return DepartmentDTO(
            id: row.id!.uuidString, name: row.name, description: row.descriptionText, coManaged: row.coManaged, organizationId: row.organizationId?.uuidString,
            members: members.map(\.principalId.uuidString).sorted())
    }

    static func shown(_ dto: DepartmentDTO, to principal: Principal, on db: any Database) async throws -> DepartmentDTO {
        var dto = dto
        let ids = dto.members.compactMap(UUID.init(uuidString:))
        guard !ids.isEmpty else { return dto }
        // MSP resources are seen by all staff; co-managing users as the people directory allows.
        let users = try await CoManagingUser.query(on: db).filter(\.$id ~~ ids).all(\.$id)
        guard !users.isEmpty else { return dto }
        let hidden = try await PeopleDirectory.hidden(users, kind: .coManagingUser, from: principal, on: db)
        dto.members = dto.members.filter { UUID(uuidString: $0).map { !hidden.contains($0) } ?? false }
        return dto
    }

    static func apply(_ input: DepartmentInput, to row: Department, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        let principal = try req.principal
        let db = req.db
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { row.name = name }
        switch input.description {
        case .absent: break
        case .null: row.descriptionText = nil
        case .value(let text):
            if let text = validator.text(text, "description", max: 2000, required: false, multiline: true) { row.descriptionText = text.isEmpty ? nil : text }
        }
        if case .null = input.coManaged { validator.fail("coManaged", "must be true or false") }
        var organizationId: UUID?
        if creating {
            row.coManaged = input.coManaged.value ?? false
            organizationId = input.organizationId.value.flatMap { validator.id($0, "organizationId") }
        } else {
            if let coManaged = input.coManaged.value, coManaged != row.coManaged { validator.fail("coManaged", "is read-only after creation") }
            if !input.organizationId.isAbsent, input.organizationId.value.flatMap(UUID.init(uuidString:)) != row.organizationId {
                validator.fail("organizationId", "is read-only after creation")
            }
        }
        let members = input.members.value.map { list in list.enumerated().compactMap { validator.id($1, "members[\($0)]") } }
        if let members, Set(members).count != members.count { validator.fail("members", "lists the same member twice") }
        try validator.check()
        if creating {
            // An organization the caller may not see reads as unknown.
            var organization: Organization?
            if let organizationId {
                organization = try await Organization.query(on: db).filter(\.$id == organizationId)
                    .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable).first()
            }
            DepartmentRules.checkOwner(
                coManaged: row.coManaged, organizationId: organizationId,
                organization: organization.map { CoManagedOrganizationFacts(name: $0.name, coManagementEnabled: $0.coManagementEnabled) }, &validator)
            try validator.check()
            row.organizationId = organizationId
            row.ownerKey = organizationId.map { $0.uuidString.lowercased() } ?? Department.mspOwner
        }
        guard let members else { return nil }
        let departmentId = row.id!
        let stored = try await DepartmentMember.query(on: db).filter(\.$departmentId == departmentId).all()
        let storedKinds = Dictionary(stored.map { ($0.principalId, $0.principalKind) }, uniquingKeysWith: { first, _ in first })
        // Those already in stay valid (a user's association may have ended since); those added are checked.
        let added = members.filter { storedKinds[$0] == nil }
        var chosen = try await Departments.checkMembers(members, only: Set(added), organizationId: row.organizationId, by: principal, on: db)
        for id in members where storedKinds[id] != nil { chosen[id] = storedKinds[id] }
        // Members the caller may not see stay.
        let hidden = try await PeopleDirectory.hidden(stored.map(\.principalId), kind: .coManagingUser, from: principal, on: db)
        let kept = stored.filter { $0.principalKind == .coManagingUser && hidden.contains($0.principalId) && chosen[$0.principalId] == nil }
        let rows = chosen.map { ($0.key, $0.value) } + kept.map { ($0.principalId, $0.principalKind) }
        return { db in
            try await DepartmentMember.query(on: db).filter(\.$departmentId == departmentId).delete()
            for (id, kind) in rows { try await DepartmentMember(departmentId: departmentId, principalId: id, kind: kind).create(on: db) }
            return []
        }
    }

    static func prepareDelete(_ row: Department, on db: any Database) async throws {
        try await DepartmentMember.query(on: db).filter(\.$departmentId == row.id!).delete()
    }

    static func organizationId(_ row: Department) -> UUID? { row.organizationId }

    static func clash(_ row: Department) -> String? {
        row.coManaged ? "a department named '\(row.name)' already exists for this organization" : "an MSP department named '\(row.name)' already exists"
    }

    static func name(_ row: Department) -> String { row.name }
}

/// Department memberships as a person's pages and the co-managing user API see them.
enum Departments {
    /// The kind of each of `members` in `only`, once each is a person the caller may see who may join a department
    /// of `organizationId` (`DepartmentRules`); problems are named `members[i]`, by the index in `members`.
    static func checkMembers(_ members: [UUID], only: Set<UUID>, organizationId: UUID?, by principal: Principal, on db: any Database) async throws
        -> [UUID: PrincipalKind]
    {
        guard !only.isEmpty else { return [:] }
        let members = members.map { only.contains($0) ? $0 : nil }
        let ids = members.compactMap { $0 }
        let resources = try await PeopleDirectory.visible(ids, kind: .resource, to: principal, on: db)
        let users = try await CoManagingUser.query(on: db).filter(\.$id ~~ ids).filter(\.$erased == false)
            .filter(AccessPolicy.peopleScope(for: principal, .coManagingUser), on: CoManagingUser.scopeTable).all(\.$id)
        var validator = FieldValidator()
        var kinds: [UUID: PrincipalKind] = [:]
        for (index, id) in members.enumerated() {
            guard let id else { continue }
            let kind: PrincipalKind
            if resources.contains(id) {
                kind = .resource
            } else if users.contains(id) {
                kind = .coManagingUser
            } else {
                validator.fail("members[\(index)]", "no MSP resource or co-managing user with id \(id.uuidString)")
                continue
            }
            let associated = kind == .coManagingUser && organizationId != nil ? try await PrincipalLoader.associatedOrganizations(of: id, on: db) : []
            if let problem = DepartmentRules.membershipProblem(kind: kind, associatedOrganizations: associated, departmentOrganization: organizationId) {
                validator.fail("members[\(index)]", problem)
            }
            kinds[id] = kind
        }
        try validator.check()
        return kinds
    }

    /// The departments a co-managing user of `organizations` (their associated ones) may join that `principal`
    /// may see: the MSP's and those of these organizations.
    static func allowed(for organizations: Set<UUID>, by principal: Principal, on db: any Database) async throws -> [Department] {
        let scope = AccessPolicy.departmentScope(for: principal)
        guard scope != .none else { return [] }
        return try await Department.query(on: db).filter(scope, on: Department.scopeTable).sort(\.$name).all().filter {
            DepartmentRules.membershipProblem(kind: .coManagingUser, associatedOrganizations: organizations, departmentOrganization: $0.organizationId) == nil
        }
    }

    /// A co-managing user's departments that `principal` may see.
    static func visibleIds(of userId: UUID, to principal: Principal, on db: any Database) async throws -> [UUID] {
        let ids = try await DepartmentMember.query(on: db).filter(\.$principalId == userId).all(\.$departmentId)
        let scope = AccessPolicy.departmentScope(for: principal)
        guard !ids.isEmpty, scope != .none else { return [] }
        return try await Department.query(on: db).filter(\.$id ~~ ids).filter(scope, on: Department.scopeTable).sort(\.$name).all(\.$id)
    }

    /// Checks `departmentIds` for a co-managing user associated with `organizations` (field `departmentIds`).
    static func checkForUser(_ departmentIds: [UUID], associatedWith organizations: Set<UUID>, by principal: Principal, on db: any Database) async throws {
        try await Lookup.requireExisting(
            Department.self, departmentIds, field: "departmentIds", scope: AccessPolicy.departmentScope(for: principal), table: Department.scopeTable, on: db)
        let departments = try await Department.query(on: db).filter(\.$id ~~ Array(Set(departmentIds))).all()
        for department in departments {
            if let problem = DepartmentRules.membershipProblem(
                kind: .coManagingUser, associatedOrganizations: organizations, departmentOrganization: department.organizationId)
            {
                throw TandemError.invalid("departmentIds", "\(department.name): \(problem)")
            }
        }
    }

    /// Sets a co-managing user's departments to `departmentIds`, keeping those `principal` may not see (in the write transaction).
    static func setForUser(_ userId: UUID, _ departmentIds: [UUID], keeping hidden: [UUID], on db: any Database) async throws {
        try await DepartmentMember.query(on: db).filter(\.$principalId == userId).delete()
        for id in Set(departmentIds).union(hidden) { try await DepartmentMember(departmentId: id, principalId: userId, kind: .coManagingUser).create(on: db) }
    }

    /// The user's memberships of departments `principal` may not see.
    static func hiddenIds(of userId: UUID, from principal: Principal, on db: any Database) async throws -> [UUID] {
        let all = try await DepartmentMember.query(on: db).filter(\.$principalId == userId).all(\.$departmentId)
        let visible = Set(try await visibleIds(of: userId, to: principal, on: db))
        return all.filter { !visible.contains($0) }
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// The co-managing user wizard, edits and erasure (SPEC §2).
enum CoManagingUsers {
    static let what = "co-managing user"

    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> CoManagingUser {
        try await Lookup.visible(
            CoManagingUser.self, id, scope: AccessPolicy.coManagingUserScope(for: principal), table: CoManagingUser.scopeTable, what: what, on: db)
    }

    /// The user; to a `viewer`, only the departments it may see (the audit log's has all of them).
    static func dto(_ user: CoManagingUser, shownTo viewer: Principal? = nil, on db: any Database) async throws -> CoManagingUserDTO {
        let id = user.id!
        let queues = try await QueueMember.query(on: db).filter(\.$principalId == id).all().map(\.queueId.uuidString).sorted()
        let roles = try await CoManagingUserRole.query(on: db).filter(\.$userId == id).all().map(\.roleId.uuidString).sorted()
        let teams = try await CoManagingTeamMember.query(on: db).filter(\.$userId == id).all().map(\.teamId.uuidString).sorted()
        let departments =
            if let viewer { try await Departments.visibleIds(of: id, to: viewer, on: db) } else {
                try await DepartmentMember.query(on: db).filter(\.$principalId == id).all(\.$departmentId)
            }
        return CoManagingUserDTO(
            id: id.uuidString, contactId: user.contactId.uuidString, organizationId: user.organizationId.uuidString, username: user.username,
            securityLevelId: user.securityLevelId.uuidString, active: user.active, queueIds: queues, roleIds: roles, teamIds: teams,
            departmentIds: departments.map(\.uuidString).sorted(),
            internalLocationId: user.internalLocationId?.uuidString, timesheetStart: user.timesheetStart, totpEnrolled: user.totpConfirmed, erased: user.erased,
            customerGroupOverride: user.customerGroupOverride)
    }

    /// The organization a new co-managing user of `principal` may belong to: the same restriction as
    /// editing one (`coManagingUserScope`), so one outside it reads as unknown.
    static func organizationForNewUser(_ id: UUID, by principal: Principal, on db: any Database) async throws -> Organization? {
        let scope = AccessPolicy.coManagingUserScope(for: principal, .create)
        guard scope != .none else { return nil }
        return try await Organization.query(on: db).filter(\.$id == id).filter(scope, on: Organization.scopeTable).first()
    }

    /// The wizard. `passwordHash` is the pages' wizard draft: the password typed at an earlier step, already hashed.
    static func create(
        _ input: CoManagingUserInput, passwordHash: String? = nil, by principal: Principal, on db: any Database,
        passwords: AsyncPasswordHasher
    ) async throws -> CoManagingUserDTO {
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        // The wizard sets the user's password: a credential like any other.
        try AccessPolicy.authorizeCredentialChange(principal, .password)
        var validator = FieldValidator()
        let organizationId = validator.id(input.organizationId.value, "organizationId")
        let contactId = input.contactId.value.flatMap { validator.id($0, "contactId") }
        let newContact = input.contact.value
        let newSiteId = newContact?.siteId.flatMap { validator.id($0, "contact.siteId") }
        var newDraft: ContactDraft?
        if let newContact {
            newDraft = ContactDraft(
                firstName: newContact.firstName, lastName: newContact.lastName, email: newContact.email,
                phones: PhoneInput.drafts(newContact.phones ?? [], &validator), hasSite: false)
        }
        let contactFields = CoManagingUserRules.contactChoice(contactId: input.contactId.value, newContact: newDraft, &validator)
        let username = Usernames.validate(input.username.value, &validator)
        let password = passwordHash != nil && input.password.isAbsent ? nil : validator.password(input.password.value)
        let levelId = validator.id(input.securityLevelId.value, "securityLevelId")
        let queueIds = (input.queueIds.value ?? []).compactMap { validator.id($0, "queueIds") }
        CoManagingUserRules.checkQueues(queueIds, &validator)
        let roleIds = (input.roleIds.value ?? []).compactMap { validator.id($0, "roleIds") }
        let departmentIds = (input.departmentIds.value ?? []).compactMap { validator.id($0, "departmentIds") }
        let internalLocationId = input.internalLocationId.value.flatMap { validator.id($0, "internalLocationId") }
        let timesheetStart = input.timesheetStart.value
        if let timesheetStart, !ISO8601.isCalendarDate(timesheetStart) { validator.fail("timesheetStart", "must be a date YYYY-MM-DD") }
        if case .null = input.customerGroupOverride { validator.fail("customerGroupOverride", "must be true or false") }
        try validator.check()
        guard let organizationId, let username, password != nil || passwordHash != nil, let levelId else { throw TandemError.validation(validator.errors) }

        let facts = DatabaseCoManagingUserFacts(principal: principal, db: db)
        _ = try await CoManagingUserRules.checkOrganization(organizationId, facts: facts)
        try await checkLevel(levelId, on: db)
        try await checkUsernameFree(username, except: nil, on: db)
        try await Lookup.requireExisting(Queue.self, queueIds, field: "queueIds", on: db)
        try await Lookup.requireExisting(Role.self, roleIds, field: "roleIds", on: db)
        // A new user is associated with their own organization only.
        try await Departments.checkForUser(departmentIds, associatedWith: [organizationId], by: principal, on: db)
        if let internalLocationId { try await Lookup.requireExisting(InternalLocation.self, [internalLocationId], field: "internalLocationId", on: db) }
        if let contactId {
            try await CoManagingUserRules.checkContact(.existing(contactId), organizationId: organizationId, facts: facts)
        } else if newContact != nil {
            try await CoManagingUserRules.checkContact(.new(siteId: newSiteId), organizationId: organizationId, facts: facts)
        }
        try await CoManagingUserRules.checkLicense(confirmed: input.confirmLicense.value == true, by: principal, on: db)

        let hash = if let password { try await passwords.hash(password) } else { passwordHash! }
        let user = CoManagingUser()
        user.id = .v7()
        user.organizationId = organizationId
        user.username = username
        user.passwordHash = hash
        user.securityLevelId = levelId
        user.internalLocationId = internalLocationId
        user.timesheetStart = timesheetStart
        user.customerGroupOverride = input.customerGroupOverride.value ?? true
        let userId = user.id!
        let newContactFields = contactFields
        let newContactSiteId = newSiteId
        try await mapUniqueViolation("the username '\(username)' is taken") {
            try await db.write { db in
                // Recorded together, last (`Audit.entry`).
                var earlier: [AuditEntry] = []
                if let fields = newContactFields {
                    // The wizard's new contact lands in the same transaction as the user.
                    let contact = Contact()
                    contact.id = .v7()
                    contact.organizationId = organizationId
                    contact.siteId = newContactSiteId
                    contact.firstName = fields.firstName
                    contact.lastName = fields.lastName
                    contact.email = fields.email
                    contact.phones = fields.phones.map { Phone(number: $0.number, countryCode: $0.countryCode, kind: $0.kind.rawValue) }
                    contact.portalOrganizationWide = false
                    try await contact.create(on: db)
                    try await PhoneDirectory.index(contact, on: db)
                    earlier.append(
                        Audit.entry("created", Contact.schema, id: contact.id, by: principal, organizationId: organizationId, after: ContactDTO(contact)))
                    user.contactId = contact.id!
                } else {
                    user.contactId = contactId!
                    // From now on the contact logs in only as this user, with its two-factor step.
                    try await Contact.query(on: db).filter(\.$id == contactId!).set(\.$portalPasswordHash, to: nil).update()
                    try await Sessions.end(of: contactId!, on: db)
                }
                try await user.create(on: db)
                for queueId in Set(queueIds) { try await QueueMember(queueId: queueId, principalId: userId).create(on: db) }
                for roleId in Set(roleIds) { try await CoManagingUserRole(userId: userId, roleId: roleId).create(on: db) }
                try await Departments.setForUser(userId, departmentIds, keeping: [], on: db)
                earlier.append(
                    Audit.entry("created", CoManagingUser.schema, id: userId, by: principal, organizationId: organizationId, after: try await dto(user, on: db))
                )
                // The wizard's "organization the co-managing user will be associated with" is their own: they see
                // its co-managed tickets from the start. A new user has no other association, so the per-user limit holds.
                guard let organization = try await Organization.find(organizationId, on: db) else { throw TandemError.notFound("organization") }
                let setupBefore = try await CoManagementService.fullSetup(organization, on: db)
                try await CoManagedAssociation(organizationId: organizationId, userId: userId).create(on: db)
                try await Audit.record(
                    "updated", "organization_co_management", id: organizationId, by: principal, organizationId: organizationId,
                    before: setupBefore, after: try await CoManagementService.fullSetup(organization, on: db), along: earlier, on: db)
            }
        }
        return try await dto(user, shownTo: principal, on: db)
    }

    static func update(_ id: UUID, _ input: CoManagingUserInput, by principal: Principal, on db: any Database, passwords: AsyncPasswordHasher) async throws
        -> CoManagingUserDTO
    {
        let user = try await visible(id, by: principal, on: db)
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        guard !user.erased else { throw TandemError.conflict("this co-managing user was erased") }
        let before = try await dto(user, on: db)
        var validator = FieldValidator()
        if let organization = input.organizationId.value, organization != user.organizationId.uuidString {
            validator.fail("organizationId", "is read-only after creation")
        }
        if let contact = input.contactId.value, contact != user.contactId.uuidString { validator.fail("contactId", "is read-only after creation") }
        if !input.contact.isAbsent { validator.fail("contact", "edit the contact itself (PATCH /api/v1/contacts/{id})") }
        if !input.username.isAbsent, let username = Usernames.validate(input.username.value, &validator) { user.username = username }
        var password: String?
        if !input.password.isAbsent {
            password = validator.password(input.password.value)
        }
        if !input.securityLevelId.isAbsent, let levelId = validator.id(input.securityLevelId.value, "securityLevelId") { user.securityLevelId = levelId }
        var queueIds: [UUID]?
        if !input.queueIds.isAbsent {
            queueIds = (input.queueIds.value ?? []).compactMap { validator.id($0, "queueIds") }
            CoManagingUserRules.checkQueues(queueIds!, &validator)
        }
        let roleIds = input.roleIds.isAbsent ? nil : (input.roleIds.value ?? []).compactMap { validator.id($0, "roleIds") }
        let departmentIds = input.departmentIds.isAbsent ? nil : (input.departmentIds.value ?? []).compactMap { validator.id($0, "departmentIds") }
        switch input.internalLocationId {
        case .absent: break
        case .null: user.internalLocationId = nil
        case .value(let text): user.internalLocationId = validator.id(text, "internalLocationId")
        }
        switch input.timesheetStart {
        case .absent: break
        case .null: user.timesheetStart = nil
        case .value(let text):
            if ISO8601.isCalendarDate(text) { user.timesheetStart = text } else { validator.fail("timesheetStart", "must be a date YYYY-MM-DD") }
        }
        if case .null = input.active { validator.fail("active", "must be true or false") }
        switch input.customerGroupOverride {
        case .absent: break
        case .null: validator.fail("customerGroupOverride", "must be true or false")
        case .value(let on): user.customerGroupOverride = on
        }
        try validator.check()
        try await checkLevel(user.securityLevelId, on: db)
        try await checkUsernameFree(user.username, except: id, on: db)
        if let queueIds { try await Lookup.requireExisting(Queue.self, queueIds, field: "queueIds", on: db) }
        if let roleIds { try await Lookup.requireExisting(Role.self, roleIds, field: "roleIds", on: db) }
        var hiddenDepartmentIds: [UUID] = []
        if let departmentIds {
            // Departments they are in stay valid (an association may have ended since); those added are checked.
            let current = Set(try await DepartmentMember.query(on: db).filter(\.$principalId == id).all(\.$departmentId))
            let associated = try await PrincipalLoader.associatedOrganizations(of: id, on: db)
            try await Departments.checkForUser(departmentIds.filter { !current.contains($0) }, associatedWith: associated, by: principal, on: db)
            hiddenDepartmentIds = try await Departments.hiddenIds(of: id, from: principal, on: db)
        }
        if let active = input.active.value, active != user.active {
            if active {
                try await CoManagingUserRules.checkLicense(confirmed: input.confirmLicense.value == true, by: principal, on: db)
            } else {
                try await refuseIfAccountManager(user, on: db)
            }
            user.active = active
        }
        if password != nil { try AccessPolicy.authorizeCredentialChange(principal, .password) }
        if user.username != before.username { try AccessPolicy.authorizeCredentialChange(principal, .loginName) }
        if let password { user.passwordHash = try await passwords.hash(password) }
        let passwordSet = password != nil
        let hiddenDepartments = hiddenDepartmentIds
        let newQueueIds = queueIds
        try await mapUniqueViolation("the username '\(user.username)' is taken") {
            try await db.write { db in
                try await user.save(on: db)
                if let newQueueIds {
                    try await QueueMember.query(on: db).filter(\.$principalId == id).delete()
                    for queueId in Set(newQueueIds) { try await QueueMember(queueId: queueId, principalId: id).create(on: db) }
                }
                if let roleIds {
                    try await CoManagingUserRole.query(on: db).filter(\.$userId == id).delete()
                    for roleId in Set(roleIds) { try await CoManagingUserRole(userId: id, roleId: roleId).create(on: db) }
                }
                if let departmentIds { try await Departments.setForUser(id, departmentIds, keeping: hiddenDepartments, on: db) }
                // A new password or a deactivation ends every session and token: re-activation revives none.
                if passwordSet || !user.active { try await Sessions.end(of: id, on: db) }
                // Rules naming a deactivated user are marked broken.
                if !user.active { try await Automations.recheck(on: db) }
                let passwordEntry = Audit.entry("passwordSet", CoManagingUser.schema, id: id, by: principal, organizationId: user.organizationId)
                try await Audit.record(
                    "updated", CoManagingUser.schema, id: id, by: principal, organizationId: user.organizationId,
                    before: before, after: try await dto(user, on: db), along: passwordSet ? [passwordEntry] : [], on: db)
            }
        }
        return try await dto(user, shownTo: principal, on: db)
    }

    /// Erasure (redaction): the person's data goes; ticket history keeps an anonymous author.
    static func erase(_ id: UUID, by principal: Principal, on db: any Database) async throws {
        let user = try await visible(id, by: principal, on: db)
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        guard !user.erased else { return }
        try await refuseIfAccountManager(user, on: db)
        let before = try await dto(user, on: db)
        try await db.write { db in
            user.erased = true
            user.active = false
            // The random tail of the UUIDv7: its head is a timestamp that users created together share.
            user.username = "erased-\(id.uuidString.suffix(12).lowercased())"
            user.passwordHash = "!"
            user.totpSecretSealed = nil
            user.totpConfirmed = false
            try await user.save(on: db)
            if let contact = try await Contact.find(user.contactId, on: db) {
                contact.firstName = "Erased"
                contact.lastName = "User"
                contact.email = nil
                contact.phones = []
                contact.portalPasswordHash = nil
                try await contact.save(on: db)
                // Erased: the number no longer identifies anyone.
                try await PhoneDirectory.index(contact, on: db)
            }
            try await CoManagedAssociation.query(on: db).filter(\.$userId == id).delete()
            try await CoManagingTeamMember.query(on: db).filter(\.$userId == id).delete()
            try await DepartmentMember.query(on: db).filter(\.$principalId == id).delete()
            try await CoManagingUserRole.query(on: db).filter(\.$userId == id).delete()
            try await QueueMember.query(on: db).filter(\.$principalId == id).delete()
            let unassigned = try await TicketPipeline.unassign(id, by: principal, on: db)
            try await Sessions.end(of: id, on: db)
            try await Sessions.end(of: user.contactId, on: db)
            try await Note.query(on: db).filter(\.$authorId == id).set(\.$authorName, to: "Erased user").update()
            try await TimeEntry.query(on: db).filter(\.$authorId == id).set(\.$authorName, to: "Erased user").update()
            try await Attachment.query(on: db).filter(\.$authorId == id).set(\.$authorName, to: "Erased user").update()
            try await Automations.recheck(on: db)
            try await Audit.record(
                "erased", CoManagingUser.schema, id: id, by: principal, organizationId: user.organizationId,
                before: ["username": before.username], along: unassigned, on: db)
        }
    }

    static func refuseIfAccountManager(_ user: CoManagingUser, on db: any Database) async throws {
        let managed = try await Organization.query(on: db).filter(\.$accountManagerId == user.id!).all()
        try CoManagingUserRules.checkNotAccountManager(username: user.username, managedOrganizations: managed.map(\.name))
    }

    private static func checkLevel(_ levelId: UUID, on db: any Database) async throws {
        guard let level = try await SecurityLevel.find(levelId, on: db) else { throw TandemError.invalid("securityLevelId", "no security level with this id") }
        try CoManagingUserRules.checkSecurityLevel(name: level.name, coManaged: level.coManaged)
    }

    /// Usernames are unique across MSP resources and co-managing users: both log in the same way.
    static func checkUsernameFree(_ username: String, except id: UUID?, on db: any Database) async throws {
        var users = CoManagingUser.query(on: db).filter(\.$username == username)
        if let id { users = users.filter(\.$id != id) }
        let takenByUser = try await users.count() > 0
        let takenByResource = try await Resource.query(on: db).filter(\.$username == username).count() > 0
        if takenByUser || takenByResource {
            throw TandemError.conflict("the username '\(username)' is taken")
        }
    }
}

enum CoManagingTeams {
    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> CoManagingTeam {
        try await Lookup.visible(
            CoManagingTeam.self, id, scope: AccessPolicy.coManagingTeamScope(for: principal),
            table: CoManagingTeam.scopeTable, what: "co-managing team", on: db)
    }

    /// Of `ids`, the teams `principal` may see.
    static func visibleIds(_ ids: [UUID], to principal: Principal, on db: any Database) async throws -> Set<UUID> {
        let scope = AccessPolicy.coManagingTeamScope(for: principal)
        guard !ids.isEmpty, scope != .none else { return [] }
        return Set(try await CoManagingTeam.query(on: db).filter(\.$id ~~ ids).filter(scope, on: CoManagingTeam.scopeTable).all(\.$id))
    }

    static func list(_ page: PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<CoManagingTeamDTO> {
        let (items, next) = try await CoManagingTeam.query(on: db).filter(AccessPolicy.coManagingTeamScope(for: principal), on: CoManagingTeam.scopeTable).page(
            page)
        var dtos: [CoManagingTeamDTO] = []
        for item in items { dtos.append(try await dto(item, shownTo: principal, on: db)) }
        return ListPage(items: dtos, nextCursor: next)
    }

    /// The team with the members `viewer` may see; without a viewer (the audit log), all of them.
    static func dto(_ team: CoManagingTeam, shownTo viewer: Principal? = nil, on db: any Database) async throws -> CoManagingTeamDTO {
        var members = try await memberIds(of: team.id!, on: db)
        if let viewer { members = members.intersection(try await PeopleDirectory.visible(Array(members), kind: .coManagingUser, to: viewer, on: db)) }
        return CoManagingTeamDTO(id: team.id!.uuidString, name: team.name, memberIds: members.map(\.uuidString).sorted())
    }

    static func memberIds(of teamId: UUID, on db: any Database) async throws -> Set<UUID> {
        Set(try await CoManagingTeamMember.query(on: db).filter(\.$teamId == teamId).all().map(\.userId))
    }

    static func save(_ existing: CoManagingTeam?, _ input: CoManagingTeamInput, by principal: Principal, on db: any Database) async throws -> CoManagingTeamDTO
    {
        try AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, existing == nil ? .create : .edit)
        let team = existing ?? CoManagingTeam()
        let before: CoManagingTeamDTO? = if let existing { try await dto(existing, on: db) } else { nil }
        var validator = FieldValidator()
        if existing == nil || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { team.name = name }
        let members = input.memberIds.isAbsent ? nil : (input.memberIds.value ?? []).compactMap { validator.id($0, "memberIds") }
        try validator.check()
        if existing == nil { team.id = .v7() }
        let teamId = team.id!
        // Members the principal may not see are neither named to it nor dropped by its edit.
        let hiddenMembers = try await Set(PeopleDirectory.hidden(memberIds(of: teamId, on: db), kind: .coManagingUser, from: principal, on: db))
        if let members {
            try await Lookup.requireExisting(
                CoManagingUser.self, members, field: "memberIds", scope: AccessPolicy.peopleScope(for: principal, .coManagingUser),
                table: CoManagingUser.scopeTable, on: db)
            for member in Set(members) {
                let teams = try await CoManagingTeamMember.query(on: db).filter(\.$userId == member).filter(\.$teamId != teamId).count()
                try CoManagedAssociationRules.checkTeamAdded(current: teams)
            }
        }
        try await mapUniqueViolation("a co-managing team named '\(team.name)' already exists") {
            try await db.write { db in
                try await team.save(on: db)
                if let members {
                    try await CoManagingTeamMember.query(on: db).filter(\.$teamId == teamId).delete()
                    for member in Set(members).union(hiddenMembers) { try await CoManagingTeamMember(teamId: teamId, userId: member).create(on: db) }
                }
                try await Audit.record(
                    existing == nil ? "created" : "updated", CoManagingTeam.schema, id: teamId, by: principal,
                    before: before, after: try await dto(team, on: db), on: db)
            }
        }
        return try await dto(team, shownTo: principal, on: db)
    }

    static func delete(_ team: CoManagingTeam, by principal: Principal, on db: any Database) async throws {
        try AccessPolicy.authorizeConfiguration(principal, .coManagingTeams, .delete)
        let before = try await dto(team, on: db)
        try await db.write { db in
            try await team.delete(on: db)
            try await Audit.record("deleted", CoManagingTeam.schema, id: team.id, by: principal, before: before, on: db)
        }
    }
}

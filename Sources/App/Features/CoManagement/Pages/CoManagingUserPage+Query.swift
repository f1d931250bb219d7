import Fluent
import Foundation
import TandemCore
import Vapor

extension CoManagingUserPage {
    static func query(_ id: UUID, section: String, draft: General?, principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database)
        async throws -> Model
    {
        let user = try await CoManagingUsers.visible(id, by: principal, on: db)
        let dto = try await CoManagingUsers.dto(user, shownTo: principal, on: db)
        let contact = try await Contact.find(user.contactId, on: db)
        let organization = try await Organization.find(user.organizationId, on: db)
        let teams = try await AdminNames.teams(dto.teamIds.compactMap(UUID.init(uuidString:)), on: db)
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value ?? "tandem.local"
        let levels = try await SecurityLevel.query(on: db).filter(\.$coManaged == true).sort(\.$name).all()
        let queues = try await Queue.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let roles = try await Role.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let locations = try await InternalLocation.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let licenses = try await CoManagementService.licenseCount(on: db)
        let group = try await OrganizationGroups.group(of: user.organizationId, on: db)
        let peers = try await OrganizationGroups.visibleOrganizations(
            OrganizationGroups.peers(of: user.organizationId, on: db), to: principal, on: db)
        let peerNames = try await AdminNames.organizations(Array(peers), on: db).values.sorted()
        // Those they may join, and those they are in (even if their association has ended since).
        let associated = try await PrincipalLoader.associatedOrganizations(of: id, on: db)
        let inDepartments = Set(dto.departmentIds.compactMap(UUID.init(uuidString:)))
        var departments = try await Departments.allowed(for: associated, by: principal, on: db)
        let stale = inDepartments.subtracting(departments.compactMap(\.id))
        if !stale.isEmpty { departments += try await Department.query(on: db).filter(\.$id ~~ Array(stale)).sort(\.$name).all() }

        var general = draft ?? General(username: user.username, password: nil, internalLocationId: dto.internalLocationId, timesheetStart: dto.timesheetStart)
        general.password = nil
        let locationOptions =
            [SelectOption(value: "", label: "None", selected: (general.internalLocationId ?? "").isEmpty)]
            + locations.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, general.internalLocationId ?? "")) }
        let (status, statusKey) = status(user)
        var layout = layout
        layout.title = contact?.fullName ?? user.username
        return Model(
            layout: layout, tabs: tabs,
            sections: sections.map { AdminPages.Tab(name: $0.1, url: PageURL.coManagingUser(id, tab: $0.0).path, current: $0.0 == section) },
            section: section, id: id.uuidString, name: contact?.fullName ?? user.username, username: user.username,
            loginName: "\(user.username)@\(domain)", organization: organization?.name ?? "", email: contact?.email ?? "",
            teams: teams.values.sorted().joined(separator: ", ").nonEmpty ?? "None",
            departmentNames: departments.filter { inDepartments.contains($0.id!) }.map(\.name).joined(separator: ", ").nonEmpty ?? "None",
            status: status, statusKey: statusKey, active: user.active, erased: user.erased,
            twoFactor: twoFactorState(user, zone: layout.zone), twoFactorEnrolled: user.totpConfirmed,
            customerGroupOverride: user.customerGroupOverride, groupName: group?.name,
            groupOrganizations: peerNames.joined(separator: ", ").nonEmpty ?? "no other organization", general: general, locationOptions: locationOptions,
            levelOptions: levels.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: $0.id == user.securityLevelId) },
            queues: AdminPages.Choices(
                name: "queueIds",
                choices: queues.map { queue in
                    CoManagedSetupPage.Choice(
                        value: queue.id!.uuidString, label: queue.name, detail: nil, checked: dto.queueIds.contains { PageOptions.sameId(queue.id, $0) })
                }),
            roles: AdminPages.Choices(
                name: "roleIds",
                choices: roles.map { role in
                    CoManagedSetupPage.Choice(
                        value: role.id!.uuidString, label: role.name, detail: nil, checked: dto.roleIds.contains { PageOptions.sameId(role.id, $0) })
                }),
            departments: AdminPages.Choices(
                name: "departmentIds",
                choices: departments.map { department in
                    CoManagedSetupPage.Choice(
                        value: department.id!.uuidString, label: department.name + (department.coManaged ? " (co-managed)" : ""), detail: nil,
                        checked: inDepartments.contains(department.id!))
                }),
            licenses: licenses, licensesAfter: licenses + 1, notice: nil, feedback: nil)
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// What every admin page shares: the tabs the principal may open and the permission check.
enum AdminPages {
    struct Tab: Encodable, Sendable {
        var name: String
        var url: String
        var current: Bool
    }

    /// What an area's tab needs: an admin permission, or leave to change a kind of configuration (its pages
    /// show read-only to those who may only read it, but the tab is for those who change it).
    enum Need: Sendable {
        case admin(AdminPermission)
        /// The permission's work on what belongs to no one organization (`AccessPolicy.authorizeTenantWide`).
        case tenantWide(AdminPermission)
        case configuration(ConfigurationKind)
        /// The audit log follows report access rather than an administrative permission.
        case auditLog
        /// "View as": unrestricted administrators (`AccessPolicy.mayViewAs`).
        case viewAs

        func allows(_ principal: Principal) -> Bool {
            switch self {
            case .admin(let permission): (try? AccessPolicy.authorizeAdmin(principal, permission)) != nil
            case .tenantWide(let permission): (try? AccessPolicy.authorizeTenantWide(principal, permission)) != nil
            case .configuration(let kind): (try? AccessPolicy.authorizeConfiguration(principal, kind, .edit)) != nil
            case .auditLog: AccessPolicy.readsAuditLog(principal)
            case .viewAs: AccessPolicy.mayViewAs(principal)
            }
        }
    }

    /// The admin areas and what each needs, in the order the tabs show them.
    static let areas: [(key: String, name: String, path: String, need: Need)] = [
        ("co-management", "Co-management", PageURL.coManagement.path, .tenantWide(.activateCoManagement)),
        ("setup", "Co-managed setup", PageURL.coManagedSetup.path, .admin(.activateCoManagement)),
        ("users", "Co-managing users", PageURL.coManagingUsers.path, .admin(.manageUsers)),
        (
            CoManagingTeamPages.path, CoManagingTeamPages.title, PageRoutes.configurations(CoManagingTeamPages.path).url(),
            .configuration(.coManagingTeams)
        ),
        (
            OrganizationGroupPages.path, OrganizationGroupPages.title, PageRoutes.configurations(OrganizationGroupPages.path).url(),
            .configuration(.organizationGroups)
        ),
        (ResourcePages.path, ResourcePages.title, PageRoutes.configurations(ResourcePages.path).url(), .configuration(.resources)),
        ("levels", "Security levels", PageURL.securityLevels.path, .admin(.configureSecurityLevels)),
        (QueuePages.path, QueuePages.title, PageRoutes.configurations(QueuePages.path).url(), .configuration(.queues)),
        (TeamPages.path, TeamPages.title, PageRoutes.configurations(TeamPages.path).url(), .configuration(.teams)),
        (RolePages.path, RolePages.title, PageRoutes.configurations(RolePages.path).url(), .configuration(.roles)),
        (
            InternalLocationPages.path, InternalLocationPages.title, PageRoutes.configurations(InternalLocationPages.path).url(),
            .configuration(.internalLocations)
        ),
        (DepartmentPages.path, DepartmentPages.title, PageRoutes.configurations(DepartmentPages.path).url(), .configuration(.departments)),
        (SLAPolicyPages.path, SLAPolicyPages.title, PageRoutes.configurations(SLAPolicyPages.path).url(), .admin(.manageSettings)),
        ("rules", "Rules", PageURL.rules.path, .admin(.manageRules)),
        ("templates", "Templates", PageRoutes.templates.url(), .admin(.manageRules)),
        ("outbox", "Outbox", PageURL.outbox(state: nil).path, .tenantWide(.manageSettings)),
        ("audit", "Audit log", PageURL.auditLog.path, .auditLog),
        ("view-as", "View as", PageRoutes.viewAs.url(), .viewAs),
    ]

    static func tabs(for principal: Principal, current: String) -> [Tab] {
        areas.filter { $0.need.allows(principal) }.map { Tab(name: $0.name, url: $0.path, current: $0.key == current) }
    }

    /// The layout and tabs of an admin page, after the permission check (a 403 page otherwise, as the API answers).
    static func begin(_ req: Request, _ title: String, tab: String, needs permission: AdminPermission, tenantWide: Bool = false) throws -> (
        Principal, PageLayout, [Tab]
    ) {
        let principal = try req.principal
        if tenantWide { try AccessPolicy.authorizeTenantWide(principal, permission) } else { try AccessPolicy.authorizeAdmin(principal, permission) }
        return (principal, req.pageLayout(title, section: "admin"), tabs(for: principal, current: tab))
    }

    /// Checkboxes posted as `name[]`; a struct so the shared template gets it as its whole context.
    struct Choices: Encodable, Sendable {
        var name: String
        var choices: [CoManagedSetupPage.Choice]
    }

    /// A checkbox as an HTML form posts it: present ("on" or a value) when ticked.
    static func ticked(_ value: String?) -> Bool {
        guard let value else { return false }
        return !value.isEmpty && value != "false" && value != "off"
    }
}

/// Names of co-managing users, teams and organizations for the admin pages.
enum AdminNames {
    struct User: Sendable {
        var name: String
        var username: String
        var organizationId: UUID
        var label: String { "\(name) (\(username))" }
    }

    static func users(_ ids: [UUID], on db: any Database) async throws -> [UUID: User] {
        guard !ids.isEmpty else { return [:] }
        let users = try await CoManagingUser.query(on: db).filter(\.$id ~~ Array(Set(ids))).all()
        let contacts = try await PageNames.of(Contact.self, ids: users.map(\.contactId), allowed: true, on: db) { $0.fullName }
        return Dictionary(
            users.map { ($0.id!, User(name: contacts[$0.contactId] ?? $0.username, username: $0.username, organizationId: $0.organizationId)) },
            uniquingKeysWith: { first, _ in first })
    }

    static func organizations(_ ids: [UUID], on db: any Database) async throws -> [UUID: String] {
        try await PageNames.of(Organization.self, ids: ids, allowed: true, on: db) { $0.name }
    }

    static func teams(_ ids: [UUID], on db: any Database) async throws -> [UUID: String] {
        try await PageNames.of(CoManagingTeam.self, ids: ids, allowed: true, on: db) { $0.name }
    }
}

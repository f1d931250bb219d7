import Foundation
import Testing
import VaporTesting

@testable import App

/// Page links are built from the routes `PagesRoutes` registers: every link `PageURL` can build
/// reaches a registered page (without a session it redirects to the login; an unknown path is a 404).
@Suite struct PageRouteTests {
    @Test func everyPageLinkReachesARegisteredPage() async throws {
        try await withApp { t in
            let id = UUID()
            let links: [PageURL] = [
                .login, .twoFactorSetup, .tickets, .newTicket(organizationId: nil), .newTicket(organizationId: id), .ticket(id), .organizations,
                .organization(id), .site(id), .coManagement, .coManagedSetup, .coManagedOrganization(id), .coManagingUsers, .newCoManagingUser,
                .coManagingUser(id, tab: nil), .coManagingUser(id, tab: "security"), .securityLevels, .securityLevel(id),
                .outbox(state: nil), .outbox(state: "failed"), .rules, .notificationSettings, .auditLog,
            ]
            for link in links {
                let reply = try await t.send(.GET, link.path, as: "")
                #expect(reply.status != .notFound, "\(link.path) is not a registered page")
            }
            for kind in [
                QueuePages.path, TeamPages.path, RolePages.path, InternalLocationPages.path, DepartmentPages.path, ResourcePages.path, CoManagingTeamPages.path,
                OrganizationGroupPages.path,
            ] {
                for path in [
                    PageRoutes.configurations(kind).url(), PageRoutes.newConfiguration(kind).url(), PageRoutes.configuration(kind).url(id),
                    PageRoutes.configurationDelete(kind).url(id),
                ] {
                    #expect(try await t.send(.GET, path, as: "").status != .notFound, "\(path) is not a registered page")
                }
            }
            #expect(PageRoutes.coManagingUserAction("erase").url(id) == "/admin/co-managing-users/\(id.uuidString)/erase")
            #expect(PageURL.coManagingUser(id, tab: "security").path == "/admin/co-managing-users/\(id.uuidString)?tab=security")
            expectStatus(try await t.send(.GET, "/tickets-not-a-page", as: ""), .notFound)
            // A query value comes back as written: "+" would be read as a space, "&" and "=" would split it.
            #expect(PageURL.with("/x", query: [("name", "Notepad++ & a=b")]) == "/x?name=Notepad%2B%2B%20%26%20a%3Db")
        }
    }
}

import TandemCore
import Vapor

/// Server-rendered pages. Each page is a Model (what it shows), a Query (how the model is
/// filled through the same services and access policy as the API) and a View (a Leaf template).
enum PagesRoutes {
    static func register(_ app: Application) {
        let pages = app.grouped(PageResponseMiddleware())
        pages.get("login", use: LoginPage.show)
        pages.post("login", use: LoginPage.submit)
        pages.get("login", "two-factor", use: TwoFactorSetupPage.show)
        pages.post("login", "two-factor", use: TwoFactorSetupPage.submit)

        let session = pages.grouped(PageSessionMiddleware(), CSRFMiddleware())
        session.get { req in req.seeOther(PageURL.tickets.path) }
        session.post("logout", use: LoginPage.logout)
        session.get("tickets", use: TicketListPage.show)
        session.get("tickets", "new", use: NewTicketPage.show)
        session.post("tickets", "new", use: NewTicketPage.submit)
        session.get("tickets", ":id", use: TicketDetailPage.show)
        session.post("tickets", ":id", "notes", use: TicketDetailPage.addNote)
        session.post("tickets", ":id", "time-entries", use: TicketDetailPage.addTimeEntry)
        session.on(.POST, "tickets", ":id", "attachments", body: .collect(maxSize: "11mb"), use: TicketDetailPage.addAttachment).uploadForm(maxBytes: 11 << 20)
        session.post("tickets", ":id", "status", use: TicketDetailPage.changeStatus)
        session.get("organizations", use: OrganizationListPage.show)
        session.get("organizations", ":id", use: OrganizationPage.show)
        session.get("sites", ":id", use: SitePage.show)
        ProfilePages.register(session)

        let admin = session.grouped("admin")
        admin.get { req in
            guard let first = try AdminPages.tabs(for: req.principal, current: "").first else {
                throw TandemError.forbidden("the admin pages need an administrative permission")
            }
            return req.seeOther(first.url)
        }
        admin.get("co-management", use: CoManagementAdminPage.show)
        admin.post("co-management", "activate", use: CoManagementAdminPage.activate)
        admin.post("co-management", "settings", use: CoManagementAdminPage.saveSettings)
        admin.post("co-management", "deactivate", use: CoManagementAdminPage.deactivate)
        admin.get("co-management", "organizations", use: CoManagedSetupPage.list)
        admin.get("co-management", "organizations", ":id", use: CoManagedSetupPage.edit)
        admin.post("co-management", "organizations", ":id", use: CoManagedSetupPage.save)
        admin.get("co-managing-users", use: CoManagingUserListPage.show)
        admin.get("co-managing-users", "new", use: NewCoManagingUserPage.show)
        admin.post("co-managing-users", "new", use: NewCoManagingUserPage.submit)
        admin.get("co-managing-users", ":id", use: CoManagingUserPage.show)
        admin.post("co-managing-users", ":id", "general", use: CoManagingUserPage.saveGeneral)
        admin.post("co-managing-users", ":id", "security", use: CoManagingUserPage.saveSecurity)
        admin.post("co-managing-users", ":id", "totp-pause", use: CoManagingUserPage.pause)
        admin.post("co-managing-users", ":id", "access", use: CoManagingUserPage.saveAccess)
        admin.post("co-managing-users", ":id", "status", use: CoManagingUserPage.saveStatus)
        admin.post("co-managing-users", ":id", "erase", use: CoManagingUserPage.erase)
        admin.get("security-levels", use: SecurityLevelPages.list)
        admin.post("security-levels", use: SecurityLevelPages.copy)
        admin.get("security-levels", ":id", use: SecurityLevelPages.show)
    }
}

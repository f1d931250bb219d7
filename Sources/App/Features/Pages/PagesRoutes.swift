import Vapor

/// Server-rendered pages. Each page is a Model (what it shows), a Query (how the model is
/// filled through the same services and access policy as the API) and a View (a Leaf template).
enum PagesRoutes {
    static func register(_ app: Application) {
        let pages = app.grouped(PageResponseMiddleware())
        pages.get("login", use: LoginPage.show)
        pages.post("login", use: LoginPage.submit)

        let session = pages.grouped(PageSessionMiddleware(), CSRFMiddleware())
        session.get { req in req.seeOther(PageURL.tickets.path) }
        session.post("logout", use: LoginPage.logout)
        session.get("tickets", use: TicketListPage.show)
        session.get("tickets", "new", use: NewTicketPage.show)
        session.post("tickets", "new", use: NewTicketPage.submit)
        session.get("tickets", ":id", use: TicketDetailPage.show)
        session.post("tickets", ":id", "notes", use: TicketDetailPage.addNote)
        session.post("tickets", ":id", "status", use: TicketDetailPage.changeStatus)
        session.get("organizations", use: OrganizationListPage.show)
        session.get("organizations", ":id", use: OrganizationPage.show)
        session.get("sites", ":id", use: SitePage.show)
    }
}

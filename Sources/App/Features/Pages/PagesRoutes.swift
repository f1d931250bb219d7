import TandemCore
import Vapor

/// Server-rendered pages. Each page is a Model (what it shows), a Query (how the model is
/// filled through the same services and access policy as the API) and a View (a Leaf template).
enum PagesRoutes {
    static func register(_ app: Application) {
        let pages = app.grouped(PageResponseMiddleware())
        pages.get(PageRoutes.login.pathComponents, use: LoginPage.show)
        pages.post(PageRoutes.login.pathComponents, use: LoginPage.submit)
        pages.get(PageRoutes.twoFactorSetup.pathComponents, use: TwoFactorSetupPage.show)
        pages.post(PageRoutes.twoFactorSetup.pathComponents, use: TwoFactorSetupPage.submit)
        pages.get(PageRoutes.approval.pathComponents, use: ApproverPage.show)
        pages.post(PageRoutes.approval.pathComponents, use: ApproverPage.submit)

        // A view-as session is read-only: `ViewAsMiddleware` refuses its writes before any form is read.
        let session = pages.grouped(PageSessionMiddleware(), ViewAsMiddleware(), CSRFMiddleware())
        session.get { req in req.seeOther(PageURL.tickets.path) }
        session.post(PageRoutes.logout.pathComponents, use: LoginPage.logout)
        session.get(PageRoutes.tickets.pathComponents, use: TicketListPage.show)
        session.get(PageRoutes.newTicket.pathComponents, use: NewTicketPage.show)
        session.post(PageRoutes.newTicket.pathComponents, use: NewTicketPage.submit)
        session.get(PageRoutes.ticket.pathComponents, use: TicketDetailPage.show)
        session.post(PageRoutes.ticketNotes.pathComponents, use: TicketDetailPage.addNote)
        session.post(PageRoutes.ticketTimeEntries.pathComponents, use: TicketDetailPage.addTimeEntry)
        session.on(.POST, PageRoutes.ticketAttachments.pathComponents, body: .collect(maxSize: "11mb"), use: TicketDetailPage.addAttachment).uploadForm(
            maxBytes: 11 << 20)
        session.post(PageRoutes.ticketEdit.pathComponents, use: TicketDetailPage.edit)
        session.post(PageRoutes.ticketAction.pathComponents, use: TicketDetailPage.runAction)
        session.post(PageRoutes.ticketHandoff.pathComponents, use: SLAPanel.handOff)
        SecurityRequestPanel.register(session)
        session.get(PageRoutes.organizations.pathComponents, use: OrganizationListPage.show)
        session.get(PageRoutes.organization.pathComponents, use: OrganizationPage.show)
        session.get(PageRoutes.site.pathComponents, use: SitePage.show)
        session.get(PageRoutes.organizationAuditExport.pathComponents, use: AuditExport.download)
        AccountTeamPanel.register(session)
        ProfilePages.register(session)

        session.get(PageRoutes.admin.pathComponents) { req in
            guard let first = try AdminPages.tabs(for: req.principal, current: "").first else {
                throw TandemError.forbidden("the admin pages need an administrative permission")
            }
            return req.seeOther(first.url)
        }
        session.get(PageRoutes.coManagement.pathComponents, use: CoManagementAdminPage.show)
        session.post(PageRoutes.coManagementActivate.pathComponents, use: CoManagementAdminPage.activate)
        session.post(PageRoutes.coManagementSettings.pathComponents, use: CoManagementAdminPage.saveSettings)
        session.post(PageRoutes.coManagementDeactivate.pathComponents, use: CoManagementAdminPage.deactivate)
        session.get(PageRoutes.coManagedSetup.pathComponents, use: CoManagedSetupPage.list)
        session.get(PageRoutes.coManagedOrganization.pathComponents, use: CoManagedSetupPage.edit)
        session.post(PageRoutes.coManagedOrganization.pathComponents, use: CoManagedSetupPage.save)
        session.get(PageRoutes.coManagingUsers.pathComponents, use: CoManagingUserListPage.show)
        session.get(PageRoutes.newCoManagingUser.pathComponents, use: NewCoManagingUserPage.show)
        session.post(PageRoutes.newCoManagingUser.pathComponents, use: NewCoManagingUserPage.submit)
        session.get(PageRoutes.coManagingUser.pathComponents, use: CoManagingUserPage.show)
        session.post(PageRoutes.coManagingUserAction("general").pathComponents, use: CoManagingUserPage.saveGeneral)
        session.post(PageRoutes.coManagingUserAction("security").pathComponents, use: CoManagingUserPage.saveSecurity)
        session.post(PageRoutes.coManagingUserAction("totp-pause").pathComponents, use: CoManagingUserPage.pause)
        session.post(PageRoutes.coManagingUserAction("access").pathComponents, use: CoManagingUserPage.saveAccess)
        session.post(PageRoutes.coManagingUserAction("group-override").pathComponents, use: CoManagingUserPage.saveGroupOverride)
        session.post(PageRoutes.coManagingUserAction("status").pathComponents, use: CoManagingUserPage.saveStatus)
        session.post(PageRoutes.coManagingUserAction("erase").pathComponents, use: CoManagingUserPage.erase)
        session.get(PageRoutes.securityLevels.pathComponents, use: SecurityLevelPages.list)
        session.post(PageRoutes.securityLevels.pathComponents, use: SecurityLevelPages.copy)
        session.get(PageRoutes.securityLevel.pathComponents, use: SecurityLevelPages.show)
        session.get(PageRoutes.securityLevelEdit.pathComponents, use: SecurityLevelEditPage.show)
        session.post(PageRoutes.securityLevelEdit.pathComponents, use: SecurityLevelEditPage.save)
        ConfigurationPages.register(session)
        SLAPolicyPages.register(session)
        session.get(PageRoutes.outbox.pathComponents, use: OutboxPages.show)
        session.post(PageRoutes.outboxRetry.pathComponents, use: OutboxPages.retry)
        session.get(PageRoutes.auditLog.pathComponents, use: AuditLogPage.show)
        RulePages.register(session)
        TemplatePages.register(session)
        SiteNotificationRulePage.register(session)
        SiteSecurityPage.register(session)
        SoftwareApprovalsPage.register(session)
        PasswordPages.register(session)
        SiteNetworkPage.register(session)
        ReferencePages.register(session)
        TimesheetPage.register(session)
        BlockHoursPage.register(session)
        session.get(PageRoutes.notificationSettings.pathComponents, use: NotificationSettingsPage.show)
        session.get(PageRoutes.identify.pathComponents, use: IdentifyPage.show)
        session.get(PageRoutes.reports.pathComponents, use: ReportListPage.show)
        session.get(PageRoutes.organizationReport.pathComponents, use: OrganizationReportPage.show)
        session.post(PageRoutes.notificationSettings.pathComponents, use: NotificationSettingsPage.save)
        session.get(PageRoutes.people.pathComponents, use: PeoplePage.show)
        session.get(PageRoutes.portalTickets.pathComponents) { req in req.seeOther(PageURL.tickets.path) }
        session.get(PageRoutes.portalTicket.pathComponents) { req in req.seeOther(PageURL.ticket(try req.id("id", TicketService.what)).path) }
        ViewAsPages.register(session)
    }
}

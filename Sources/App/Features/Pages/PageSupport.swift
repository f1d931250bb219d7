import Crypto
import Fluent
import Foundation
import TandemCore
import Vapor

/// Links to pages, built in one place so handlers and templates agree on paths.
/// A page's path pattern, declared once: `PagesRoutes` registers it and `url` builds its links, so
/// a link can only point at a registered page. `:id` segments take the ids given to `url`, in order.
struct PageRoute: Sendable {
    let segments: [String]

    init(_ segments: String...) { self.segments = segments }

    var pathComponents: [PathComponent] { segments.map { PathComponent(stringLiteral: $0) } }

    func url(_ ids: UUID...) -> String {
        url(texts: ids.map(\.uuidString))
    }

    /// With the id of a DTO (already its text).
    func url(_ id: String) -> String {
        url(texts: [id])
    }

    func url(texts: [String]) -> String {
        var next = texts.makeIterator()
        return "/" + segments.map { $0.hasPrefix(":") ? next.next() ?? $0 : $0 }.joined(separator: "/")
    }
}

/// Every page's route.
enum PageRoutes {
    static let login = PageRoute("login"), twoFactorSetup = PageRoute("login", "two-factor"), logout = PageRoute("logout")
    static let tickets = PageRoute("tickets"), newTicket = PageRoute("tickets", "new"), ticket = PageRoute("tickets", ":id")
    static let ticketNotes = PageRoute("tickets", ":id", "notes"), ticketTimeEntries = PageRoute("tickets", ":id", "time-entries")
    static let ticketAttachments = PageRoute("tickets", ":id", "attachments"), ticketEdit = PageRoute("tickets", ":id", "edit")
    static let ticketAction = PageRoute("tickets", ":id", "actions", ":actionId")
    static let ticketHandoff = PageRoute("tickets", ":id", "handoff")
    static let ticketSecurityRequests = PageRoute("tickets", ":id", "security-requests")
    /// `:step` is verify, resend, unanswered, escalate or decide.
    static let ticketSecurityRequestStep = PageRoute("tickets", ":id", "security-requests", ":requestId", ":step")
    /// The approver's page: no session, the one-time code is the approver's proof.
    static let approval = PageRoute("approvals", ":id")
    static let organizations = PageRoute("organizations"), organization = PageRoute("organizations", ":id"), site = PageRoute("sites", ":id")
    static let siteProfiles = PageRoute("sites", ":id", "profiles"), newSiteProfile = PageRoute("sites", ":id", "profiles", "new")
    static let siteProfilesExport = PageRoute("sites", ":id", "profiles", "export"), siteProfilesImport = PageRoute("sites", ":id", "profiles", "import")
    static let profileTemplate = PageRoute("profiles", "template"), profile = PageRoute("profiles", ":id")
    static let profileDelete = PageRoute("profiles", ":id", "delete")
    static let accountTeam = PageRoute("organizations", ":id", "account-team"), accountManager = PageRoute("organizations", ":id", "account-team", "manager")
    static let accountTeamMemberRemove = PageRoute("organizations", ":id", "account-team", ":memberId", "remove")
    static let admin = PageRoute("admin")
    static let coManagement = PageRoute("admin", "co-management"), coManagementActivate = PageRoute("admin", "co-management", "activate")
    static let coManagementSettings = PageRoute("admin", "co-management", "settings")
    static let coManagementDeactivate = PageRoute("admin", "co-management", "deactivate")
    static let coManagedSetup = PageRoute("admin", "co-management", "organizations")
    static let coManagedOrganization = PageRoute("admin", "co-management", "organizations", ":id")
    static let coManagingUsers = PageRoute("admin", "co-managing-users"), newCoManagingUser = PageRoute("admin", "co-managing-users", "new")
    static let coManagingUser = PageRoute("admin", "co-managing-users", ":id")
    static func coManagingUserAction(_ action: String) -> PageRoute { PageRoute("admin", "co-managing-users", ":id", action) }
    static let securityLevels = PageRoute("admin", "security-levels"), securityLevel = PageRoute("admin", "security-levels", ":id")
    static let securityLevelEdit = PageRoute("admin", "security-levels", ":id", "edit")
    static let outbox = PageRoute("admin", "outbox"), outboxRetry = PageRoute("admin", "outbox", ":id", "retry")
    static let auditLog = PageRoute("admin", "audit"), organizationAuditExport = PageRoute("organizations", ":id", "audit-export")
    static let rules = PageRoute("admin", "rules")
    /// `kind` is a list's path: `ticket-rules`, `workflow-rules` or `ticket-actions`.
    static func newRule(_ kind: String) -> PageRoute { PageRoute("admin", "rules", kind, "new") }
    static func rule(_ kind: String) -> PageRoute { PageRoute("admin", "rules", kind, ":id") }
    static func ruleAction(_ kind: String, _ action: String) -> PageRoute { PageRoute("admin", "rules", kind, ":id", action) }
    /// `kind` is a configuration collection's page path: `queues`, `teams`, `roles`, `internal-locations`, `departments`,
    /// `resources` or `co-managing-teams`.
    static func configurations(_ kind: String) -> PageRoute { PageRoute("admin", kind) }
    static func newConfiguration(_ kind: String) -> PageRoute { PageRoute("admin", kind, "new") }
    static func configuration(_ kind: String) -> PageRoute { PageRoute("admin", kind, ":id") }
    static func configurationDelete(_ kind: String) -> PageRoute { PageRoute("admin", kind, ":id", "delete") }
    static let teamMembers = PageRoute("admin", "teams", ":id", "members")
    static let resourceReactivate = PageRoute("admin", "resources", ":id", "reactivate")
    static let teamMember = PageRoute("admin", "teams", ":id", "members", ":memberId")
    static let teamMemberRemove = PageRoute("admin", "teams", ":id", "members", ":memberId", "remove")
    static let departmentMembers = PageRoute("admin", "departments", ":id", "members")
    static let departmentMemberRemove = PageRoute("admin", "departments", ":id", "members", ":memberId", "remove")
    static let notificationSettings = PageRoute("settings", "notifications")
    static let identify = PageRoute("identify")
    static let templates = PageRoute("admin", "templates")
    static let siteNotificationRule = PageRoute("sites", ":id", "notification-rule")
    static let siteSecurityRequests = PageRoute("sites", ":id", "security-requests")
    static let siteNetwork = PageRoute("sites", ":id", "network")
    static let references = PageRoute("references"), siteReferences = PageRoute("sites", ":id", "references")
    static let reference = PageRoute("references", ":id"), referenceDelete = PageRoute("references", ":id", "delete")
    static let timesheets = PageRoute("timesheets")
    static func timesheetAction(_ action: String) -> PageRoute { PageRoute("timesheets", action) }
    static let timesheetExpenses = PageRoute("timesheets", "expenses")
    static let timesheetExpenseDelete = PageRoute("timesheets", "expenses", ":id", "delete")
    static let organizationBlockHours = PageRoute("organizations", ":id", "block-hours")
    static let organizationBlockHoursDelete = PageRoute("organizations", ":id", "block-hours", ":contractId", "delete")
    static let organizationBlockHoursContract = PageRoute("organizations", ":id", "block-hours", ":contractId")
    static let siteSoftwareApprovals = PageRoute("sites", ":id", "software-approvals")
    static let siteSoftwareApprovalRemove = PageRoute("sites", ":id", "software-approvals", "remove")
    static let sitePasswords = PageRoute("sites", ":id", "passwords"), credential = PageRoute("credentials", ":id")
    static let credentialReveal = PageRoute("credentials", ":id", "reveal"), credentialDelete = PageRoute("credentials", ":id", "delete")
    static let template = PageRoute("admin", "templates", ":kind")
    static let templateReset = PageRoute("admin", "templates", ":kind", "reset")
    static let people = PageRoute("people")
    static let reports = PageRoute("reports"), organizationReport = PageRoute("reports", "organizations", ":id")
    /// Where mail sends contacts (`NotificationFanOut`): the portal is the ticket pages, so these lead there.
    static let portalTickets = PageRoute("portal", "tickets"), portalTicket = PageRoute("portal", "tickets", ":id")
    static let viewAs = PageRoute("admin", "view-as"), viewAsStop = PageRoute("view-as", "stop")
}

/// Links to pages, built from their routes.
enum PageURL {
    case login, twoFactorSetup
    case tickets, newTicket(organizationId: UUID?), ticket(UUID)
    case organizations, organization(UUID), site(UUID)
    case coManagement, coManagedSetup, coManagedOrganization(UUID)
    case coManagingUsers, newCoManagingUser, coManagingUser(UUID, tab: String?)
    case securityLevels, securityLevel(UUID)
    case outbox(state: String?), rules, notificationSettings, auditLog

    var path: String {
        switch self {
        case .login: PageRoutes.login.url()
        case .twoFactorSetup: PageRoutes.twoFactorSetup.url()
        case .coManagement: PageRoutes.coManagement.url()
        case .coManagedSetup: PageRoutes.coManagedSetup.url()
        case .coManagedOrganization(let id): PageRoutes.coManagedOrganization.url(id)
        case .coManagingUsers: PageRoutes.coManagingUsers.url()
        case .newCoManagingUser: PageRoutes.newCoManagingUser.url()
        case .coManagingUser(let id, let tab): Self.with(PageRoutes.coManagingUser.url(id), query: [("tab", tab)])
        case .securityLevels: PageRoutes.securityLevels.url()
        case .securityLevel(let id): PageRoutes.securityLevel.url(id)
        case .outbox(let state): Self.with(PageRoutes.outbox.url(), query: [("state", state)])
        case .rules: PageRoutes.rules.url()
        case .auditLog: PageRoutes.auditLog.url()
        case .notificationSettings: PageRoutes.notificationSettings.url()
        case .tickets: PageRoutes.tickets.url()
        case .newTicket(let organizationId): Self.with(PageRoutes.newTicket.url(), query: [("organizationId", organizationId?.uuidString)])
        case .ticket(let id): PageRoutes.ticket.url(id)
        case .organizations: PageRoutes.organizations.url()
        case .organization(let id): PageRoutes.organization.url(id)
        case .site(let id): PageRoutes.site.url(id)
        }
    }

    /// `path` with a query string; empty values are left out so links stay short.
    static func with(_ path: String, query: [(String, String?)]) -> String {
        var components = URLComponents()
        components.path = path
        // "+" is encoded too: a server reads it in a query as a space (Notepad++ would come back as "Notepad  ").
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "+&=")
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        let items = query.compactMap { name, value in
            value.flatMap { $0.isEmpty ? nil : URLQueryItem(name: encoded(name), value: encoded($0)) }
        }
        components.percentEncodedQueryItems = items.isEmpty ? nil : items
        return components.string ?? path
    }
}

/// What the layout around every page shows.
struct PageLayout: Encodable, Sendable {
    var title: String
    /// The navigation entry to mark as current: "tickets", "new", "organizations" or "".
    var section: String
    var user: String?
    /// The logout form's CSRF token.
    var csrf: String?
    var canOpenTickets: Bool
    /// The first admin page the principal may open; nil hides the Admin entry.
    var adminURL: String? = nil
    /// The signed-in person's notification settings page.
    var settingsURL: String? = nil
    /// Caller identification, for those who take calls.
    var identifyURL: String? = nil
    /// References, for those whose level reads documentation.
    var referencesURL: String? = nil
    /// The signed-in person's timesheet, for those who log time (MSP staff and co-managing users).
    var timesheetURL: String? = nil
    /// Organization reports, for those whose level views reports (`AccessPolicy.reportRights`).
    var reportsURL: String? = nil
    /// While an administrator views as someone: who, for the read-only banner.
    var viewingAs: String? = nil
    /// The zone the page shows times in and reads typed times in (`Request.pageZone`).
    var zone: PageZone = .utc
}

/// The form fields' problems, as a summary and per field, with the user's words kept elsewhere.
struct FormFeedback: Encodable, Sendable {
    var summary: [String]
    var fields: [String: String]

    static let labels = [
        "title": "Title", "description": "Description", "organizationId": "Organization", "siteId": "Site",
        "contactId": "Contact", "queueId": "Queue", "priority": "Priority", "source": "Source", "body": "Reply",
        "publishTo": "Visible to", "status": "Status", "username": "Username", "password": "Password",
        "securityLevelId": "Security level", "queueIds": "Queues", "roleIds": "Roles", "contact.firstName": "First name",
        "contact.lastName": "Last name", "contact.email": "Primary email", "contact.siteId": "Site", "internalLocationId": "Internal location",
        "timesheetStart": "Timesheet start", "coManagingUserIds": "Co-managing users", "coManagingTeamIds": "Co-managing teams",
        "name": "Name", "copyOf": "Copy from", "code": "Code", "permissions.admin": "Permissions", "enabled": "Enabled", "active": "Active",
        "actor": "Actor", "kind": "Kind", "action": "Action", "from": "From", "to": "To", "format": "Format",
        "secret": "Password", "url": "URL", "notes": "Notes", "deviceId": "Linked device",
        "date": "Date", "category": "Category", "amount": "Amount", "distance": "Distance", "mileageRate": "Mileage rate", "ticketNumber": "Ticket",
    ]

    init(summary: [String], fields: [String: String] = [:]) {
        self.summary = summary
        self.fields = fields
    }

    init(message: String) {
        self.init(summary: [message])
    }

    init(_ error: TandemError) {
        switch error {
        case .validation(let errors):
            summary = errors.map { Self.sentence(Self.labels[$0.field] ?? $0.field, $0.message) }
            fields = Dictionary(errors.map { ($0.field, Self.sentence("", $0.message)) }, uniquingKeysWith: { first, _ in first })
        default:
            summary = [PageErrors.describe(error).message]
            fields = [:]
        }
    }

    static func sentence(_ label: String, _ message: String) -> String {
        // "Title must not be empty" reads well; "Status: a ticket cannot go…" needs the colon.
        let joins = ["must ", "is ", "'", "cannot ", "can "].contains { message.hasPrefix($0) }
        let text = label.isEmpty ? message : joins ? "\(label) \(message)" : "\(label): \(message)"
        let capitalized = text.prefix(1).uppercased() + text.dropFirst()
        return capitalized.hasSuffix(".") ? capitalized : capitalized + "."
    }
}

/// CSRF tokens: derived from the session secret for logged-in forms, a double-submit cookie for login.
enum CSRF {
    static let field = "_csrf"
    static let loginCookie = "tandem_csrf"

    static func token(forSession secret: String) -> String {
        SHA256.hash(data: Data(("csrf:" + secret).utf8)).hex
    }

    /// Compares in constant time, so the token cannot be guessed byte by byte.
    static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given, !expected.isEmpty else { return false }
        return ConstantTime.equals(given, expected)
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.hex
    }
}

extension Request {
    /// The layout for a page; the user part is empty on the login page.
    func pageLayout(_ title: String, section: String = "") -> PageLayout {
        guard let authenticated else { return PageLayout(title: title, section: section, user: nil, csrf: nil, canOpenTickets: false, zone: pageZone) }
        let principal = authenticated.principal
        // While viewing as someone, only the pages a view shows are linked (`ViewAs.readOnlyRoutes`).
        let viewing = viewAs != nil
        return PageLayout(
            title: title, section: section, user: principal.displayName, csrf: CSRF.token(forSession: authenticated.secret),
            canOpenTickets: !viewing && AccessPolicy.mayOpenTickets(principal),
            adminURL: viewing ? nil : AdminPages.tabs(for: principal, current: "").first?.url,
            settingsURL: viewing ? nil : PageURL.notificationSettings.path,
            identifyURL: !viewing && AccessPolicy.takesCalls(principal) ? PageRoutes.identify.url() : nil,
            referencesURL: !viewing && AccessPolicy.referenceScope(for: principal, .view) != .none ? PageRoutes.references.url() : nil,
            timesheetURL: !viewing && AccessPolicy.worksTickets(principal) ? PageRoutes.timesheets.url() : nil,
            reportsURL: !viewing && AccessPolicy.reportRights(for: principal).any ? PageRoutes.reports.url() : nil,
            viewingAs: viewAs.map { "\($0.viewed.displayName) (\(PeopleDirectory.kindName($0.viewed.kind)))" }, zone: pageZone)
    }

    func renderPage(_ view: String, _ model: some Encodable & Sendable, status: HTTPStatus = .ok) async throws -> Response {
        try await self.view.render(view, model).encodeResponse(status: status, for: self)
    }

    /// After a successful POST: 303, so reloading the next page does not resubmit the form. Every page
    /// redirect goes here, and only to a path on this site: anything else goes to the ticket list.
    func seeOther(_ location: String) -> Response {
        guard let path = SafeRedirect.path(location) else {
            logger.warning("refused a redirect off the site", metadata: ["location": .string(location)])
            return redirect(to: PageURL.tickets.path, redirectType: .normal)
        }
        return redirect(to: path, redirectType: .normal)
    }
}

/// Display helpers shared by the page models.
enum PageFormat {
    /// "6 Dec 2026, 09:30 EST": the time in the reader's zone (`Request.pageZone`).
    static func date(_ date: Date?, in zone: PageZone) -> String {
        date.map(zone.format) ?? ""
    }

    static func isoDate(_ date: Date?) -> String {
        guard let date else { return "" }
        return ISO8601DateFormatter().string(from: date)
    }

    static func publishTo(_ raw: String) -> String {
        switch PublishTo(rawValue: raw) {
        case .internal: "Internal"
        case .internalAndCoManaged: "Internal & co-managed"
        case .all: "All"
        case nil: raw
        }
    }

    static func publishToHelp(_ value: PublishTo) -> String {
        switch value {
        case .internal: "Internal (MSP staff only)"
        case .internalAndCoManaged: "Internal & co-managed (MSP and the client's IT)"
        case .all: "All (also the contact)"
        }
    }

    /// "United States (US)"; the code alone when the platform has no name for it.
    static func country(_ code: String) -> String {
        Locale(identifier: "en_US").localizedString(forRegionCode: code).map { "\($0) (\(code))" } ?? code
    }

    static func status(_ raw: String) -> String { TicketStatus(rawValue: raw)?.label ?? raw }

    static func priority(_ raw: String) -> String { raw.prefix(1).uppercased() + raw.dropFirst() }

    static func source(_ raw: String) -> String {
        switch SourceChannel(rawValue: raw) {
        case .api: "API"
        case nil: raw
        default: raw.prefix(1).uppercased() + raw.dropFirst()
        }
    }

    static func minutes(_ minutes: Int) -> String {
        minutes < 60 ? "\(minutes) min" : minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
    }

    static func bytes(_ count: Int) -> String {
        count < 1024 ? "\(count) B" : count < 1024 * 1024 ? "\(count / 1024) KB" : String(format: "%.1f MB", Double(count) / 1_048_576)
    }
}

/// An option of a `<select>`.
struct SelectOption: Encodable, Sendable {
    var value: String
    var label: String
    var selected: Bool
}

/// A short ticket row, as the list, organization and site pages show it.
struct TicketRow: Encodable, Sendable {
    var url: String
    var number: String
    var title: String
    var organization: String
    var status: String
    var statusKey: String
    var priority: String
    var priorityKey: String
    var updated: String
    var updatedISO: String

    static func rows(_ tickets: [TicketDTO], zone: PageZone, on db: any Database) async throws -> [TicketRow] {
        let ids = Set(tickets.compactMap { UUID(uuidString: $0.organizationId) })
        let names =
            ids.isEmpty
            ? [:]
            : Dictionary(
                try await Organization.query(on: db).filter(\.$id ~~ Array(ids)).all().map { ($0.id!.uuidString, $0.name) },
                uniquingKeysWith: { first, _ in first })
        return tickets.map { ticket in
            let when = ticket.updatedAt ?? ticket.createdAt
            return TicketRow(
                url: PageRoutes.ticket.url(ticket.id), number: "#\(ticket.number)", title: ticket.title,
                organization: names[ticket.organizationId] ?? "", status: PageFormat.status(ticket.status), statusKey: ticket.status,
                priority: PageFormat.priority(ticket.priority), priorityKey: ticket.priority,
                updated: PageFormat.date(when, in: zone), updatedISO: PageFormat.isoDate(when))
        }
    }
}

/// Names of rows by id, for showing what a page's rows point at.
enum PageNames {
    /// Empty unless `allowed`: the caller asks the access policy first.
    static func of<M: FluentKit.Model>(_ type: M.Type, ids: [UUID], allowed: Bool, on db: any Database, _ name: @escaping (M) -> String) async throws -> [UUID:
        String]
    where M.IDValue == UUID {
        guard allowed, !ids.isEmpty else { return [:] }
        return Dictionary(try await M.query(on: db).filter(\._$id ~~ Array(Set(ids))).all().map { ($0.id!, name($0)) }, uniquingKeysWith: { first, _ in first })
    }
}

extension String {
    /// Nil for the empty string, so `?? "None"` reads naturally.
    var nonEmpty: String? { isEmpty ? nil : self }
}

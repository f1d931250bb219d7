import Fluent
import Foundation
import TandemCore
import Vapor

/// `/organizations`: the organizations the principal can see, by name, with their sites.
enum OrganizationListPage {
    static let view = "organizations/list"
    static let pageSize = 50

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var organizations: [Row]
        var nextURL: String?
        var firstURL: String?
    }

    struct Row: Encodable, Sendable {
        var name: String
        var url: String
        var sites: [PageLink]
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let after = req.queryText("after").flatMap { $0.isEmpty ? nil : $0 }
        let model = try await query(after: after, principal: req.principal, layout: req.pageLayout("Organizations", section: "organizations"), on: req.db)
        return try await req.renderPage(view, model)
    }

    /// Pages by name (names are unique), so the list reads alphabetically however many there are.
    static func query(after: String?, principal: Principal, layout: PageLayout, on db: any Database) async throws -> Model {
        let scope = AccessPolicy.organizationScope(for: principal, area: .organizations, .view)
        var rows: [Organization] = []
        if scope != .none {
            var query = Organization.query(on: db).filter(scope, on: Organization.scopeTable)
            if let after { query = query.filter(\.$name > after) }
            rows = try await query.sort(\.$name).limit(pageSize + 1).all()
        }
        let organizations = Array(rows.prefix(pageSize))
        let sites = try await OrganizationPage.sites(of: organizations.compactMap(\.id), principal: principal, on: db)
        return Model(
            layout: layout,
            organizations: organizations.map { organization in
                Row(
                    name: organization.name, url: PageURL.organization(organization.id!).path,
                    sites: sites.filter { $0.organizationId == organization.id }.map { PageLink(name: $0.name, url: PageURL.site($0.id!).path) })
            },
            nextURL: rows.count > pageSize ? organizations.last.map { PageURL.with(PageURL.organizations.path, query: [("after", $0.name)]) } : nil,
            firstURL: after == nil ? nil : PageURL.organizations.path)
    }
}

/// `/organizations/:id`: an organization's sites, contacts and open tickets.
enum OrganizationPage {
    static let view = "organizations/detail"
    static let maxRows = 200

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var name: String
        var sites: [SiteRow]
        var contacts: [ContactRow]?
        var contactsTruncated: Bool
        var showSite = true
        var tickets: [TicketRow]
        var openTotal: String
        var allOpenURL: String
        var newTicketURL: String?
        /// The organization's audit export, for those `AccessPolicy.auditExport` lets download it.
        var auditExportURL: String?
        /// The organization's block-hour contracts, for those who see its billing.
        var blockHoursURL: String? = nil
        /// The account manager and account team, for those who may read them.
        var accountTeam: AccountTeamPanel.Model? = nil
        var notice: String? = nil
        /// "Explain access", for admins.
        var explain: RowAccessPanel.Panel? = nil
        /// Its organization group, for those who read the groups.
        var group: GroupPanel? = nil
    }

    struct GroupPanel: Encodable, Sendable {
        var name: String?
        var url: String?
        /// The other organizations in the group the viewer may see, by name.
        var others: String
    }

    /// The organization's group (the customer group override), or nil when the principal does not read groups.
    static func groupPanel(_ id: UUID, principal: Principal, on db: any Database) async throws -> GroupPanel? {
        guard (try? AccessPolicy.authorizeConfiguration(principal, .organizationGroups, .view)) != nil else { return nil }
        guard let group = try await OrganizationGroups.group(of: id, on: db) else { return GroupPanel(name: nil, url: nil, others: "") }
        let others = try await OrganizationGroups.visibleOrganizations(OrganizationGroups.peers(of: id, on: db), to: principal, on: db)
        return GroupPanel(
            name: group.name, url: PageRoutes.configuration(OrganizationGroupPages.path).url(group.id!),
            others: try await AdminNames.organizations(Array(others), on: db).values.sorted().joined(separator: ", "))
    }

    struct SiteRow: Encodable, Sendable {
        var name: String
        var url: String
        var country: String
        var address: String?
    }

    struct ContactRow: Encodable, Sendable {
        var name: String
        var email: String?
        var phone: String?
        var site: String?
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        try await render(req, try req.id("id", "organization"), notice: req.queryText("notice").flatMap { AccountTeamPanel.notices[$0] })
    }

    /// The page; `accountTeam` replaces the account team panel (a refused change, with its problems).
    static func render(
        _ req: Request, _ id: UUID, accountTeam: AccountTeamPanel.Model? = nil, notice: String? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let layout = req.pageLayout("Organization", section: "organizations")
        var model = try await query(id, principal: principal, layout: layout, on: req.db)
        if let accountTeam {
            model.accountTeam = accountTeam
        } else if let organization = try await Organization.find(id, on: req.db) {
            model.accountTeam = try await AccountTeamPanel.model(organization, by: principal, csrf: layout.csrf, on: req.db)
        }
        model.notice = notice
        model.group = try await groupPanel(id, principal: principal, on: req.db)
        model.explain = try await RowAccessPanel.explain(
            area: .organizations, rowId: id, organizationId: id, action: PageURL.organization(id).path, subject: req.queryText("explain"),
            viewer: principal, on: req.db)
        return try await req.renderPage(view, model, status: status)
    }

    static func query(_ id: UUID, principal: Principal, layout: PageLayout, on db: any Database) async throws -> Model {
        let organization = try await Lookup.visible(
            Organization.self, id, scope: AccessPolicy.organizationScope(for: principal, area: .organizations, .view),
            table: Organization.scopeTable, what: "organization", on: db)
        let sites = try await sites(of: [id], principal: principal, on: db)
        let siteNames = Dictionary(sites.map { ($0.id!, $0.name) }, uniquingKeysWith: { first, _ in first })
        let contacts = try await contacts(principal: principal, on: db) { $0.filter(\.$organizationId == id) }

        var filter = TicketFilter()
        filter.organizationId = id
        filter.statuses = TicketStatus.allCases.filter(\.isOpen)
        let open = try await TicketService.list(filter, page: PageRequest(limit: 25), by: principal, on: db)
        let openTotal = try await TicketService.count(filter, by: principal, on: db)

        var model = Model(
            layout: layout, name: organization.name,
            sites: sites.map { SiteRow(name: $0.name, url: PageURL.site($0.id!).path, country: PageFormat.country($0.country), address: $0.address) },
            contacts: contacts.map { $0.map { ContactRow($0, siteNames: siteNames) } },
            contactsTruncated: (contacts?.count ?? 0) >= maxRows,
            tickets: try await TicketRow.rows(open.items, zone: layout.zone, on: db),
            openTotal: openTotal == 1 ? "1 open ticket" : "\(openTotal) open tickets",
            allOpenURL: PageURL.with(PageURL.tickets.path, query: [("organizationId", id.uuidString), ("status", "open")]),
            newTicketURL: (try? AccessPolicy.authorizeTicketCreation(principal, organizationId: id)) != nil
                ? PageURL.newTicket(organizationId: id).path : nil,
            auditExportURL: AccessPolicy.auditExport(for: principal).allows(organizationId: id) ? PageRoutes.organizationAuditExport.url(id) : nil)
        model.layout.title = organization.name
        if AccessPolicy.blockHourContractScope(for: principal).evaluate(ScopeFacts(values: [.organization: id])) {
            model.blockHoursURL = PageRoutes.organizationBlockHours.url(id)
        }
        return model
    }

    /// Sites of these organizations that the principal can see, by name.
    static func sites(of organizationIds: [UUID], principal: Principal, on db: any Database) async throws -> [Site] {
        let scope = AccessPolicy.organizationScope(for: principal, area: .sites, .view)
        guard scope != .none, !organizationIds.isEmpty else { return [] }
        return try await Site.query(on: db).filter(scope, on: Site.scopeTable).filter(\.$organizationId ~~ organizationIds)
            .sort(\.$name).limit(maxRows).all()
    }

    /// Contacts the principal can see, narrowed by `narrow`; nil when its level shows no contacts at all.
    static func contacts(principal: Principal, on db: any Database, _ narrow: (QueryBuilder<Contact>) -> QueryBuilder<Contact>) async throws -> [Contact]? {
        let scope = AccessPolicy.organizationScope(for: principal, area: .contacts, .view)
        guard scope != .none else { return nil }
        return try await narrow(Contact.query(on: db).filter(scope, on: Contact.scopeTable))
            .sort(\.$lastName).sort(\.$firstName).limit(maxRows).all()
    }
}

/// `/sites/:id`: a site's details, its contacts and its open tickets.
enum SitePage {
    static let view = "organizations/site"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var name: String
        var organization: PageLink
        var country: String
        var address: String?
        var internalLocation: String?
        var contacts: [OrganizationPage.ContactRow]?
        var showSite = false
        var tickets: [TicketRow]
        var openTotal: String
        var newTicketURL: String?
        /// The site's client profiles, when the principal may see the organization's contacts.
        var profilesURL: String?
        /// The help desk profile and what is still missing before the help desk can go live.
        var helpDesk: HelpDesk
        var notificationRuleURL: String?
        /// The site's security-request settings and unlicensed software list.
        var securityRequestsURL: String
        var softwareApprovalsURL: String
        /// The site's documentation tabs, when the principal's level reads documentation.
        var networkURL: String? = nil
        var referencesURL: String? = nil
        /// The site's credential vault, when the principal's level opens it.
        var passwordsURL: String? = nil
        /// "Explain access", for admins.
        var explain: RowAccessPanel.Panel? = nil
    }

    struct HelpDesk: Encodable, Sendable {
        var mainPhone: String?
        var clientEmailDomain: String
        var greeting: String
        var siteMessage: String?
        var agentInstall: String
        /// Nil for those who do not read the site's runbook (`AccessPolicy.readsSiteRunbook`).
        var checklist: ActivationChecklist?
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let id = try req.id("id", "site")
        var model = try await query(id, principal: req.principal, layout: req.pageLayout("Site", section: "organizations"), on: req.db)
        if let site = try await Site.find(id, on: req.db) {
            model.explain = try await RowAccessPanel.explain(
                area: .sites, rowId: id, organizationId: site.organizationId, action: PageURL.site(id).path, subject: req.queryText("explain"),
                viewer: req.principal, on: req.db)
        }
        return try await req.renderPage(view, model)
    }

    static func query(_ id: UUID, principal: Principal, layout: PageLayout, on db: any Database) async throws -> Model {
        let site = try await Lookup.visible(
            Site.self, id, scope: AccessPolicy.organizationScope(for: principal, area: .sites, .view),
            table: Site.scopeTable, what: "site", on: db)
        let organizationId = site.organizationId
        let organization = try await Organization.find(organizationId, on: db)
        let organizationVisible = AccessPolicy.organizationScope(for: principal, area: .organizations, .view)
            .evaluate(ScopeFacts(values: [.id: organizationId, .organization: organizationId]))
        let location = try await PageNames.of(
            InternalLocation.self, ids: [site.internalLocationId].compactMap { $0 },
            allowed: AccessPolicy.configurationScope(for: principal, .internalLocations, .view) != .none, on: db
        ) { "\($0.name) (\($0.timeZone))" }
        let contacts = try await OrganizationPage.contacts(principal: principal, on: db) { $0.filter(\.$siteId == id) }

        var filter = TicketFilter()
        filter.siteId = id
        filter.statuses = TicketStatus.allCases.filter(\.isOpen)
        let open = try await TicketService.list(filter, page: PageRequest(limit: 25), by: principal, on: db)
        let openTotal = try await TicketService.count(filter, by: principal, on: db)

        let runbook = AccessPolicy.readsSiteRunbook(principal)
        var model = Model(
            layout: layout, name: site.name,
            organization: PageLink(name: organization?.name ?? "", url: organizationVisible ? PageURL.organization(organizationId).path : nil),
            country: PageFormat.country(site.country), address: site.address, internalLocation: location.values.first,
            contacts: contacts.map { $0.map { OrganizationPage.ContactRow($0, siteNames: [:]) } },
            tickets: try await TicketRow.rows(open.items, zone: layout.zone, on: db),
            openTotal: openTotal == 1 ? "1 open ticket" : "\(openTotal) open tickets",
            newTicketURL: (try? AccessPolicy.authorizeTicketCreation(principal, organizationId: organizationId)) != nil
                ? PageURL.with(PageRoutes.newTicket.url(), query: [("organizationId", organizationId.uuidString), ("siteId", id.uuidString)]) : nil,
            profilesURL: AccessPolicy.profileTransfer(for: principal, organizationId: organizationId).export ? ProfilePages.listURL(id) : nil,
            helpDesk: HelpDesk(
                mainPhone: site.mainPhone.map { phone in site.mainPhoneE164.map { "\(phone) (\($0))" } ?? phone },
                clientEmailDomain: site.clientEmailDomain.map { $0.isEmpty ? "No client email domain" : $0 } ?? "Not set",
                greeting: SiteHelpDeskRules.greeting(
                    for: SiteHelpDeskProfile(greetingCompanyName: site.greetingCompanyName), fallbackCompany: organization?.name ?? site.name),
                siteMessage: site.siteMessage,
                agentInstall: site.agentInstallOptIn
                    ? "Opted in, \(site.agentInstallFeeCents.map { MoneyAmount(cents: Int($0)).description } ?? "0.00") per installation" : "Not opted in",
                checklist: runbook ? ActivationChecklist.evaluate(try await SiteChecklistAPI.facts(of: site, on: db)) : nil),
            notificationRuleURL: runbook ? PageRoutes.siteNotificationRule.url(id) : nil, securityRequestsURL: PageRoutes.siteSecurityRequests.url(id),
            softwareApprovalsURL: PageRoutes.siteSoftwareApprovals.url(id))
        if SiteDocumentation.allows(.view, site, by: principal) {
            model.networkURL = PageRoutes.siteNetwork.url(id)
            model.referencesURL = PageRoutes.siteReferences.url(id)
        }
        model.layout.title = site.name
        if (try? SiteCredentials.require(.view, organizationId: organizationId, by: principal)) != nil {
            model.passwordsURL = PageRoutes.sitePasswords.url(id)
        }
        return model
    }
}

extension OrganizationPage.ContactRow {
    init(_ contact: Contact, siteNames: [UUID: String]) {
        name = contact.fullName
        email = contact.email
        phone = contact.phones.first.map { "\($0.number) (\($0.countryCode), \($0.kind))" }
        site = contact.siteId.flatMap { siteNames[$0] }
    }
}

/// A named link; `url` is nil where the principal may see the name but not the page.
struct PageLink: Encodable, Sendable {
    var name: String
    var url: String?
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// `tandem demo [serve options]`: migrate, load the demo tenant once, print its logins, serve.
public func runDemoIfAsked(_ app: Application, _ env: inout Environment) async throws {
    let arguments = app.environment.arguments
    guard arguments.count >= 2, arguments[1] == "demo" else { return }
    try await app.migrateSchema()
    let logins = try await DemoTenant.load(on: app.db, passwords: app.password.async)
    var text = "Tandem demo tenant is ready. Logins (username / password):\n"
    func column(_ value: String, _ width: Int) -> String { value + String(repeating: " ", count: max(1, width - value.count)) }
    for login in logins { text += "  \(column(login.username, 25))\(column(login.password, 21))\(login.role)\n" }
    text += "nina logs in with a two-factor code: add the secret \(DemoTenant.ninaTOTPSecret) to an authenticator app\n"
    text += "  (\(DemoTenant.ninaTOTPURI)). omar sets up two-factor authentication at his first login.\n"
    text += "Open http://127.0.0.1:8080/ (or the --hostname/--port you gave).\n"
    // Written unbuffered, so the logins show up at once even when the output goes to a file.
    FileHandle.standardOutput.write(Data(text.utf8))
    app.environment.arguments = [arguments[0], "serve"] + arguments.dropFirst(2)
}

/// A realistic demo MSP: organizations, sites, contacts, staff, queues, teams and a few hundred tickets.
enum DemoTenant {
    struct Login { var username: String; var password: String; var role: String }

    static let logins = [
        Login(username: "admin", password: "demo-admin-2026", role: "Administrator"),
        Login(username: "tara", password: "demo-tech-2026", role: "Technician, all organizations"),
        Login(username: "rick", password: "demo-tech-2026", role: "Technician, limited to Northwind and Contoso (client restrictions)"),
        Login(username: "dana", password: "demo-dispatch-2026", role: "Dispatcher"),
        Login(username: "hugo", password: "demo-helpdesk-2026", role: "Help Desk (outsourced first line, Service Desk queue)"),
        Login(username: "alice@northwind.example", password: "demo-portal-2026", role: "Contact (portal) at Northwind Traders"),
        Login(username: "nina", password: "demo-comanaged-2026", role: "Co-managing user at Northwind Traders (Co-managed Help Desk, two-factor code needed)"),
        Login(username: "omar", password: "demo-comanaged-2026", role: "Co-managing user at Contoso through the team Contoso IT (Co-managed Basic)"),
    ]

    /// nina's fixed TOTP secret, so a person (and the browser check) can compute her codes.
    static let ninaTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    static let ninaTOTPURI = "otpauth://totp/Tandem:nina@tandem.local?secret=\(ninaTOTPSecret)&issuer=Tandem"

    static let organizations: [(String, String, [String])] = [
        ("Northwind Traders", "US", ["Seattle HQ", "Portland Warehouse"]),
        ("Contoso Pharmaceuticals", "US", ["Boston Lab", "Raleigh Office"]),
        ("Fabrikam Legal", "GB", ["London Chambers"]),
        ("Tailspin Toys", "DE", ["Munich Studio", "Hamburg Shop"]),
        ("Woodgrove Dental", "CA", ["Toronto Clinic"]),
        ("Litware Accounting", "AU", ["Sydney Office"]),
    ]

    static let firstNames = ["Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keira", "Liam", "Maya", "Noah", "Olga"]
    static let lastNames = [
        "Anders", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Olsen",
    ]
    static let problems = [
        "Outlook keeps asking for password", "Printer on 2nd floor offline", "VPN disconnects every hour", "New starter needs laptop",
        "Shared drive permissions for Finance", "Teams calls drop audio", "Backup job failed overnight", "Install Adobe Acrobat",
        "Password reset for warehouse scanner", "Wi-Fi slow in meeting room", "Phishing email reported", "Server disk space warning",
        "MFA prompt not arriving", "Line-of-business app crashes on start", "Replace failing UPS battery", "Firewall rule for new vendor",
    ]

    /// Loads the tenant unless it is already there; returns the logins either way.
    static func load(on db: any Database, passwords: AsyncPasswordHasher) async throws -> [Login] {
        if try await Resource.query(on: db).filter(\.$username == "admin").count() > 0 { return logins }
        let portalHash = try await passwords.hash(logins[5].password)
        let (organizationIds, sitesByOrganization, contactsByOrganization) = try await db.write { db in
            var organizationIds: [UUID] = []
            var sitesByOrganization: [UUID: [UUID]] = [:]
            var contactsByOrganization: [UUID: [UUID]] = [:]
            let location = InternalLocation()
            location.id = .v7()
            location.name = "Seattle NOC"
            location.timeZone = "America/Los_Angeles"
            location.businessHours = (1...5).map { BusinessDay(weekday: $0, start: "08:00", end: "18:00") }
            location.holidays = ["2026-12-25", "2027-01-01"]
            try await location.create(on: db)
            var contactIndex = 0
            for (name, country, sites) in organizations {
                let organization = Organization()
                organization.id = .v7()
                organization.name = name
                try await organization.create(on: db)
                organizationIds.append(organization.id!)
                // SLA targets for the urgent priorities, in the Seattle NOC's business minutes.
                for (priority, response, resolution) in [("high", 60, 480), ("critical", 15, 240)] {
                    let policy = SLAPolicy()
                    policy.id = .v7()
                    policy.organizationId = organization.id!
                    policy.priority = priority
                    policy.firstResponseMinutes = response
                    policy.resolutionMinutes = resolution
                    policy.approachingPercent = SLATargets.defaultApproachingPercent
                    try await policy.create(on: db)
                }
                for siteName in sites {
                    let site = Site()
                    site.id = .v7()
                    site.organizationId = organization.id!
                    site.name = siteName
                    site.country = country
                    site.internalLocationId = location.id
                    try await site.create(on: db)
                    sitesByOrganization[organization.id!, default: []].append(site.id!)
                    for _ in 0..<4 {
                        let contact = Contact()
                        contact.id = .v7()
                        contact.organizationId = organization.id!
                        contact.siteId = site.id
                        contact.firstName = firstNames[contactIndex % firstNames.count]
                        contact.lastName = lastNames[(contactIndex * 7) % lastNames.count]
                        let domain = name.split(separator: " ")[0].lowercased()
                        contact.email =
                            contactIndex == 0
                            ? "alice@northwind.example" : "\(contact.firstName.lowercased()).\(contact.lastName.lowercased())\(contactIndex)@\(domain).example"
                        contact.phones = [Phone(number: "206555\(String(format: "%04d", 1000 + contactIndex))", countryCode: country, kind: "office")]
                        // Every other contact has the help-desk details of a client profile (SPEC §7).
                        if contactIndex % 2 == 1 {
                            contact.phones.append(Phone(number: "206556\(String(format: "%04d", 1000 + contactIndex))", countryCode: country, kind: "mobile"))
                            contact.mobileProvider = "AT&T"
                            contact.smsGateway = "@txt.att.com"
                        }
                        contact.thinClient = contactIndex % 7 == 3
                        if contactIndex % 4 == 2 { contact.notes = "Prefers a call back after 3 pm." }
                        contact.portalOrganizationWide = contactIndex % 5 == 0
                        contact.portalPasswordHash = contactIndex == 0 ? portalHash : nil
                        try await contact.create(on: db)
                        try await PhoneDirectory.index(contact, on: db)
                        contactsByOrganization[organization.id!, default: []].append(contact.id!)
                        contactIndex += 1
                    }
                }
            }
            return (organizationIds, sitesByOrganization, contactsByOrganization)
        }

        let admin = try await Seeds.createResource(
            username: "admin", password: logins[0].password, firstName: "Ada", lastName: "Admin", email: "admin@msp.example", system: .administrator, on: db,
            passwords: passwords)
        let tara = try await Seeds.createResource(
            username: "tara", password: logins[1].password, firstName: "Tara", lastName: "Tech", email: "tara@msp.example", system: .technician, on: db,
            passwords: passwords)
        let rick = try await Seeds.createResource(
            username: "rick", password: logins[2].password, firstName: "Rick", lastName: "Restricted", email: "rick@msp.example", system: .technician,
            restrictions: Array(organizationIds.prefix(2)), on: db, passwords: passwords)
        let dana = try await Seeds.createResource(
            username: "dana", password: logins[3].password, firstName: "Dana", lastName: "Dispatch", email: "dana@msp.example", system: .dispatcher, on: db,
            passwords: passwords)
        let hugo = try await Seeds.createResource(
            username: "hugo", password: logins[4].password, firstName: "Hugo", lastName: "Helpdesk", email: "hugo@firstline.example", system: .helpDesk, on: db,
            passwords: passwords)
        let staff = [admin, tara, rick, dana, hugo].map { $0.id! }

        try await db.write { db in
            var rng = SystemRandomNumberGenerator()
            var queueIds: [UUID] = []
            for name in ["Service Desk", "Projects", "Monitoring Alerts"] {
                let queue = Queue()
                queue.id = .v7()
                queue.name = name
                try await queue.create(on: db)
                queueIds.append(queue.id!)
            }
            try await QueueMember(queueId: queueIds[0], principalId: hugo.id!).create(on: db)
            try await QueueMember(queueId: queueIds[0], principalId: tara.id!).create(on: db)
            var teamIds: [UUID] = []
            for name in ["Tier 1", "Tier 2"] {
                let team = Team()
                team.id = .v7()
                team.name = name
                try await team.create(on: db)
                teamIds.append(team.id!)
            }
            try await TeamMember(teamId: teamIds[0], principalId: hugo.id!, access: .own).create(on: db)
            try await TeamMember(teamId: teamIds[0], principalId: tara.id!, access: .full).create(on: db)
            try await TeamMember(teamId: teamIds[1], principalId: rick.id!, access: .full).create(on: db)
            try await TeamMember(teamId: teamIds[1], principalId: dana.id!, access: .readOnly).create(on: db)
            for (name, rate, multiplier) in [("Engineer", "150", "1"), ("Senior Engineer", "195", "1.25"), ("Project Manager", "170", "1")] {
                let role = Role()
                role.id = .v7()
                role.name = name
                role.hourlyRate = BillingDecimal(parsing: rate)!
                role.blockHourMultiplier = BillingDecimal(parsing: multiplier)!
                try await role.create(on: db)
            }

            let statuses = TicketStatus.allCases
            let priorities = TicketPriority.allCases
            for index in 0..<300 {
                let organizationId = organizationIds[index % organizationIds.count]
                let ticket = Ticket.new()
                ticket.id = .v7()
                ticket.number = try await TicketService.nextNumber(on: db)
                ticket.title = problems[index % problems.count]
                ticket.description = "Reported by the client. \(problems[(index * 5) % problems.count]) may be related."
                ticket.organizationId = organizationId
                ticket.siteId = sitesByOrganization[organizationId]!.randomElement(using: &rng)
                ticket.contactId = contactsByOrganization[organizationId]!.randomElement(using: &rng)
                ticket.queueId = queueIds[index % queueIds.count]
                ticket.teamId = teamIds[index % 2]
                ticket.status = statuses[index % statuses.count].rawValue
                ticket.priority = priorities[index % priorities.count].rawValue
                ticket.source = SourceChannel.allCases[index % SourceChannel.allCases.count].rawValue
                // Every organization gets tickets both shared with and hidden from co-managing users.
                ticket.coManagedVisible = index % 4 != 2
                ticket.version = 1
                ticket.createdById = admin.id
                try await ticket.create(on: db)
                let assignee = staff[index % staff.count]
                if assignee != rick.id! || index % organizationIds.count < 2 {
                    try await TicketAssignee(ticketId: ticket.id!, principalId: assignee, kind: .resource, position: 0).create(on: db)
                }
                for (noteIndex, publishTo) in [PublishTo.all, .internal, .internalAndCoManaged].enumerated()
                where (index + noteIndex) % 2 == 0 || index % 4 == 0 {
                    let note = Note()
                    note.id = .v7()
                    note.ticketId = ticket.id!
                    note.body =
                        switch publishTo {
                        case .internal: "Internal: checked the logs, looks like a known issue."
                        case .internalAndCoManaged: "For the client's IT: can you confirm the device is on the office network?"
                        case .all: "Update for the client: we are working on it."
                        }
                    note.publishTo = publishTo.rawValue
                    note.authorId = tara.id!
                    note.authorKind = PrincipalKind.resource.rawValue
                    note.authorName = "Tara Tech"
                    try await note.create(on: db)
                }
            }
        }
        try await loadCoManagement(organizationIds: organizationIds, sites: sitesByOrganization, admin: admin, tara: tara, on: db, passwords: passwords)
        try await loadSecurityRequests(
            site: sitesByOrganization[organizationIds[0]]![0], contacts: Array(contactsByOrganization[organizationIds[0]]!.prefix(4)), admin: admin.id!,
            on: db)
        return logins
    }

    /// Northwind's Seattle HQ answers security-related requests (SPEC §8): Alice (by email) then a colleague
    /// approve password resets with their one-time code, new accounts follow templates, the MSP approves
    /// Tier 4 changes, and a few programs are on the unlicensed software list.
    static func loadSecurityRequests(site: UUID, contacts: [UUID], admin: UUID, on db: any Database) async throws {
        let settings = SiteSecuritySettings([
            .passwordReset: SecurityCategorySettings(
                approvers: [SecurityApprover(.contact, contacts[0]), SecurityApprover(.contact, contacts[2])], authenticateApprover: true),
            .newUserAccount: SecurityCategorySettings(
                approvers: [SecurityApprover(.contact, contacts[0])], authenticateApprover: true,
                templates: AccountTemplates(
                    usernameFormat: "{first}.{last}", defaultSecurityGroups: ["Staff", "VPN users"], emailFormat: "{first}.{last}@northwind.example",
                    defaultDistributionGroups: ["all-staff"])),
            .softwareInstallation: SecurityCategorySettings(approvers: [SecurityApprover(.contact, contacts[0])]),
            .agentInstallation: SecurityCategorySettings(noApprovalNeeded: true),
            .tier4: SecurityCategorySettings(approvers: [SecurityApprover(.resource, admin)]),
        ])
        let software = UnlicensedSoftwareList([.init("Notepad++", .install), .init("Adobe Acrobat Pro", .callApprover), .init("BitTorrent", .never)])
        try settings.validate()
        let stored = StoredSiteSecurity()
        stored.id = site
        stored.settings = JSONColumn.encode(settings)
        stored.software = JSONColumn.encode(software)
        stored.updatedAt = db.now
        try await stored.create(on: db)
        try await loadReferences(site: site, organizationId: try await Site.find(site, on: db)?.organizationId, author: admin, on: db)
    }

    /// Two references tagged for security-related requests (the request panel links them): the MSP's global
    /// procedure and Seattle HQ's own notes.
    static func loadReferences(site: UUID, organizationId: UUID?, author: UUID, on db: any Database) async throws {
        let references: [(UUID?, String, String)] = [
            (
                nil, "Security-related requests: the procedure",
                """
                # Before you change anything

                1. **Identify the caller**: call back on the number in their profile, never on the number they give.
                2. Open a *security request* on the ticket; the approvers get their one-time code by email or SMS.
                3. Act only once the request says **approved**. A denial or no answer ends it: tell the caller.

                See the [NIST guidance on identity proofing](https://pages.nist.gov/800-63-3/) for why.
                """
            ),
            (
                site, "Seattle HQ: password resets",
                """
                Alice approves first, then the colleague the site's settings name. The front desk phone (ext. 100) is **not** a callback number.

                | System | Reset by |
                |---|---|
                | Microsoft 365 | MSP (admin portal) |
                | Line-of-business ERP | Northwind IT |
                """
            ),
        ]
        for (siteId, title, body) in references {
            let tags = [ReferenceContent.Tag.securityRelatedRequests, "procedure"]
            let row = Reference()
            row.id = .v7()
            row.siteId = siteId
            row.organizationId = siteId == nil ? nil : organizationId
            row.title = title
            row.body = body
            row.tagsJSON = JSONColumn.encode(tags)
            row.version = 1
            row.authorId = author
            try await row.create(on: db)
            for tag in tags { try await ReferenceTag(tag: tag, referenceId: row.id!).create(on: db) }
        }
    }

    /// Co-management on for Northwind and Contoso: nina (directly and through Northwind IT, two-factor enrolled),
    /// omar (through Contoso IT, not enrolled yet), a shared and a hidden Northwind ticket, a rule naming nina.
    static func loadCoManagement(
        organizationIds: [UUID], sites: [UUID: [UUID]], admin: Resource, tara: Resource, on db: any Database, passwords: AsyncPasswordHasher
    ) async throws {
        guard let by = try await PrincipalLoader.load(id: admin.id!, kind: .resource, on: db) else { return }
        let (northwind, contoso) = (organizationIds[0], organizationIds[1])
        _ = try await CoManagementService.update(CoManagementInput(enabled: .value(true)), by: by, on: db)
        for organizationId in [northwind, contoso] {
            _ = try await CoManagementService.updateOrganizationSetup(organizationId, OrganizationCoManagementInput(enabled: .value(true)), by: by, on: db)
        }
        let levels = try await SecurityLevel.query(on: db).all()
        func level(_ system: SystemSecurityLevel) -> String { levels.first { $0.systemKey == system.rawValue }!.id!.uuidString }
        let serviceDesk = try await Queue.query(on: db).filter(\.$name == "Service Desk").first()!.id!.uuidString
        let engineer = try await Role.query(on: db).filter(\.$name == "Engineer").first()!.id!.uuidString

        func user(_ login: Login, organizationId: UUID, first: String, last: String, email: String, level system: SystemSecurityLevel) async throws -> UUID {
            let input = CoManagingUserInput(
                organizationId: .value(organizationId.uuidString),
                contact: .value(NewContactInput(firstName: first, lastName: last, email: email, siteId: sites[organizationId]?.first?.uuidString)),
                username: .value(login.username), password: .value(login.password), securityLevelId: .value(level(system)),
                queueIds: .value([serviceDesk]), roleIds: .value([engineer]), confirmLicense: .value(true))
            return UUID(uuidString: try await CoManagingUsers.create(input, by: by, on: db, passwords: passwords).id)!
        }
        let nina = try await user(
            logins[6], organizationId: northwind, first: "Nina", last: "Novak", email: "nina@northwind.example", level: .coManagedHelpDesk)
        let omar = try await user(logins[7], organizationId: contoso, first: "Omar", last: "Okafor", email: "omar@contoso.example", level: .coManagedBasic)
        if let row = try await CoManagingUser.find(nina, on: db) {
            try TOTPSecrets.store(ninaTOTPSecret, in: row, on: db)
            row.totpConfirmed = true
            try await db.write { db in try await row.save(on: db) }
        }
        let northwindIT = try await CoManagingTeams.save(
            nil, CoManagingTeamInput(name: .value("Northwind IT"), memberIds: .value([nina.uuidString])), by: by, on: db)
        let contosoIT = try await CoManagingTeams.save(
            nil, CoManagingTeamInput(name: .value("Contoso IT"), memberIds: .value([omar.uuidString])), by: by, on: db)
        _ = try await CoManagementService.updateOrganizationSetup(
            northwind, OrganizationCoManagementInput(coManagingUserIds: .value([nina.uuidString]), coManagingTeamIds: .value([northwindIT.id])), by: by, on: db)
        // omar reaches Contoso through Contoso IT only: his own association, made at creation, goes.
        _ = try await CoManagementService.updateOrganizationSetup(
            contoso, OrganizationCoManagementInput(coManagingUserIds: .value([]), coManagingTeamIds: .value([contosoIT.id])), by: by, on: db)

        try await db.write { db in
            // Two Northwind tickets that tell the story: one shared with Northwind IT, one the MSP keeps to itself.
            let contact = try await Contact.query(on: db).filter(\.$email == "alice@northwind.example").first()
            for (title, shared) in [("Laptop rollout for new starters", true), ("Renew firewall support contract", false)] {
                let ticket = Ticket.new()
                ticket.id = .v7()
                ticket.number = try await TicketService.nextNumber(on: db)
                ticket.title = title
                ticket.description =
                    shared
                    ? "Five laptops for the new starters in Seattle; Northwind IT images them, we deliver."
                    : "The firewall vendor's support contract ends next month; quote and renew."
                ticket.organizationId = northwind
                ticket.siteId = sites[northwind]?.first
                ticket.contactId = contact?.id
                ticket.queueId = UUID(uuidString: serviceDesk)
                ticket.status = TicketStatus.inProgress.rawValue
                ticket.priority = TicketPriority.medium.rawValue
                ticket.source = SourceChannel.email.rawValue
                ticket.coManagedVisible = shared
                ticket.version = 1
                ticket.createdById = admin.id
                try await ticket.create(on: db)
                try await TicketAssignee(ticketId: ticket.id!, principalId: tara.id!, kind: .resource, position: 0).create(on: db)
                let notes: [(PublishTo, String)] =
                    shared
                    ? [
                        (.internal, "Internal: the hardware margin on this order is thin; do not offer a discount."),
                        (.internalAndCoManaged, "For Northwind IT: the image is ready; please book the desks for Monday."),
                        (.all, "Hello Alice, your new laptops arrive on Monday."),
                    ] : [(.internal, "Internal: the vendor raised prices by 12 percent; check alternatives before quoting.")]
                for (publishTo, body) in notes {
                    let note = Note()
                    note.id = .v7()
                    note.ticketId = ticket.id!
                    note.body = body
                    note.publishTo = publishTo.rawValue
                    note.authorId = tara.id!
                    note.authorKind = PrincipalKind.resource.rawValue
                    note.authorName = "Tara Tech"
                    try await note.create(on: db)
                }
            }
            // omar (scope: assigned to me) works a few shared Contoso tickets on his own.
            let shared = try await Ticket.query(on: db).filter(\.$organizationId == contoso).filter(\.$coManagedVisible == true)
                .sort(\.$number).limit(3).all()
            for ticket in shared {
                try await TicketAssignee.query(on: db).filter(\.$ticketId == ticket.id!).delete()
                try await TicketAssignee(ticketId: ticket.id!, principalId: omar, kind: .coManagingUser, position: 0).create(on: db)
            }
            try await AutomationRule.notifying("Tell Nina about new Northwind tickets", people: [nina], on: db)
            // Billing: Northwind bought a block of 40 hours for the year; tara views nina's timesheets.
            let contract = BlockHourContract()
            contract.id = .v7()
            contract.organizationId = northwind
            let year = ISOWeek.day(of: db.now).prefix(4)
            contract.name = "Support block \(year)"
            contract.hoursBought = BillingDecimal(40)
            contract.startsOn = "\(year)-01-01"
            contract.thresholdPercent = 80
            contract.version = 1
            try await contract.create(on: db)
            try await TimesheetViewer(coManagingUserId: nina, resourceId: tara.id!).create(on: db)
        }
    }
}

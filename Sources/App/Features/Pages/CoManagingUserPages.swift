import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/co-managing-users`: every co-managing user with organization, level, two-factor state and status.
enum CoManagingUserListPage {
    static let view = "admin/co-managing-users"
    static let pageSize = 50

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var licenses: String
        var users: [Row]
        var nextURL: String?
        var firstURL: String?
        var notice: String?
    }

    struct Row: Encodable, Sendable {
        var name: String
        var username: String
        var url: String
        var organization: String
        var level: String
        var twoFactor: String
        var status: String
        var statusKey: String
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managing users", tab: "users", needs: .manageUsers)
        let after = req.queryText("after").flatMap { $0.isEmpty ? nil : $0 }
        var model = try await query(after: after, principal: principal, layout: layout, tabs: tabs, on: req.db)
        if req.queryText("notice") == "erased" { model.notice = "The co-managing user was erased." }
        return try await req.renderPage(view, model)
    }

    static func query(after: String?, principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database) async throws -> Model {
        var query = CoManagingUser.query(on: db).filter(AccessPolicy.coManagingUserScope(for: principal), on: CoManagingUser.scopeTable)
        if let after { query = query.filter(\.$username > after) }
        let rows = try await query.sort(\.$username).limit(pageSize + 1).all()
        let users = Array(rows.prefix(pageSize))
        let names = try await AdminNames.users(users.compactMap(\.id), on: db)
        let organizations = try await AdminNames.organizations(users.map(\.organizationId), on: db)
        let levels = try await PageNames.of(SecurityLevel.self, ids: users.map(\.securityLevelId), allowed: true, on: db) { $0.name }
        let licenses = try await CoManagementService.licenseCount(on: db)
        return Model(
            layout: layout, tabs: tabs,
            licenses: licenses == 1 ? "1 co-managed license in use" : "\(licenses) co-managed licenses in use",
            users: users.map { user in
                let (status, key) = CoManagingUserPage.status(user)
                return Row(name: names[user.id!]?.name ?? user.username, username: user.username, url: PageURL.coManagingUser(user.id!, tab: nil).path,
                           organization: organizations[user.organizationId] ?? "", level: levels[user.securityLevelId] ?? "",
                           twoFactor: CoManagingUserPage.twoFactorState(user), status: status, statusKey: key)
            },
            nextURL: rows.count > pageSize ? users.last.map { PageURL.with(PageURL.coManagingUsers.path, query: [("after", $0.username)]) } : nil,
            firstURL: after == nil ? nil : PageURL.coManagingUsers.path, notice: nil)
    }
}

/// `/admin/co-managing-users/new`: the wizard of SPEC §2 without JavaScript. Each step posts every answer so far
/// (earlier steps as hidden fields) except the password, which stays server-side in the session's
/// `CoManagingUserDraft`; the details step asks the service for a dry run, whose license question
/// becomes the confirmation step.
enum NewCoManagingUserPage {
    static let view = "admin/co-managing-user-new"

    enum Step: String, CaseIterable, Sendable {
        case organization, contact, details, confirm

        var label: String {
            switch self {
            case .organization: "Organization"
            case .contact: "Contact"
            case .details: "Credentials and access"
            case .confirm: "License"
            }
        }
    }

    struct Form: Codable, Sendable {
        var go: String?
        var organizationId: String?
        var contactMode: String?
        var contactId: String?
        var firstName: String?
        var lastName: String?
        var email: String?
        var siteId: String?
        var username: String?
        var password: String?
        var securityLevelId: String?
        var queueIds: [String]?
        var roleIds: [String]?
        var confirmLicense: String?

        var isNewContact: Bool { contactMode == "new" }
    }

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var step: String
        var steps: [StepMark]
        var hidden: [Hidden]
        var form: Form
        var organizationName: String?
        var organizationOptions: [SelectOption]
        var contactOptions: [SelectOption]
        var siteOptions: [SelectOption]
        var levelOptions: [SelectOption]
        var queues: AdminPages.Choices
        var roles: AdminPages.Choices
        var tenantDomain: String
        var summary: [Fact]
        var licenses: Int
        var licensesAfter: Int
        /// A password typed earlier is kept server-side; the details step may leave it blank.
        var passwordKept: Bool
        var feedback: FormFeedback?
    }

    struct StepMark: Encodable, Sendable {
        var number: Int
        var label: String
        var current: Bool
        var done: Bool
    }

    struct Hidden: Encodable, Sendable {
        var name: String
        var value: String
    }

    struct Fact: Encodable, Sendable {
        var label: String
        var value: String
    }

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        // Starting anew abandons an earlier wizard's draft.
        try await CoManagingUserDraft.discard(session: session(req), on: req.db)
        let form = Form(organizationId: req.queryText("organizationId"), contactMode: "existing")
        return try await render(req, .organization, form, feedback: nil)
    }

    /// The page session the wizard's draft belongs to.
    static func session(_ req: Request) throws -> UUID {
        guard let session = req.authenticated?.tokenId else { throw TandemError.unauthorized("log in first") }
        return session
    }

    @Sendable static func submit(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        var form = try req.content.decode(Form.self)
        let creating = form.go == "create"
        let target = creating ? .confirm : Step(rawValue: form.go ?? "") ?? .organization
        let order = Step.allCases

        // A password is hashed and kept in the draft as soon as it is typed, and never rendered back; one the
        // service would refuse is passed on for its message instead.
        let session = try session(req)
        let typed = form.password.flatMap { $0.isEmpty ? nil : $0 }
        form.password = nil
        var passwordHash: String?
        var refusedPassword: String?
        if let typed {
            if (10...200).contains(typed.count) {
                passwordHash = try await req.password.async.hash(typed)
                try await CoManagingUserDraft.keep(passwordHash!, session: session, on: req.db)
            } else {
                refusedPassword = typed
            }
        } else {
            passwordHash = try await CoManagingUserDraft.passwordHash(session: session, on: req.db)
        }

        // Each step's answers are checked before a later step is shown; going back checks nothing.
        if order.firstIndex(of: target)! > order.firstIndex(of: .organization)! {
            if let feedback = try await organizationProblem(form, by: principal, on: req.db) {
                return try await render(req, .organization, form, feedback: feedback, status: .unprocessableEntity)
            }
        }
        if order.firstIndex(of: target)! > order.firstIndex(of: .contact)! {
            if let feedback = contactProblem(form) { return try await render(req, .contact, form, feedback: feedback, status: .unprocessableEntity) }
        }
        guard target == .confirm else { return try await render(req, target, form, feedback: nil) }

        do {
            var input = input(form, confirmLicense: creating && AdminPages.ticked(form.confirmLicense))
            if let refusedPassword { input.password = .value(refusedPassword) }
            let user = try await CoManagingUsers.create(input, passwordHash: passwordHash, by: principal, on: req.db, passwords: req.password.async)
            try await CoManagingUserDraft.discard(session: session, on: req.db)
            return req.seeOther(PageURL.with(PageURL.coManagingUser(UUID(uuidString: user.id)!, tab: nil).path, query: [("notice", "created")]))
        } catch CoManagementError.licenseConfirmationRequired {
            // The dry run passed every rule: only the license question is left.
            let feedback = creating ? FormFeedback(message: "Tick the box to confirm the additional license.") : nil
            return try await render(req, .confirm, form, feedback: feedback, status: creating ? .unprocessableEntity : .ok)
        } catch TandemError.validation(let errors) {
            let fields = Set(errors.map(\.field))
            let step: Step = fields.contains("organizationId") ? .organization
                : fields.contains(where: { $0.hasPrefix("contact") }) ? .contact : .details
            return try await render(req, step, form, feedback: feedback(errors), status: .unprocessableEntity)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, .details, form, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// The service's field names, as this form names its inputs (`contact.firstName` is `firstName` here).
    static func feedback(_ errors: [FieldError]) -> FormFeedback {
        var feedback = FormFeedback(TandemError.validation(errors))
        feedback.fields = Dictionary(feedback.fields.map { key, value in
            (key.hasPrefix("contact.") ? String(key.dropFirst("contact.".count)) : key, value)
        }, uniquingKeysWith: { first, _ in first })
        return feedback
    }

    static func organizationProblem(_ form: Form, by principal: Principal, on db: any Database) async throws -> FormFeedback? {
        guard let id = form.organizationId.flatMap(UUID.init(uuidString:)),
              let organization = try await CoManagingUsers.organizationForNewUser(id, by: principal, on: db) else {
            return FormFeedback(summary: ["Choose the organization the co-managing user works for."], fields: ["organizationId": "Choose an organization."])
        }
        guard organization.coManagementEnabled else {
            return FormFeedback(summary: ["Co-management is not enabled for \(organization.name); enable it in the co-managed setup first."],
                                fields: ["organizationId": "Co-management is not enabled for this organization."])
        }
        return nil
    }

    static func contactProblem(_ form: Form) -> FormFeedback? {
        if form.isNewContact {
            var fields: [String: String] = [:]
            if (form.firstName ?? "").trimmingCharacters(in: .whitespaces).isEmpty { fields["firstName"] = "Enter the first name." }
            if (form.lastName ?? "").trimmingCharacters(in: .whitespaces).isEmpty { fields["lastName"] = "Enter the last name." }
            if (form.email ?? "").trimmingCharacters(in: .whitespaces).isEmpty { fields["email"] = "The primary email is required for a co-managing user." }
            return fields.isEmpty ? nil : FormFeedback(summary: ["Fill in the new contact: " + fields.values.sorted().joined(separator: " ")], fields: fields)
        }
        guard let contactId = form.contactId, UUID(uuidString: contactId) != nil else {
            return FormFeedback(summary: ["Choose an existing contact, or create a new one."], fields: ["contactId": "Choose a contact."])
        }
        return nil
    }

    static func input(_ form: Form, confirmLicense: Bool) -> CoManagingUserInput {
        func value(_ text: String?) -> Patch<String> {
            guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return .absent }
            return .value(text)
        }
        var input = CoManagingUserInput()
        input.organizationId = value(form.organizationId)
        if form.isNewContact {
            input.contact = .value(NewContactInput(firstName: form.firstName ?? "", lastName: form.lastName ?? "", email: value(form.email).value,
                                                   siteId: value(form.siteId).value))
        } else {
            input.contactId = value(form.contactId)
        }
        input.username = value(form.username)
        input.securityLevelId = value(form.securityLevelId)
        input.queueIds = .value(form.queueIds ?? [])
        input.roleIds = .value(form.roleIds ?? [])
        if confirmLicense { input.confirmLicense = .value(true) }
        return input
    }

    static func render(_ req: Request, _ step: Step, _ form: Form, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "New co-managing user", tab: "users", needs: .manageUsers)
        var model = try await query(step, form, by: principal, layout: layout, tabs: tabs, feedback: feedback, on: req.db)
        model.passwordKept = try await CoManagingUserDraft.passwordHash(session: session(req), on: req.db) != nil
        return try await req.renderPage(view, model, status: status)
    }

    // MARK: Query

    static func query(_ step: Step, _ form: Form, by principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], feedback: FormFeedback?,
                      on db: any Database) async throws -> Model {
        var form = form
        form.go = nil
        form.password = nil
        if form.contactMode == nil { form.contactMode = "existing" }
        // Only organizations the principal may create co-managing users in (its client restrictions).
        let scope = AccessPolicy.coManagingUserScope(for: principal, .create)
        let organizations = scope == .none ? [] : try await Organization.query(on: db).filter(\.$coManagementEnabled == true)
            .filter(scope, on: Organization.scopeTable).sort(\.$name).limit(PageOptions.maxOptions).all()
        var organization: Organization?
        if let chosen = form.organizationId.flatMap(UUID.init(uuidString:)) {
            organization = try await CoManagingUsers.organizationForNewUser(chosen, by: principal, on: db)
        }
        let organizationId = organization?.id

        var contactOptions: [SelectOption] = []
        var siteOptions: [SelectOption] = []
        if let organizationId, step == .contact || step == .confirm {
            // Contacts that can become co-managing users: a primary email, and not one already.
            let taken = Set(try await CoManagingUser.query(on: db).filter(\.$organizationId == organizationId).all().map(\.contactId))
            let contacts = try await Contact.query(on: db).filter(\.$organizationId == organizationId).filter(\.$email != nil)
                .sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all().filter { !taken.contains($0.id!) }
            contactOptions = [SelectOption(value: "", label: "Choose a contact", selected: (form.contactId ?? "").isEmpty)] + contacts.map {
                SelectOption(value: $0.id!.uuidString, label: "\($0.lastName), \($0.firstName) (\($0.email ?? ""))", selected: PageOptions.sameId($0.id, form.contactId ?? ""))
            }
            let sites = try await Site.query(on: db).filter(\.$organizationId == organizationId).sort(\.$name).limit(PageOptions.maxOptions).all()
            siteOptions = [SelectOption(value: "", label: "No site", selected: (form.siteId ?? "").isEmpty)]
                + sites.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, form.siteId ?? "")) }
        }
        let levels = try await SecurityLevel.query(on: db).filter(\.$coManaged == true).sort(\.$name).all()
        if form.securityLevelId == nil { form.securityLevelId = levels.first { $0.systemKey == SystemSecurityLevel.coManagedHelpDesk.rawValue }?.id?.uuidString }
        let queues = try await Queue.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let roles = try await Role.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let chosenQueues = form.queueIds ?? [], chosenRoles = form.roleIds ?? []
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value ?? "tandem.local"
        let licenses = try await CoManagementService.licenseCount(on: db)

        var summary: [Fact] = []
        if step == .confirm {
            let contact: String
            if form.isNewContact {
                contact = "\(form.firstName ?? "") \(form.lastName ?? "") (\(form.email ?? "")), a new contact"
            } else {
                contact = contactOptions.first { $0.selected }?.label ?? ""
            }
            summary = [
                Fact(label: "Organization", value: organization?.name ?? ""),
                Fact(label: "Contact", value: contact),
                Fact(label: "Logs in as", value: "\((form.username ?? "").lowercased())@\(domain)"),
                Fact(label: "Security level", value: levels.first { PageOptions.sameId($0.id, form.securityLevelId ?? "") }?.name ?? ""),
                Fact(label: "Queues", value: queues.filter { queue in chosenQueues.contains { PageOptions.sameId(queue.id, $0) } }.map(\.name).joined(separator: ", ")),
                Fact(label: "Roles", value: roles.filter { role in chosenRoles.contains { PageOptions.sameId(role.id, $0) } }.map(\.name).joined(separator: ", ").nonEmpty ?? "None (cannot log time)"),
                Fact(label: "Two-factor authentication", value: "Mandatory; set up at the first login"),
            ]
        }

        let position = Step.allCases.firstIndex(of: step)!
        return Model(
            layout: layout, tabs: tabs, step: step.rawValue,
            steps: Step.allCases.enumerated().map { StepMark(number: $0 + 1, label: $1.label, current: $1 == step, done: $0 < position) },
            hidden: hidden(form, showing: step), form: form, organizationName: organization?.name,
            organizationOptions: [SelectOption(value: "", label: "Choose an organization", selected: organization == nil)]
                + organizations.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: $0.id == organizationId) },
            contactOptions: contactOptions, siteOptions: siteOptions,
            levelOptions: levels.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, form.securityLevelId ?? "")) },
            queues: AdminPages.Choices(name: "queueIds", choices: queues.map { queue in
                CoManagedSetupPage.Choice(value: queue.id!.uuidString, label: queue.name, detail: nil, checked: chosenQueues.contains { PageOptions.sameId(queue.id, $0) })
            }),
            roles: AdminPages.Choices(name: "roleIds", choices: roles.map { role in
                CoManagedSetupPage.Choice(value: role.id!.uuidString, label: role.name, detail: nil, checked: chosenRoles.contains { PageOptions.sameId(role.id, $0) })
            }),
            tenantDomain: domain, summary: summary, licenses: licenses, licensesAfter: licenses + 1, passwordKept: false, feedback: feedback)
    }

    /// The answers of the other steps, carried along as hidden fields.
    static func hidden(_ form: Form, showing step: Step) -> [Hidden] {
        var fields: [Hidden] = []
        func add(_ name: String, _ value: String?) { if let value, !value.isEmpty { fields.append(Hidden(name: name, value: value)) } }
        if step != .organization { add("organizationId", form.organizationId) }
        if step != .contact {
            add("contactMode", form.contactMode)
            add("contactId", form.contactId)
            add("firstName", form.firstName)
            add("lastName", form.lastName)
            add("email", form.email)
            add("siteId", form.siteId)
        }
        if step != .details {
            add("username", form.username)
            add("securityLevelId", form.securityLevelId)
            for id in form.queueIds ?? [] { add("queueIds[]", id) }
            for id in form.roleIds ?? [] { add("roleIds[]", id) }
        }
        return fields
    }
}

/// `/admin/co-managing-users/:id`: tabs for general details, security (level and two-factor pauses),
/// queues and roles, and status (deactivate, reactivate, erase).
enum CoManagingUserPage {
    static let view = "admin/co-managing-user"
    static let sections = [("general", "General"), ("security", "Security"), ("access", "Queues & roles"), ("status", "Deactivate or erase")]

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var sections: [AdminPages.Tab]
        var section: String
        var id: String
        var name: String
        var username: String
        var loginName: String
        var organization: String
        var email: String
        var teams: String
        var status: String
        var statusKey: String
        var active: Bool
        var erased: Bool
        var twoFactor: String
        var twoFactorEnrolled: Bool
        var general: General
        var locationOptions: [SelectOption]
        var levelOptions: [SelectOption]
        var queues: AdminPages.Choices
        var roles: AdminPages.Choices
        var licenses: Int
        var licensesAfter: Int
        var notice: String?
        var feedback: FormFeedback?
    }

    struct General: Codable, Sendable {
        var username: String?
        var password: String?
        var internalLocationId: String?
        var timesheetStart: String?
    }

    struct SecurityForm: Decodable, Sendable { var securityLevelId: String? }
    struct PauseForm: Decodable, Sendable { var `for`: String? }
    struct AccessForm: Decodable, Sendable { var queueIds: [String]?; var roleIds: [String]? }
    struct StatusForm: Decodable, Sendable { var active: String?; var confirmLicense: String?; var confirm: String? }

    static let notices = [
        "created": "The co-managing user was created. They set up two-factor authentication at their first login.",
        "saved": "Your changes were saved.",
        "nextLogin": "Two-factor authentication is paused for the next login only.",
        "24h": "Two-factor authentication is paused for 24 hours.",
        "deactivated": "The co-managing user was deactivated; their sessions ended and the license is free.",
        "activated": "The co-managing user is active again.",
    ]

    static func status(_ user: CoManagingUser) -> (String, String) {
        user.erased ? ("Erased", "erased") : user.active ? ("Active", "active") : ("Inactive", "inactive")
    }

    static func twoFactorState(_ user: CoManagingUser, now: Date = Date()) -> String {
        if user.erased { return "—" }
        if user.totpPauseNextLogin { return "Paused for the next login" }
        if let until = user.totpPausedUntil, until > now { return "Paused until \(PageFormat.date(until))" }
        return user.totpConfirmed ? "Set up" : "Not set up yet (asked at the first login)"
    }

    // MARK: Handlers

    @Sendable static func show(_ req: Request) async throws -> Response {
        let section = req.queryText("tab").flatMap { tab in sections.contains { $0.0 == tab } ? tab : nil } ?? "general"
        let notice = req.queryText("notice").flatMap { notices[$0] }
        return try await render(req, section: section, notice: notice, feedback: nil)
    }

    @Sendable static func saveGeneral(_ req: Request) async throws -> Response {
        let form = try req.content.decode(General.self)
        var input = CoManagingUserInput()
        input.username = .value(form.username ?? "")
        if let password = form.password, !password.isEmpty { input.password = .value(password) }
        input.internalLocationId = (form.internalLocationId ?? "").isEmpty ? .null : .value(form.internalLocationId!)
        input.timesheetStart = (form.timesheetStart ?? "").isEmpty ? .null : .value(form.timesheetStart!)
        return try await apply(req, section: "general", input, draft: form)
    }

    @Sendable static func saveSecurity(_ req: Request) async throws -> Response {
        let form = try req.content.decode(SecurityForm.self)
        var input = CoManagingUserInput()
        input.securityLevelId = .value(form.securityLevelId ?? "")
        return try await apply(req, section: "security", input)
    }

    @Sendable static func saveAccess(_ req: Request) async throws -> Response {
        let form = try req.content.decode(AccessForm.self)
        var input = CoManagingUserInput()
        input.queueIds = .value(form.queueIds ?? [])
        input.roleIds = .value(form.roleIds ?? [])
        return try await apply(req, section: "access", input)
    }

    @Sendable static func saveStatus(_ req: Request) async throws -> Response {
        let form = try req.content.decode(StatusForm.self)
        var input = CoManagingUserInput()
        let active = form.active == "true"
        input.active = .value(active)
        if AdminPages.ticked(form.confirmLicense) { input.confirmLicense = .value(true) }
        return try await apply(req, section: "status", input, notice: active ? "activated" : "deactivated")
    }

    @Sendable static func pause(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        _ = try await CoManagingUsers.visible(id, by: principal, on: req.db)
        let form = try req.content.decode(PauseForm.self)
        guard let pause = form.for.flatMap(TwoFactor.Pause.init(rawValue:)) else { throw TandemError.badRequest("choose to pause for the next login or for 24 hours") }
        _ = try await TwoFactor.pause(userId: id, pause, by: principal, on: req.db)
        return req.seeOther(PageURL.with(PageURL.coManagingUser(id, tab: nil).path, query: [("tab", "security"), ("notice", pause.rawValue)]))
    }

    @Sendable static func erase(_ req: Request) async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        let form = try req.content.decode(StatusForm.self)
        guard form.confirm == "yes" else {
            return try await render(req, section: "status", feedback: FormFeedback(message: "Tick the box to confirm the erasure; it cannot be undone."), status: .unprocessableEntity)
        }
        do {
            try await CoManagingUsers.erase(id, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.coManagingUsers.path, query: [("notice", "erased")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, section: "status", feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// One update through the service; its refusals are shown on the tab, with the user's words kept.
    static func apply(_ req: Request, section: String, _ input: CoManagingUserInput, draft: General? = nil, notice: String = "saved") async throws -> Response {
        let principal = try req.principal
        try AccessPolicy.authorizeAdmin(principal, .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        do {
            _ = try await CoManagingUsers.update(id, input, by: principal, on: req.db, passwords: req.password.async)
            return req.seeOther(PageURL.with(PageURL.coManagingUser(id, tab: nil).path, query: [("tab", section), ("notice", notice)]))
        } catch CoManagementError.licenseConfirmationRequired(let current) {
            let feedback = FormFeedback(message: "Reactivating makes \(current + 1) co-managed licenses (now \(current)). Tick the box to confirm the additional license.")
            return try await render(req, section: section, feedback: feedback, status: .unprocessableEntity)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, section: section, draft: draft, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    static func render(_ req: Request, section: String, draft: General? = nil, notice: String? = nil, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "Co-managing user", tab: "users", needs: .manageUsers)
        let id = try req.id("id", CoManagingUsers.what)
        var model = try await query(id, section: section, draft: draft, principal: principal, layout: layout, tabs: tabs, on: req.db)
        model.notice = notice
        model.feedback = feedback
        return try await req.renderPage(view, model, status: status)
    }

    // MARK: Query

    static func query(_ id: UUID, section: String, draft: General?, principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database) async throws -> Model {
        let user = try await CoManagingUsers.visible(id, by: principal, on: db)
        let dto = try await CoManagingUsers.dto(user, on: db)
        let contact = try await Contact.find(user.contactId, on: db)
        let organization = try await Organization.find(user.organizationId, on: db)
        let teams = try await AdminNames.teams(dto.teamIds.compactMap(UUID.init(uuidString:)), on: db)
        let domain = try await Setting.find(Setting.tenantDomain, on: db)?.value ?? "tandem.local"
        let levels = try await SecurityLevel.query(on: db).filter(\.$coManaged == true).sort(\.$name).all()
        let queues = try await Queue.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let roles = try await Role.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let locations = try await InternalLocation.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let licenses = try await CoManagementService.licenseCount(on: db)

        var general = draft ?? General(username: user.username, password: nil, internalLocationId: dto.internalLocationId, timesheetStart: dto.timesheetStart)
        general.password = nil
        let locationOptions = [SelectOption(value: "", label: "None", selected: (general.internalLocationId ?? "").isEmpty)]
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
            status: status, statusKey: statusKey, active: user.active, erased: user.erased,
            twoFactor: twoFactorState(user), twoFactorEnrolled: user.totpConfirmed, general: general, locationOptions: locationOptions,
            levelOptions: levels.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: $0.id == user.securityLevelId) },
            queues: AdminPages.Choices(name: "queueIds", choices: queues.map { queue in
                CoManagedSetupPage.Choice(value: queue.id!.uuidString, label: queue.name, detail: nil, checked: dto.queueIds.contains { PageOptions.sameId(queue.id, $0) })
            }),
            roles: AdminPages.Choices(name: "roleIds", choices: roles.map { role in
                CoManagedSetupPage.Choice(value: role.id!.uuidString, label: role.name, detail: nil, checked: dto.roleIds.contains { PageOptions.sameId(role.id, $0) })
            }),
            licenses: licenses, licensesAfter: licenses + 1, notice: nil, feedback: nil)
    }
}

extension String {
    /// Nil for the empty string, so `?? "None"` reads naturally.
    var nonEmpty: String? { isEmpty ? nil : self }
}

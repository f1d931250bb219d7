import Fluent
import Foundation
import TandemCore
import Vapor

/// `/sites/:id/security-requests`: a site's security-request settings, one fieldset per category ("no
/// approval needed" or up to two approvers in order, caller and approver authentication, and for the two
/// account categories the templates with a preview for one of the site's contacts). Saved through the
/// API's function (`SiteSecurityAPI.save`), whose problems are shown beside their fields with the input
/// kept; whoever may not change the site reads the page and gets a 403 on a post, as from the API.
enum SiteSecurityPage {
    static let view = "securityrequests/settings"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var siteURL: String
        var action: String
        var tabs: [SiteSecurityTabs.Tab]
        /// The stored policy in a few sentences (`SiteSecuritySettings.sentence`).
        var sentence: String
        var readOnly: Bool
        var categories: [Category]
        /// The changes that always need the MSP's approval.
        var tier4Changes: [String] = Tier4Change.allCases.map(\.title)
        /// The site's contacts to preview the account templates for.
        var previewContacts: [SelectOption]
        /// Who the preview is for, when one was chosen.
        var previewName: String?
        var notice: String?
        var feedback: FormFeedback?
    }

    struct Category: Encodable, Sendable {
        var key: String
        var title: String
        /// Tier 4: always the MSP's approval, no "no approval needed".
        var alwaysMSP: Bool
        var noApprovalNeeded: Bool
        var modeError: String?
        var approversError: String?
        var approvers: [Slot]
        var authenticateCaller: Bool
        var authenticateApprover: Bool
        var templates: Templates?
    }

    /// One approver's place in the order: a `<select>` of contacts and MSP resources, and "group contact".
    struct Slot: Encodable, Sendable {
        var name: String
        var label: String
        var groups: [OptionGroup]
        var noneSelected: Bool
        var groupName: String
        var group: Bool
        var error: String?
    }

    struct OptionGroup: Encodable, Sendable {
        var label: String
        var options: [SelectOption]
    }

    struct Templates: Encodable, Sendable {
        var usernameFormat: String
        var usernameFormatError: String?
        var securityGroups: String
        var securityGroupsError: String?
        var emailFormat: String
        var emailFormatError: String?
        var distributionGroups: String
        var distributionGroupsError: String?
        var error: String?
        var preview: Preview?
    }

    struct Preview: Encodable, Sendable {
        var username: String
        var email: String
        var securityGroups: String
        var distributionGroups: String
    }

    static let notices = ["saved": "The security-request settings were saved."]

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.siteSecurityRequests.pathComponents, use: show)
        routes.post(PageRoutes.siteSecurityRequests.pathComponents, use: save)
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let site = try await SiteSecurityAPI.site(req)
        let settings = try await StoredSiteSecurity.of(site.id!, on: req.db).0
        return try await render(
            req, site, form: Form(settings), previewContactId: req.queryText("previewContactId"),
            notice: req.queryText("notice").flatMap { notices[$0] })
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let site = try await SiteSecurityAPI.site(req)
        let principal = try req.principal
        // Refused before the form is read, as the API's PUT is: a 403 page, not a form.
        try await SitesCollection.authorize(.edit, site, by: principal, on: req.db)
        let values = ConfigurationPages.formValues(req)
        let form = Form(values)
        let previewContactId = values["previewContactId"]
        if values["intent"] == "preview" {
            return try await render(req, site, form: form, previewContactId: previewContactId)
        }
        do {
            _ = try await SiteSecurityAPI.save(site, try form.settings(), by: principal, on: req.db)
            return req.seeOther(
                PageURL.with(PageRoutes.siteSecurityRequests.url(site.id!), query: [("notice", "saved"), ("previewContactId", previewContactId)]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, site, form: form, previewContactId: previewContactId, error: error, status: error.pageStatus)
        }
    }

    // MARK: The form

    /// The form's values, from the stored settings or as posted, so a refused form comes back as typed.
    struct Form: Sendable {
        struct Values: Sendable {
            var noApprovalNeeded = false
            /// Each place's choice: `contact:<id>`, `resource:<id>` or empty.
            var approvers = ["", ""]
            var groups = [false, false]
            var authenticateCaller = false
            var authenticateApprover = false
            var usernameFormat = ""
            var securityGroups = ""
            var emailFormat = ""
            var distributionGroups = ""
        }

        var categories: [SecurityCategory: Values] = [:]

        init(_ settings: SiteSecuritySettings) {
            for category in SecurityCategory.allCases {
                let own = settings[category]
                var values = Values()
                values.noApprovalNeeded = own.noApprovalNeeded
                for (index, approver) in own.approvers.prefix(SecurityCategorySettings.maxApprovers).enumerated() {
                    values.approvers[index] = "\(approver.isMSP ? "resource" : "contact"):\(approver.id.uuidString)"
                    // An approver's kind, not a principal's: whoever of the group answers.
                    if case .groupContact = approver.kind { values.groups[index] = true }
                }
                values.authenticateCaller = own.authenticateCaller
                values.authenticateApprover = own.authenticateApprover
                if let templates = own.templates {
                    values.usernameFormat = templates.usernameFormat ?? ""
                    values.securityGroups = templates.defaultSecurityGroups.joined(separator: "\n")
                    values.emailFormat = templates.emailFormat ?? ""
                    values.distributionGroups = templates.defaultDistributionGroups.joined(separator: "\n")
                }
                categories[category] = values
            }
        }

        init(_ posted: [String: String]) {
            for category in SecurityCategory.allCases {
                let key = category.rawValue
                var values = Values()
                values.noApprovalNeeded = category != .tier4 && posted["\(key)-mode"] == "none"
                for index in 0..<SecurityCategorySettings.maxApprovers {
                    values.approvers[index] = posted["\(key)-approver\(index + 1)"] ?? ""
                    values.groups[index] = posted["\(key)-group\(index + 1)"] == "on"
                }
                values.authenticateCaller = posted["\(key)-authenticateCaller"] == "on"
                values.authenticateApprover = posted["\(key)-authenticateApprover"] == "on"
                if category.hasTemplates {
                    values.usernameFormat = posted["\(key)-usernameFormat"] ?? ""
                    values.securityGroups = posted["\(key)-securityGroups"] ?? ""
                    values.emailFormat = posted["\(key)-emailFormat"] ?? ""
                    values.distributionGroups = posted["\(key)-distributionGroups"] ?? ""
                }
                categories[category] = values
            }
        }

        subscript(category: SecurityCategory) -> Values { categories[category] ?? Values() }

        /// The settings the form means. A choice that is none of the offered kinds is refused here
        /// (as a number field refuses a word); every other rule is the API's.
        func settings() throws(TandemError) -> SiteSecuritySettings {
            var problems: [FieldError] = []
            var result: [SecurityCategory: SecurityCategorySettings] = [:]
            for category in SecurityCategory.allCases {
                let values = self[category]
                var own = SecurityCategorySettings(
                    noApprovalNeeded: values.noApprovalNeeded, authenticateCaller: values.authenticateCaller,
                    authenticateApprover: values.authenticateApprover)
                // "No approval needed" is a choice of its own: the places below it are not read.
                if !values.noApprovalNeeded {
                    // Numbered as the API numbers them: the places left empty do not count.
                    for (position, (index, choice)) in values.approvers.enumerated().filter({ !$0.1.isEmpty }).enumerated() {
                        let field = "\(category.rawValue).approvers[\(position)]"
                        guard let approver = Self.approver(choice, group: values.groups[index]) else {
                            problems.append(FieldError(field, "not one of the choices offered"))
                            continue
                        }
                        if values.groups[index] && approver.isMSP {
                            problems.append(FieldError(field, "only a contact can be a group contact"))
                            continue
                        }
                        own.approvers.append(approver)
                    }
                }
                if category.hasTemplates {
                    let templates = AccountTemplates(
                        usernameFormat: Whitespace.trim(values.usernameFormat).nonEmpty, defaultSecurityGroups: Self.lines(values.securityGroups),
                        emailFormat: Whitespace.trim(values.emailFormat).nonEmpty, defaultDistributionGroups: Self.lines(values.distributionGroups))
                    own.templates = templates == AccountTemplates() ? nil : templates
                }
                result[category] = own
            }
            if !problems.isEmpty { throw .validation(problems) }
            return SiteSecuritySettings(result)
        }

        static func approver(_ choice: String, group: Bool) -> SecurityApprover? {
            let parts = choice.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let id = UUID(uuidString: String(parts[1])) else { return nil }
            switch parts[0] {
            case "contact": return SecurityApprover(group ? .groupContact : .contact, id)
            case "resource": return SecurityApprover(.resource, id)
            default: return nil
            }
        }

        /// One group a line; blank lines dropped.
        static func lines(_ text: String) -> [String] {
            text.split(whereSeparator: \.isNewline).map { Whitespace.trim(String($0)) }.filter { !$0.isEmpty }
        }
    }

    // MARK: Rendering

    static func render(
        _ req: Request, _ site: Site, form: Form, previewContactId: String?, notice: String? = nil, error: TandemError? = nil,
        status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let db = req.db
        let readOnly = (try? await SitesCollection.authorize(.edit, site, by: principal, on: db)) == nil
        let stored = try await StoredSiteSecurity.of(site.id!, on: db).0
        let organization = try await Organization.find(site.organizationId, on: db)
        let choices = try await Choices.load(site: site, form: form, readOnly: readOnly, principal: principal, on: db)

        // The site's contacts to preview for; the one chosen, when the principal may see it.
        let contactScope = AccessPolicy.peopleScope(for: principal, .contact)
        let siteContacts =
            contactScope == .none
            ? []
            : try await Contact.query(on: db).filter(\.$siteId == site.id!).filter(contactScope, on: Contact.scopeTable)
                .sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
        let previewed = siteContacts.first { PageOptions.sameId($0.id, previewContactId ?? "") }

        let problems = error.map(Problems.init) ?? Problems()
        let categories = SecurityCategory.allCases.map { category in
            let values = form[category]
            let key = category.rawValue
            var model = Category(
                key: key, title: category.title, alwaysMSP: category == .tier4, noApprovalNeeded: values.noApprovalNeeded,
                modeError: problems.take("\(key).noApprovalNeeded"), approversError: problems.take("\(key).approvers"),
                approvers: (0..<SecurityCategorySettings.maxApprovers).map { index in
                    let choice = values.approvers[index]
                    // The API numbers the approvers it was given: the places left empty before this one do not count.
                    let position = values.approvers.prefix(index).filter { !$0.isEmpty }.count
                    return Slot(
                        name: "\(key)-approver\(index + 1)", label: index == 0 ? "First approver" : "Second approver",
                        groups: choices.groups(selected: choice, mspOnly: category == .tier4, organization: organization?.name ?? site.name),
                        noneSelected: choice.isEmpty, groupName: "\(key)-group\(index + 1)", group: values.groups[index],
                        error: choice.isEmpty ? nil : problems.take("\(key).approvers[\(position)]"))
                },
                authenticateCaller: values.authenticateCaller, authenticateApprover: values.authenticateApprover)
            if category.hasTemplates {
                let field = "\(key).templates"
                var templates = Templates(
                    usernameFormat: values.usernameFormat, usernameFormatError: problems.take("\(field).usernameFormat"),
                    securityGroups: values.securityGroups, securityGroupsError: problems.take("\(field).defaultSecurityGroups"),
                    emailFormat: values.emailFormat, emailFormatError: problems.take("\(field).emailFormat"),
                    distributionGroups: values.distributionGroups, distributionGroupsError: problems.take("\(field).defaultDistributionGroups"),
                    error: problems.take(field))
                if let previewed {
                    let shown = AccountTemplates(
                        usernameFormat: Whitespace.trim(values.usernameFormat).nonEmpty, defaultSecurityGroups: Form.lines(values.securityGroups),
                        emailFormat: Whitespace.trim(values.emailFormat).nonEmpty, defaultDistributionGroups: Form.lines(values.distributionGroups)
                    ).preview(first: previewed.firstName, last: previewed.lastName)
                    templates.preview = Preview(
                        username: shown.username ?? "No username format", email: shown.email ?? "No email address format",
                        securityGroups: shown.securityGroups.isEmpty ? "None" : shown.securityGroups.joined(separator: ", "),
                        distributionGroups: shown.distributionGroups.isEmpty ? "None" : shown.distributionGroups.joined(separator: ", "))
                }
                model.templates = templates
            }
            return model
        }

        var layout = req.pageLayout("Security requests", section: "organizations")
        layout.title = "Security requests: \(site.name)"
        let model = Model(
            layout: layout, siteName: site.name, siteURL: PageURL.site(site.id!).path, action: PageRoutes.siteSecurityRequests.url(site.id!),
            tabs: SiteSecurityTabs.tabs(site.id!, current: .settings), sentence: stored.sentence, readOnly: readOnly, categories: categories,
            previewContacts: [SelectOption(value: "", label: "Choose a contact", selected: previewed == nil)]
                + siteContacts.map { SelectOption(value: $0.id!.uuidString, label: $0.fullName, selected: $0.id == previewed?.id) },
            previewName: previewed?.fullName, notice: notice,
            feedback: error.map { problems.feedback(for: $0) })
        return try await req.renderPage(view, model, status: status)
    }

    /// The people an approver may be: the organization's contacts and the active MSP resources the principal
    /// may know (`AccessPolicy.peopleScope`), and whoever the settings already name (unnamed when hidden).
    struct Choices: Sendable {
        var contacts: [(String, String)] = []
        var resources: [(String, String)] = []
        /// Chosen values offered nowhere else, with the name the principal may read.
        var others: [String: String] = [:]
        var readOnly = false

        static func load(site: Site, form: Form, readOnly: Bool, principal: Principal, on db: any Database) async throws -> Choices {
            var choices = Choices(readOnly: readOnly)
            if !readOnly {
                let contactScope = AccessPolicy.peopleScope(for: principal, .contact)
                if contactScope != .none {
                    choices.contacts = try await Contact.query(on: db).filter(\.$organizationId == site.organizationId)
                        .filter(contactScope, on: Contact.scopeTable).sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
                        .map { ("contact:\($0.id!.uuidString)", $0.fullName) }
                }
                let resourceScope = AccessPolicy.peopleScope(for: principal, .resource)
                if resourceScope != .none {
                    choices.resources = try await Resource.query(on: db).filter(\.$active == true).filter(resourceScope, on: Resource.scopeTable)
                        .sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
                        .map { ("resource:\($0.id!.uuidString)", $0.fullName) }
                }
            }
            let offered = Set((choices.contacts + choices.resources).map(\.0))
            let chosen = Set(form.categories.values.flatMap(\.approvers).filter { !$0.isEmpty && !offered.contains($0) })
            var contactIds: [UUID] = [], resourceIds: [UUID] = []
            for choice in chosen {
                guard let approver = Form.approver(choice, group: false) else { continue }
                if approver.isMSP { resourceIds.append(approver.id) } else { contactIds.append(approver.id) }
            }
            let visibleContacts = try await PeopleDirectory.visible(contactIds, kind: .contact, to: principal, on: db)
            let visibleResources = try await PeopleDirectory.visible(resourceIds, kind: .resource, to: principal, on: db)
            let contactNames = try await PageNames.of(Contact.self, ids: Array(visibleContacts), allowed: true, on: db) { $0.fullName }
            let resourceNames = try await PageNames.of(Resource.self, ids: Array(visibleResources), allowed: true, on: db) { resource in
                resource.active ? resource.fullName : "\(resource.fullName), deactivated"
            }
            for choice in chosen {
                guard let approver = Form.approver(choice, group: false) else {
                    choices.others[choice] = "Not a choice (\(choice.prefix(60)))"
                    continue
                }
                let name = approver.isMSP ? resourceNames[approver.id] : contactNames[approver.id]
                choices.others[choice] = "\(name ?? PeopleDirectory.anonymous(approver.isMSP ? .resource : .contact)) (\(Self.kind(approver.isMSP)))"
            }
            return choices
        }

        static func kind(_ msp: Bool) -> String { msp ? PeopleDirectory.kindName(.resource) : PeopleDirectory.kindName(.contact) }

        /// A place's options, grouped; read-only, only the one chosen. Tier 4 offers MSP resources only.
        func groups(selected: String, mspOnly: Bool, organization: String) -> [OptionGroup] {
            func options(_ people: [(String, String)], msp: Bool) -> [SelectOption] {
                people.filter { !readOnly || $0.0 == selected }
                    .map { SelectOption(value: $0.0, label: "\($0.1) (\(Self.kind(msp)))", selected: $0.0 == selected) }
            }
            var groups: [OptionGroup] = []
            if let other = others[selected] {
                groups.append(OptionGroup(label: "Chosen", options: [SelectOption(value: selected, label: other, selected: true)]))
            }
            if !mspOnly, case let found = options(contacts, msp: false), !found.isEmpty {
                groups.append(OptionGroup(label: "Contacts of \(organization)", options: found))
            }
            if case let found = options(resources, msp: true), !found.isEmpty {
                groups.append(OptionGroup(label: "MSP resources", options: found))
            }
            return groups
        }
    }

    /// The API's problems by its field names, each taken once by the form field it is shown beside; the
    /// summary names the category and the field.
    struct Problems: Sendable {
        var byField: [String: String] = [:]

        init() {}

        init(_ error: TandemError) {
            guard case .validation(let errors) = error else { return }
            for problem in errors {
                let message = FormFeedback.sentence("", problem.message)
                byField[problem.field] = byField[problem.field].map { "\($0) \(message)" } ?? message
            }
        }

        func take(_ field: String) -> String? { byField[field] }

        func feedback(for error: TandemError) -> FormFeedback {
            guard case .validation(let errors) = error else { return FormFeedback(error) }
            return FormFeedback(summary: errors.map { FormFeedback.sentence(Self.label($0.field), $0.message) }, fields: byField)
        }

        /// "passwordReset.approvers[1]" → "Password reset, second approver".
        static func label(_ field: String) -> String {
            let parts = field.split(separator: ".", maxSplits: 1).map(String.init)
            guard let category = parts.first.flatMap(SecurityCategory.init(rawValue:)) else { return field }
            let rest = parts.count > 1 ? parts[1] : ""
            let what: String? =
                switch rest {
                case "approvers": "approvers"
                case "approvers[0]": "first approver"
                case "approvers[1]": "second approver"
                case "noApprovalNeeded": "approval"
                case "templates": "templates"
                case "templates.usernameFormat": "username format"
                case "templates.emailFormat": "email address format"
                case "templates.defaultSecurityGroups": "default security groups"
                case "templates.defaultDistributionGroups": "default distribution groups"
                default: rest.isEmpty ? nil : rest
                }
            return what.map { "\(category.title), \($0)" } ?? category.title
        }
    }
}

/// The tabs of a site's security pages: the settings and the unlicensed software list.
enum SiteSecurityTabs {
    enum Current { case settings, software }

    struct Tab: Encodable, Sendable {
        var name: String
        var url: String
        var current: Bool
    }

    static func tabs(_ siteId: UUID, current: Current) -> [Tab] {
        [
            Tab(name: "Security requests", url: PageRoutes.siteSecurityRequests.url(siteId), current: current == .settings),
            Tab(name: "Unlicensed software", url: PageRoutes.siteSoftwareApprovals.url(siteId), current: current == .software),
        ]
    }
}

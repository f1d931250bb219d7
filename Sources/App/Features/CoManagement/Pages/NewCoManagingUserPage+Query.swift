import Fluent
import Foundation
import TandemCore
import Vapor

/// What each wizard step shows: the organizations, contacts, levels, queues and roles it may offer.
extension NewCoManagingUserPage {
    static func query(
        _ step: Step, _ form: Form, by principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], feedback: FormFeedback?,
        on db: any Database
    ) async throws -> Model {
        var form = form
        form.go = nil
        form.password = nil
        if form.contactMode == nil { form.contactMode = "existing" }
        // Only organizations the principal may create co-managing users in (its client restrictions).
        let scope = AccessPolicy.coManagingUserScope(for: principal, .create)
        let organizations =
            scope == .none
            ? []
            : try await Organization.query(on: db).filter(\.$coManagementEnabled == true)
                .filter(scope, on: Organization.scopeTable).sort(\.$name).limit(PageOptions.maxOptions).all()
        var organization: Organization?
        if let chosen = form.organizationId.flatMap(UUID.init(uuidString:)) {
            organization = try await CoManagingUsers.organizationForNewUser(chosen, by: principal, on: db)
        }
        let organizationId = organization?.id

        var contactOptions: [SelectOption] = []
        var siteOptions: [SelectOption] = []
        if let organizationId, step == .contact || step == .confirm {
            // Contacts that can become co-managing users (the rule's own answer); those without an email are left out in SQL already.
            let taken = Set(try await CoManagingUser.query(on: db).filter(\.$organizationId == organizationId).all().map(\.contactId))
            let contacts = try await Contact.query(on: db).filter(\.$organizationId == organizationId).filter(\.$email != nil)
                .sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all().filter {
                    CoManagingUserRules.mayBecomeCoManagingUser(WizardContactFacts(hasEmail: $0.email != nil, isCoManagingUser: taken.contains($0.id!)))
                }
            contactOptions =
                [SelectOption(value: "", label: "Choose a contact", selected: (form.contactId ?? "").isEmpty)]
                + contacts.map {
                    SelectOption(
                        value: $0.id!.uuidString, label: "\($0.lastName), \($0.firstName) (\($0.email ?? ""))",
                        selected: PageOptions.sameId($0.id, form.contactId ?? ""))
                }
            let sites = try await Site.query(on: db).filter(\.$organizationId == organizationId).sort(\.$name).limit(PageOptions.maxOptions).all()
            siteOptions =
                [SelectOption(value: "", label: "No site", selected: (form.siteId ?? "").isEmpty)]
                + sites.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, form.siteId ?? "")) }
        }
        let levels = try await SecurityLevel.query(on: db).filter(\.$coManaged == true).sort(\.$name).all()
        if form.securityLevelId == nil {
            form.securityLevelId = levels.first { $0.systemKey == SystemSecurityLevel.coManagedHelpDesk.rawValue }?.id?.uuidString
        }
        let queues = try await Queue.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let roles = try await Role.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
        let chosenQueues = form.queueIds ?? [], chosenRoles = form.roleIds ?? [], chosenDepartments = form.departmentIds ?? []
        // A new user is associated with their own organization only.
        var departments: [Department] = []
        if let organizationId { departments = try await Departments.allowed(for: [organizationId], by: principal, on: db) }
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
                Fact(
                    label: "Queues",
                    value: queues.filter { queue in chosenQueues.contains { PageOptions.sameId(queue.id, $0) } }.map(\.name).joined(separator: ", ")),
                Fact(
                    label: "Roles",
                    value: roles.filter { role in chosenRoles.contains { PageOptions.sameId(role.id, $0) } }.map(\.name).joined(separator: ", ").nonEmpty
                        ?? "None (cannot log time)"),
                Fact(
                    label: "Departments",
                    value: departments.filter { department in chosenDepartments.contains { PageOptions.sameId(department.id, $0) } }.map(\.name)
                        .joined(separator: ", ").nonEmpty ?? "None"),
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
            levelOptions: levels.map {
                SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, form.securityLevelId ?? ""))
            },
            queues: AdminPages.Choices(
                name: "queueIds",
                choices: queues.map { queue in
                    CoManagedSetupPage.Choice(
                        value: queue.id!.uuidString, label: queue.name, detail: nil, checked: chosenQueues.contains { PageOptions.sameId(queue.id, $0) })
                }),
            roles: AdminPages.Choices(
                name: "roleIds",
                choices: roles.map { role in
                    CoManagedSetupPage.Choice(
                        value: role.id!.uuidString, label: role.name, detail: nil, checked: chosenRoles.contains { PageOptions.sameId(role.id, $0) })
                }),
            departments: AdminPages.Choices(
                name: "departmentIds",
                choices: departments.map { department in
                    CoManagedSetupPage.Choice(
                        value: department.id!.uuidString, label: department.name + (department.coManaged ? " (co-managed)" : ""), detail: nil,
                        checked: chosenDepartments.contains { PageOptions.sameId(department.id, $0) })
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
        if step != .departments { for id in form.departmentIds ?? [] { add("departmentIds[]", id) } }
        return fields
    }
}

import Fluent
import Foundation
import TandemCore
import Vapor

/// The wizard's handlers: each step is checked by the service's own rules (`CoManagingUserRules`) before the next is shown.
extension NewCoManagingUserPage {
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
            var rule = FieldValidator()
            if rule.password(typed) != nil {
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
        // The details are checked (a dry run) before the departments step, and everything before the license step.
        guard target == .confirm || target == .departments else { return try await render(req, target, form, feedback: nil) }

        do {
            var input = input(form, confirmLicense: creating && AdminPages.ticked(form.confirmLicense))
            if let refusedPassword { input.password = .value(refusedPassword) }
            let user = try await CoManagingUsers.create(input, passwordHash: passwordHash, by: principal, on: req.db, passwords: req.password.async)
            try await CoManagingUserDraft.discard(session: session, on: req.db)
            return req.seeOther(PageURL.with(PageURL.coManagingUser(UUID(uuidString: user.id)!, tab: nil).path, query: [("notice", "created")]))
        } catch CoManagementError.licenseConfirmationRequired {
            // The dry run passed every rule: only the license question is left.
            let feedback = creating ? FormFeedback(message: "Tick the box to confirm the additional license.") : nil
            return try await render(req, target, form, feedback: feedback, status: creating ? .unprocessableEntity : .ok)
        } catch TandemError.validation(let errors) {
            let fields = Set(errors.map(\.field))
            let step: Step =
                fields.contains("organizationId")
                ? .organization
                : fields.contains(where: { $0.hasPrefix("contact") }) ? .contact : fields == ["departmentIds"] ? .departments : .details
            return try await render(req, step, form, feedback: feedback(errors), status: .unprocessableEntity)
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, .details, form, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    /// The service's field names, as this form names its inputs (`contact.firstName` is `firstName` here).
    static func feedback(_ errors: [FieldError]) -> FormFeedback {
        var feedback = FormFeedback(TandemError.validation(errors))
        feedback.fields = Dictionary(
            feedback.fields.map { key, value in
                (key.hasPrefix("contact.") ? String(key.dropFirst("contact.".count)) : key, value)
            }, uniquingKeysWith: { first, _ in first })
        return feedback
    }

    /// The organization step, by the service's own rule (`CoManagingUserRules.checkOrganization`).
    static func organizationProblem(_ form: Form, by principal: Principal, on db: any Database) async throws -> FormFeedback? {
        do {
            _ = try await CoManagingUserRules.checkOrganization(
                form.organizationId.flatMap(UUID.init(uuidString:)),
                facts: DatabaseCoManagingUserFacts(principal: principal, db: db))
            return nil
        } catch let error as TandemError where error.isFormProblem {
            return feedback(error)
        }
    }

    /// The contact step's fields, by the service's own rule (`CoManagingUserRules.contactChoice`).
    static func contactProblem(_ form: Form) -> FormFeedback? {
        let given = Self.input(form, confirmLicense: false)
        var validator = FieldValidator()
        _ = CoManagingUserRules.contactChoice(
            contactId: given.contactId.value,
            newContact: given.contact.value.map {
                ContactDraft(firstName: $0.firstName, lastName: $0.lastName, email: $0.email, hasSite: false)
            }, &validator)
        if let contactId = given.contactId.value { _ = validator.id(contactId, "contactId") }
        return validator.errors.isEmpty ? nil : feedback(validator.errors)
    }

    static func feedback(_ error: TandemError) -> FormFeedback {
        if case .validation(let errors) = error { return feedback(errors) }
        return FormFeedback(error)
    }

    static func input(_ form: Form, confirmLicense: Bool) -> CoManagingUserInput {
        func value(_ text: String?) -> Patch<String> {
            guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return .absent }
            return .value(text)
        }
        var input = CoManagingUserInput()
        input.organizationId = value(form.organizationId)
        if form.isNewContact {
            input.contact = .value(
                NewContactInput(
                    firstName: form.firstName ?? "", lastName: form.lastName ?? "", email: value(form.email).value,
                    siteId: value(form.siteId).value))
        } else {
            input.contactId = value(form.contactId)
        }
        input.username = value(form.username)
        input.securityLevelId = value(form.securityLevelId)
        input.queueIds = .value(form.queueIds ?? [])
        input.roleIds = .value(form.roleIds ?? [])
        input.departmentIds = .value(form.departmentIds ?? [])
        if confirmLicense { input.confirmLicense = .value(true) }
        return input
    }

    static func render(_ req: Request, _ step: Step, _ form: Form, feedback: FormFeedback?, status: HTTPStatus = .ok) async throws -> Response {
        let (principal, layout, tabs) = try AdminPages.begin(req, "New co-managing user", tab: "users", needs: .manageUsers)
        var model = try await query(step, form, by: principal, layout: layout, tabs: tabs, feedback: feedback, on: req.db)
        model.passwordKept = try await CoManagingUserDraft.passwordHash(session: session(req), on: req.db) != nil
        return try await req.renderPage(view, model, status: status)
    }
}

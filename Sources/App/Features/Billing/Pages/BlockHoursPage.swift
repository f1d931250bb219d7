import Fluent
import Foundation
import TandemCore
import Vapor

/// `/organizations/:id/block-hours`: the organization's block-hour contracts (bought, used, left, the threshold),
/// a form to add one and a delete per contract for those who may change them; through the API's functions
/// (`BlockHours`), so the page shows what the API answers and refuses what it refuses.
enum BlockHoursPage {
    static let view = "billing/block-hours"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var organizationName: String
        var organizationURL: String
        var action: String
        var mayChange: Bool
        var contracts: [Row]
        var form: Form
        var notice: String?
        var feedback: FormFeedback?
        /// The contract being edited: its edit form replaces the add form.
        var editing: Editing?
    }

    struct Editing: Encodable, Sendable {
        var name: String
        var action: String
        var cancelURL: String
    }

    struct Row: Encodable, Sendable {
        var id: String
        var name: String
        var period: String
        var bought: String
        var used: String
        var left: String
        var threshold: String
        var reached: Bool
        var deleteURL: String?
        var editURL: String?
    }

    struct Form: Content {
        var name: String?
        var hoursBought: String?
        var startsOn: String?
        var endsOn: String?
        var thresholdPercent: String?
        /// The version the edit form was read at (`BlockHourContractInput.version`).
        var version: String?
    }

    static let notices = ["created": "The contract was added.", "deleted": "The contract was deleted.", "updated": "The contract was saved."]

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.organizationBlockHours.pathComponents, use: show)
        routes.post(PageRoutes.organizationBlockHours.pathComponents, use: create)
        routes.post(PageRoutes.organizationBlockHoursDelete.pathComponents, use: delete)
        routes.get(PageRoutes.organizationBlockHoursContract.pathComponents, use: edit)
        routes.post(PageRoutes.organizationBlockHoursContract.pathComponents, use: save)
    }

    /// The edit form of one contract (for those the policy lets change it; 403 otherwise, 404 when hidden).
    @Sendable static func edit(_ req: Request) async throws -> Response {
        let organizationId = try req.id("id", "organization")
        let contract = try await BlockHours.visible(
            organizationId: organizationId, id: req.id("contractId", BlockHours.what), by: req.principal, on: req.db)
        try BlockHours.requireChange(organizationId, by: req.principal)
        let form = Form(
            name: contract.name, hoursBought: contract.hoursBought.description, startsOn: contract.startsOn, endsOn: contract.endsOn,
            thresholdPercent: String(contract.thresholdPercent), version: String(contract.version))
        return try await render(req, form: form, editing: contract)
    }

    /// Saves the edit form through `BlockHours.update` (the API's PATCH, with the version the form was read at).
    @Sendable static func save(_ req: Request) async throws -> Response {
        let organizationId = try req.id("id", "organization")
        let contract = try await BlockHours.visible(
            organizationId: organizationId, id: req.id("contractId", BlockHours.what), by: req.principal, on: req.db)
        let form = try req.content.decode(Form.self)
        do {
            var input = try input(form, editing: true)
            input.version = Int(Whitespace.trim(form.version ?? "")).map { .value($0) } ?? .absent
            _ = try await BlockHours.update(organizationId: organizationId, id: contract.id!, input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.organizationBlockHours.url(organizationId), query: [("notice", "updated")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, form: form, feedback: FormFeedback(error), status: error.pageStatus, editing: contract)
        }
    }

    /// The API's body from the form's text: numbers read as exact decimals; on an edit an empty end clears it.
    static func input(_ form: Form, editing: Bool) throws -> BlockHourContractInput {
        var validator = FieldValidator()
        var input = BlockHourContractInput()
        input.name = form.name.map { .value($0) } ?? .absent
        let hours = Whitespace.trim(form.hoursBought ?? "")
        if let exact = BillingDecimal(parsing: hours) {
            input.hoursBought = .value(exact.decimal)
        } else if !hours.isEmpty {
            validator.fail("hoursBought", "'\(hours)' is not a number of hours (such as 40 or 12.5)")
        } else if editing {
            validator.fail("hoursBought", "is required")
        }
        input.startsOn = form.startsOn.map { .value(Whitespace.trim($0)) } ?? .absent
        if let ends = form.endsOn.map(Whitespace.trim), !ends.isEmpty {
            input.endsOn = .value(ends)
        } else if editing {
            input.endsOn = .null
        }
        let percent = Whitespace.trim(form.thresholdPercent ?? "")
        if let value = Int(percent) {
            input.thresholdPercent = .value(value)
        } else if !percent.isEmpty || editing {
            validator.fail("thresholdPercent", "must be a whole percentage, 1 to 100")
        }
        try validator.check()
        return input
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        try await render(req, form: Form(thresholdPercent: "80"), notice: req.queryText("notice").flatMap { notices[$0] })
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let organizationId = try req.id("id", "organization")
        let form = try req.content.decode(Form.self)
        do {
            let input = try input(form, editing: false)
            _ = try await BlockHours.create(organizationId: organizationId, input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.organizationBlockHours.url(organizationId), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, form: form, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let organizationId = try req.id("id", "organization")
        try await BlockHours.delete(organizationId: organizationId, id: req.id("contractId", BlockHours.what), by: req.principal, on: req.db)
        return req.seeOther(PageURL.with(PageRoutes.organizationBlockHours.url(organizationId), query: [("notice", "deleted")]))
    }

    static func render(
        _ req: Request, form: Form, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok, editing: BlockHourContract? = nil
    ) async throws -> Response {
        let principal = try req.principal
        let organizationId = try req.id("id", "organization")
        // 404 for a hidden organization, 403 without billing: the API's answers.
        let page = try await BlockHours.list(organizationId: organizationId, page: PageRequest(limit: 200), by: principal, on: req.db)
        let organization = try await Organization.find(organizationId, on: req.db)
        let mayChange = AccessPolicy.blockHourContractScope(for: principal, .edit).evaluate(ScopeFacts(values: [.organization: organizationId]))
        let rows = page.items.map { contract in
            Row(
                id: contract.id, name: contract.name, period: "\(contract.startsOn) to \(contract.endsOn ?? "open-ended")",
                bought: "\(contract.hoursBought) h", used: "\(contract.hoursUsed) h", left: "\(contract.hoursLeft) h",
                threshold: "\(contract.thresholdPercent)%", reached: contract.thresholdReached,
                deleteURL: mayChange ? PageRoutes.organizationBlockHoursDelete.url(texts: [organizationId.uuidString, contract.id]) : nil,
                editURL: mayChange ? PageRoutes.organizationBlockHoursContract.url(texts: [organizationId.uuidString, contract.id]) : nil)
        }
        let editingModel = editing.map { contract in
            Editing(
                name: contract.name, action: PageRoutes.organizationBlockHoursContract.url(texts: [organizationId.uuidString, contract.id!.uuidString]),
                cancelURL: PageRoutes.organizationBlockHours.url(organizationId))
        }
        let model = Model(
            layout: req.pageLayout("Block hours · \(organization?.name ?? "")", section: "organizations"), organizationName: organization?.name ?? "",
            organizationURL: PageURL.organization(organizationId).path, action: PageRoutes.organizationBlockHours.url(organizationId), mayChange: mayChange,
            contracts: rows, form: form, notice: notice, feedback: feedback, editing: editingModel)
        return try await req.renderPage(view, model, status: status)
    }
}

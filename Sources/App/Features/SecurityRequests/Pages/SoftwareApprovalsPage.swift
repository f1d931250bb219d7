import Fluent
import Foundation
import TandemCore
import Vapor

/// `/sites/:id/software-approvals`: a site's unlicensed software list (software name → Install, Call
/// Approver, Never). One form changes the rows and adds one; a removal first says on its own page what it
/// changes. Every change is the whole list through the API's function (`SiteSecurityAPI.save`).
enum SoftwareApprovalsPage {
    static let view = "securityrequests/software"
    static let removeView = "securityrequests/software-remove"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var siteURL: String
        var action: String
        var tabs: [SiteSecurityTabs.Tab]
        var readOnly: Bool
        var rows: [Row]
        /// How many rows the form posts before the new one.
        var count: Int
        var newRow: Row
        var listError: String?
        var notice: String?
        var feedback: FormFeedback?
    }

    struct Row: Encodable, Sendable {
        var nameField: String
        var approvalField: String
        var name: String
        var options: [SelectOption]
        var error: String?
        var removeURL: String?
    }

    struct RemoveModel: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var backURL: String
        var action: String
        var name: String
        var approval: String
        var consequence: String
    }

    static let notices = ["saved": "The unlicensed software list was saved.", "removed": "The software was removed from the list."]

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.siteSoftwareApprovals.pathComponents, use: show)
        routes.post(PageRoutes.siteSoftwareApprovals.pathComponents, use: save)
        routes.get(PageRoutes.siteSoftwareApprovalRemove.pathComponents, use: confirmRemove)
        routes.post(PageRoutes.siteSoftwareApprovalRemove.pathComponents, use: remove)
    }

    static func label(_ approval: SoftwareApproval) -> String {
        switch approval {
        case .install: "Install"
        case .callApprover: "Call Approver"
        case .never: "Never"
        }
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let site = try await SiteSecurityAPI.site(req)
        let list = try await StoredSiteSecurity.of(site.id!, on: req.db).1
        return try await render(
            req, site, rows: list.entries.map { ($0.name, $0.approval.rawValue) }, newRow: ("", SoftwareApproval.callApprover.rawValue),
            notice: req.queryText("notice").flatMap { notices[$0] })
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let site = try await SiteSecurityAPI.site(req)
        let principal = try req.principal
        // Refused before the form is read, as the API's PUT is.
        try await SitesCollection.authorize(.edit, site, by: principal, on: req.db)
        let values = ConfigurationPages.formValues(req)
        let count = min(Int(values["count"] ?? "") ?? 0, UnlicensedSoftwareList.maxEntries + 1)
        let rows = (0..<count).map { (values["name-\($0)"] ?? "", values["approval-\($0)"] ?? "") }
        let newRow = (values["name-new"] ?? "", values["approval-new"] ?? SoftwareApproval.callApprover.rawValue)
        do {
            var entries: [UnlicensedSoftwareList.Entry] = []
            var problems: [FieldError] = []
            // The empty row at the end adds nothing; an emptied stored row is the API's to refuse.
            for (index, row) in (rows + (Whitespace.trim(newRow.0).isEmpty ? [] : [newRow])).enumerated() {
                guard let approval = SoftwareApproval(rawValue: row.1) else {
                    problems.append(FieldError("entries[\(index)].approval", "not one of Install, Call Approver, Never"))
                    continue
                }
                entries.append(UnlicensedSoftwareList.Entry(row.0, approval))
            }
            if !problems.isEmpty { throw TandemError.validation(problems) }
            _ = try await SiteSecurityAPI.save(site, UnlicensedSoftwareList(entries), by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.siteSoftwareApprovals.url(site.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(req, site, rows: rows, newRow: newRow, error: error, status: error.pageStatus)
        }
    }

    /// The entry named `name` (exactly, as the list's page links it), or a 404.
    static func entry(_ req: Request, _ site: Site, name: String?) async throws -> (UnlicensedSoftwareList, Int) {
        let list = try await StoredSiteSecurity.of(site.id!, on: req.db).1
        guard let name, let index = list.entries.firstIndex(where: { $0.name == name }) else {
            throw TandemError.notFound("no such software in the unlicensed software list")
        }
        return (list, index)
    }

    @Sendable static func confirmRemove(_ req: Request) async throws -> Response {
        let site = try await SiteSecurityAPI.site(req)
        try await SitesCollection.authorize(.edit, site, by: req.principal, on: req.db)
        let (list, index) = try await entry(req, site, name: req.queryText("name"))
        let entry = list.entries[index]
        let settings = try await StoredSiteSecurity.of(site.id!, on: req.db).0
        let approval = settings.summary.first { $0.category == .softwareInstallation }?.approval ?? .msp
        let rule =
            switch approval {
            case .none: "proceeds without approval"
            case .client: "is decided by the site's approvers"
            case .msp: "goes to the MSP for approval"
            }
        var layout = req.pageLayout("Remove \(entry.name)", section: "organizations")
        layout.title = "Remove \(entry.name): \(site.name)"
        let model = RemoveModel(
            layout: layout, siteName: site.name, backURL: PageRoutes.siteSoftwareApprovals.url(site.id!),
            action: PageRoutes.siteSoftwareApprovalRemove.url(site.id!), name: entry.name, approval: label(entry.approval),
            consequence:
                "A request to install \(entry.name) at \(site.name) will no longer be answered “\(label(entry.approval))” by this list: "
                + "it follows the Software installation settings instead, and so \(rule).")
        return try await req.renderPage(removeView, model)
    }

    @Sendable static func remove(_ req: Request) async throws -> Response {
        let site = try await SiteSecurityAPI.site(req)
        try await SitesCollection.authorize(.edit, site, by: req.principal, on: req.db)
        let values = ConfigurationPages.formValues(req)
        let (stored, index) = try await entry(req, site, name: values["name"])
        var list = stored
        list.entries.remove(at: index)
        _ = try await SiteSecurityAPI.save(site, list, by: req.principal, on: req.db)
        return req.seeOther(PageURL.with(PageRoutes.siteSoftwareApprovals.url(site.id!), query: [("notice", "removed")]))
    }

    static func render(
        _ req: Request, _ site: Site, rows: [(String, String)], newRow: (String, String), notice: String? = nil, error: TandemError? = nil,
        status: HTTPStatus = .ok
    ) async throws -> Response {
        let readOnly = (try? await SitesCollection.authorize(.edit, site, by: req.principal, on: req.db)) == nil
        var problems: [String: String] = [:]
        if case .validation(let errors)? = error {
            for problem in errors {
                // `entries[3].name` and `entries[3].approval` are the fourth row's; `entries` is the list's.
                let key = problem.field.firstMatch(of: /^entries\[(\d+)\]/).map { String($0.1) } ?? "list"
                let message = FormFeedback.sentence("", problem.message)
                problems[key] = problems[key].map { "\($0) \(message)" } ?? message
            }
        }
        func options(_ chosen: String) -> [SelectOption] {
            SoftwareApproval.allCases.map { SelectOption(value: $0.rawValue, label: label($0), selected: $0.rawValue == chosen) }
        }
        let stored = Set(try await StoredSiteSecurity.of(site.id!, on: req.db).1.entries.map(\.name))
        let removeBase = PageRoutes.siteSoftwareApprovalRemove.url(site.id!)
        var layout = req.pageLayout("Unlicensed software", section: "organizations")
        layout.title = "Unlicensed software: \(site.name)"
        let model = Model(
            layout: layout, siteName: site.name, siteURL: PageURL.site(site.id!).path, action: PageRoutes.siteSoftwareApprovals.url(site.id!),
            tabs: SiteSecurityTabs.tabs(site.id!, current: .software), readOnly: readOnly,
            rows: rows.enumerated().map { index, row in
                Row(
                    nameField: "name-\(index)", approvalField: "approval-\(index)", name: row.0, options: options(row.1), error: problems["\(index)"],
                    removeURL: !readOnly && stored.contains(row.0) ? PageURL.with(removeBase, query: [("name", row.0)]) : nil)
            },
            count: rows.count,
            newRow: Row(
                nameField: "name-new", approvalField: "approval-new", name: newRow.0, options: options(newRow.1), error: problems["\(rows.count)"]),
            listError: problems["list"], notice: notice,
            feedback: error.map { error in
                guard case .validation(let errors) = error else { return FormFeedback(error) }
                return FormFeedback(
                    summary: errors.map { problem in
                        let row = problem.field.firstMatch(of: /^entries\[(\d+)\]/).flatMap { Int($0.1) }
                        return FormFeedback.sentence(row.map { "Row \($0 + 1)" } ?? "The list", problem.message)
                    })
            })
        return try await req.renderPage(view, model, status: status)
    }
}

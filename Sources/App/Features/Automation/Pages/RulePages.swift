import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/rules`: ticket rules, workflow rules and ticket actions in their order, each broken one marked
/// with its reason, with move up/down, delete (confirmed) and a JSON editor. Every change goes through
/// the API's functions (`AutomationAPI.list`, `reorder`, `delete`, `decode`, `save`).
enum RulePages {
    static let listView = "admin/rules"
    static let editView = "admin/rule"

    /// A list: its path (as the API's), its heading, and what one of it is called.
    typealias Kind = (path: String, title: String, what: String)

    /// The three lists, in the order the page shows them.
    static let kinds: [Kind] = [
        ("ticket-rules", "Ticket rules", "ticket rule"), ("workflow-rules", "Workflow rules", "workflow rule"),
        ("ticket-actions", "Ticket actions", "ticket action"),
    ]

    struct ListModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var sections: [Section]
        var notice: String?
    }

    struct Section: Encodable, Sendable {
        var key: String
        var title: String
        var newURL: String
        var rows: [Row]
        var feedback: FormFeedback?
    }

    struct Row: Encodable, Sendable {
        var id: String
        var position: Int
        var name: String
        var broken: String?
        var editURL: String
        var moveURL: String
        var deleteURL: String
        var first: Bool
        var last: Bool
    }

    struct EditModel: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var heading: String
        var action: String
        var definition: String
        var broken: String?
        var feedback: FormFeedback?
    }

    struct MoveForm: Decodable, Sendable {
        var direction: String?
    }

    struct DeleteForm: Decodable, Sendable {
        var confirm: String?
    }

    struct EditForm: Decodable, Sendable {
        var definition: String?
    }

    static let notices = ["deleted": "It was deleted.", "moved": "The order was changed.", "saved": "It was saved."]

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.rules.pathComponents, use: list)
        register(TicketRule.self, kinds[0], routes)
        register(WorkflowRule.self, kinds[1], routes)
        register(TicketAction.self, kinds[2], routes)
    }

    static func register<D: StoredAutomation>(_ type: D.Type, _ kind: Kind, _ routes: any RoutesBuilder) {
        routes.get(PageRoutes.newRule(kind.path).pathComponents) { req in try await edit(D.self, kind, id: nil, req) }
        routes.post(PageRoutes.newRule(kind.path).pathComponents) { req in try await save(D.self, kind, id: nil, req) }
        routes.get(PageRoutes.rule(kind.path).pathComponents) { req in try await edit(D.self, kind, id: req.id("id", kind.what), req) }
        routes.post(PageRoutes.rule(kind.path).pathComponents) { req in try await save(D.self, kind, id: req.id("id", kind.what), req) }
        routes.post(PageRoutes.ruleAction(kind.path, "move").pathComponents) { req in try await move(D.self, kind, req) }
        routes.post(PageRoutes.ruleAction(kind.path, "delete").pathComponents) { req in try await delete(D.self, kind, req) }
    }

    // MARK: Handlers

    @Sendable static func list(_ req: Request) async throws -> Response {
        try await renderList(req, notice: req.queryText("notice").flatMap { notices[$0] })
    }

    static func move<D: StoredAutomation>(_ type: D.Type, _ kind: Kind, _ req: Request) async throws -> Response {
        let (principal, _, _) = try AdminPages.begin(req, "Rules", tab: "rules", needs: .manageRules)
        let id = try req.id("id", kind.what)
        let up = try req.content.decode(MoveForm.self).direction == "up"
        var ids = try await AutomationAPI.list(D.self, on: req.db).map(\.definition.id)
        guard let index = ids.firstIndex(of: id) else { throw TandemError.notFound(kind.what) }
        let other = up ? index - 1 : index + 1
        if ids.indices.contains(other) {
            ids.swapAt(index, other)
            _ = try await AutomationAPI.reorder(D.self, ids: ids, what: kind.what, by: principal, on: req.db)
        }
        return req.seeOther(PageURL.with(PageURL.rules.path, query: [("notice", "moved")]) + "#\(kind.path)")
    }

    static func delete<D: StoredAutomation>(_ type: D.Type, _ kind: Kind, _ req: Request) async throws -> Response {
        let (principal, _, _) = try AdminPages.begin(req, "Rules", tab: "rules", needs: .manageRules)
        let row = try await AutomationRule.one(D.self, id: req.id("id", kind.what), what: kind.what, on: req.db)
        guard try req.content.decode(DeleteForm.self).confirm == "yes" else {
            let feedback = FormFeedback(message: "Tick the box beside '\(row.name)' to confirm the deletion; it cannot be undone.")
            return try await renderList(req, feedback: (kind.path, feedback), status: .unprocessableEntity)
        }
        try await AutomationAPI.delete(row, as: D.self, by: principal, on: req.db)
        return req.seeOther(PageURL.with(PageURL.rules.path, query: [("notice", "deleted")]) + "#\(kind.path)")
    }

    static func edit<D: StoredAutomation>(_ type: D.Type, _ kind: Kind, id: UUID?, _ req: Request) async throws
        -> Response
    {
        let (_, layout, tabs) = try AdminPages.begin(req, kind.title, tab: "rules", needs: .manageRules)
        var text = "{\n  \"name\": \"\"\n}"
        var broken: String?
        if let id {
            let definition = try await AutomationRule.one(D.self, id: id, what: kind.what, on: req.db).decoded(D.self)
            text = try editable(definition)
            broken = definition.brokenMark
        }
        return try await renderEdit(req, kind, id: id, layout: layout, tabs: tabs, text: text, broken: broken, feedback: nil)
    }

    static func save<D: StoredAutomation>(_ type: D.Type, _ kind: Kind, id: UUID?, _ req: Request) async throws
        -> Response
    {
        let (principal, layout, tabs) = try AdminPages.begin(req, kind.title, tab: "rules", needs: .manageRules)
        let text = try req.content.decode(EditForm.self).definition ?? ""
        var row: AutomationRule?
        if let id { row = try await AutomationRule.one(D.self, id: id, what: kind.what, on: req.db) }
        do {
            // As the API's POST and PATCH: the text over the stored definition, validated and saved by the same functions.
            var definition = try AutomationAPI.decode(D.self, ByteBuffer(string: text), over: try row.map { JSONColumn.encode(try $0.decoded(D.self)) })
            definition.id = row?.id ?? .v7()
            _ = try await AutomationAPI.save(definition, row: row, by: principal, on: req.db)
            return req.seeOther(PageURL.with(PageURL.rules.path, query: [("notice", "saved")]) + "#\(kind.path)")
        } catch let error as TandemError where error.isFormProblem {
            let broken = try row?.decoded(D.self).brokenMark
            return try await renderEdit(
                req, kind, id: id, layout: layout, tabs: tabs, text: text, broken: broken, feedback: FormFeedback(error), status: error.pageStatus)
        }
    }

    // MARK: Query

    static func renderList(_ req: Request, notice: String? = nil, feedback: (String, FormFeedback)? = nil, status: HTTPStatus = .ok) async throws -> Response {
        let (_, layout, tabs) = try AdminPages.begin(req, "Rules", tab: "rules", needs: .manageRules)
        let rows = [
            try await AutomationAPI.list(TicketRule.self, on: req.db).map { ($0.definition.id, $0.definition.name, $0.definition.brokenMark, $0.position) },
            try await AutomationAPI.list(WorkflowRule.self, on: req.db).map { ($0.definition.id, $0.definition.name, $0.definition.brokenMark, $0.position) },
            try await AutomationAPI.list(TicketAction.self, on: req.db).map { ($0.definition.id, $0.definition.name, $0.definition.brokenMark, $0.position) },
        ]
        let sections = zip(kinds, rows).map { kind, rows in
            Section(
                key: kind.path, title: kind.title, newURL: PageRoutes.newRule(kind.path).url(),
                rows: rows.enumerated().map { index, row in
                    Row(
                        id: row.0.uuidString, position: index + 1, name: row.1, broken: row.2, editURL: PageRoutes.rule(kind.path).url(row.0),
                        moveURL: PageRoutes.ruleAction(kind.path, "move").url(row.0), deleteURL: PageRoutes.ruleAction(kind.path, "delete").url(row.0),
                        first: index == 0, last: index == rows.count - 1)
                },
                feedback: feedback?.0 == kind.path ? feedback?.1 : nil)
        }
        return try await req.renderPage(listView, ListModel(layout: layout, tabs: tabs, sections: sections, notice: notice), status: status)
    }

    static func renderEdit(
        _ req: Request, _ kind: Kind, id: UUID?, layout: PageLayout, tabs: [AdminPages.Tab], text: String,
        broken: String?, feedback: FormFeedback?, status: HTTPStatus = .ok
    ) async throws -> Response {
        let model = EditModel(
            layout: layout, tabs: tabs, heading: id == nil ? "New \(kind.what)" : "Edit \(kind.what)",
            action: id.map { PageRoutes.rule(kind.path).url($0) } ?? PageRoutes.newRule(kind.path).url(), definition: text, broken: broken,
            feedback: feedback)
        return try await req.renderPage(editView, model, status: status)
    }

    /// The definition as the editor shows it: pretty JSON without the fields the server keeps.
    static func editable<D: StoredAutomation>(_ definition: D) throws -> String {
        var object = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(definition)) as? [String: Any]) ?? [:]
        object["id"] = nil
        object["broken"] = nil
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

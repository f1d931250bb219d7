import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/ticket-rules`, `/api/v1/workflow-rules`, `/api/v1/ticket-actions` (the same routes each,
/// for those with `manageRules`; lists in their order, `PUT …/order` to change it), and running an
/// action on a ticket: `GET /api/v1/tickets/{id}/actions` (those the caller may run) and
/// `POST /api/v1/tickets/{id}/actions/{actionId}`.
enum AutomationAPI {
    static func register(_ api: any RoutesBuilder) {
        collection(TicketRule.self, path: "ticket-rules", what: "ticket rule", api)
        collection(WorkflowRule.self, path: "workflow-rules", what: "workflow rule", api)
        collection(TicketAction.self, path: "ticket-actions", what: "ticket action", api)

        api.get("tickets", ":id", "actions") { req async throws -> [TicketActionSummary] in
            try await offered(on: req.id("id", TicketService.what), to: req.principal, on: req.db).map { TicketActionSummary(id: $0.id, name: $0.name) }
        }
        api.post("tickets", ":id", "actions", ":actionId") { req async throws -> Response in
            let principal = try req.principal
            let updated = try await run(
                actionId: req.id("actionId", "ticket action"), on: req.id("id", TicketService.what), by: principal,
                ifMatch: req.headers.first(name: .ifMatch), on: req.db)
            // What the caller may see of it, as the ticket API answers.
            return try TicketsAPI.tagged(updated, to: principal)
        }
    }

    /// The actions `principal` may run on a ticket it can see (the API's list and the ticket page's buttons).
    static func offered(on ticketId: UUID, to principal: Principal, on db: any Database) async throws -> [TicketAction] {
        _ = try await TicketService.visible(ticketId, by: principal, on: db)
        return TicketAction.offered(try await Automations.all(TicketAction.self, on: db), to: principal)
    }

    /// Runs a ticket action as `principal`: refused whole (403 with the reason, 422 for a status the state
    /// machine does not allow) before anything is written; its changes and note in one transaction.
    static func run(actionId: UUID, on ticketId: UUID, by principal: Principal, ifMatch: String?, on db: any Database) async throws -> TicketDTO {
        let ticket = try await TicketService.visible(ticketId, by: principal, on: db)
        let row = try await AutomationRule.one(TicketAction.self, id: actionId, what: "ticket action", on: db)
        let action = try row.decoded(TicketAction.self)
        try action.authorize(principal)
        let assignees = try await TicketService.assigneeIds(of: [ticketId], on: db)[ticketId] ?? []
        // The state machine's refusal before anything is written.
        _ = try action.apply(to: ticket.automationFacts(assignees: assignees))
        return try await db.write { db in
            var dto: TicketDTO?
            if !action.changes.isEmpty {
                dto = try await TicketService.update(ticketId, Automation.input(action.changes), ifMatch: ifMatch, by: principal, on: db)
            }
            if let note = action.note {
                var input = NoteInput()
                input.body = .value(note.text)
                input.publishTo = .value(note.publishTo.rawValue)
                _ = try await TicketItemWrites.createNote(ticketId: ticketId, input, by: principal, on: db)
            }
            if let dto { return dto }
            return try await TicketService.get(ticketId, by: principal, on: db)
        }
    }

    static func collection<D: StoredAutomation>(_ type: D.Type, path: PathComponent, what: String, _ api: any RoutesBuilder) {
        let routes = api.grouped(path)
        @Sendable func find(_ req: Request) async throws -> AutomationRule {
            try AccessPolicy.authorizeAdmin(try req.principal, .manageRules)
            return try await AutomationRule.one(D.self, id: req.id("id", what), what: what, on: req.db)
        }
        routes.get { req async throws -> ListPage<StoredAutomationDTO<D>> in
            try AccessPolicy.authorizeAdmin(try req.principal, .manageRules)
            return ListPage(items: try await list(D.self, on: req.db), nextCursor: nil)
        }
        routes.get(":id") { req async throws -> StoredAutomationDTO<D> in
            let row = try await find(req)
            return StoredAutomationDTO(try row.decoded(D.self), position: row.position)
        }
        routes.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeAdmin(principal, .manageRules)
            var definition = try decode(D.self, req.body.data, over: nil)
            definition.id = .v7()
            let saved = try await save(definition, row: nil, by: principal, on: req.db)
            return try await saved.encodeResponse(status: .created, for: req)
        }
        routes.patch(":id") { req async throws -> StoredAutomationDTO<D> in
            let row = try await find(req)
            var definition = try decode(D.self, req.body.data, over: JSONColumn.encode(try row.decoded(D.self)))
            definition.id = row.id!
            return try await save(definition, row: row, by: try req.principal, on: req.db)
        }
        routes.delete(":id") { req async throws -> HTTPStatus in
            try await delete(try await find(req), as: D.self, by: try req.principal, on: req.db)
            return .noContent
        }
        routes.put("order") { req async throws -> ListPage<StoredAutomationDTO<D>> in
            let principal = try req.principal
            try AccessPolicy.authorizeAdmin(principal, .manageRules)
            return ListPage(
                items: try await reorder(D.self, ids: try req.content.decode(AutomationOrder.self).ids, what: what, by: principal, on: req.db), nextCursor: nil)
        }
    }

    /// The `D`s in their order.
    static func list<D: StoredAutomation>(_ type: D.Type, on db: any Database) async throws -> [StoredAutomationDTO<D>] {
        let rows = try await AutomationRule.query(on: db).filter(\.$kind == D.kind).sort(\.$position).sort(\.$id).all()
        return try rows.map { StoredAutomationDTO(try $0.decoded(D.self), position: $0.position) }
    }

    /// Deletes a rule or action (the caller has checked `manageRules` and found the row).
    static func delete<D: StoredAutomation>(_ row: AutomationRule, as type: D.Type, by principal: Principal, on db: any Database) async throws {
        let before = StoredAutomationDTO(try row.decoded(D.self), position: row.position)
        try await db.write { db in
            try await row.delete(on: db)
            try await Audit.record("deleted", AutomationRule.schema, id: row.id, by: principal, before: before, on: db)
        }
    }

    /// Puts the `D`s in the order of `ids`, which must list each exactly once.
    static func reorder<D: StoredAutomation>(_ type: D.Type, ids: [UUID], what: String, by principal: Principal, on db: any Database) async throws
        -> [StoredAutomationDTO<D>]
    {
        try AccessPolicy.authorizeAdmin(principal, .manageRules)
        return try await db.write { db in
            let rows = try await AutomationRule.query(on: db).filter(\.$kind == D.kind).all()
            guard Set(ids) == Set(rows.compactMap(\.id)), ids.count == rows.count else {
                throw TandemError.invalid("ids", "list every \(what) exactly once, in the new order")
            }
            let byId = Dictionary(uniqueKeysWithValues: rows.map { ($0.id!, $0) })
            for (position, id) in ids.enumerated() where byId[id]!.position != position {
                byId[id]!.position = position
                try await byId[id]!.save(on: db)
            }
            try await Audit.record(
                "reordered", AutomationRule.schema, id: nil, by: principal,
                after: ["kind": D.kind.rawValue, "ids": ids.map(\.uuidString).joined(separator: ",")], on: db)
            return try ids.map { StoredAutomationDTO(try byId[$0]!.decoded(D.self), position: byId[$0]!.position) }
        }
    }

    /// The body as a `D`; on an edit, over the stored definition (fields not given stay).
    static func decode<D: StoredAutomation>(_ type: D.Type, _ body: ByteBuffer?, over stored: String?) throws -> D {
        guard let body, let given = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw TandemError.badRequest("the body must be a JSON object")
        }
        var object = stored.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
        for (key, value) in given where !["id", "broken", "position"].contains(key) { object[key] = value }
        object["broken"] = nil
        do {
            return try JSONDecoder().decode(D.self, from: JSONSerialization.data(withJSONObject: object))
        } catch let error as DecodingError {
            let (field, message) = ProblemMiddleware.describe(error)
            throw TandemError.invalid(field, message)
        }
    }

    /// Validates and saves a definition: a rule that names what no longer exists is refused (saving a
    /// whole rule is also how a broken one is repaired: the mark goes).
    static func save<D: StoredAutomation>(_ definition: D, row existing: AutomationRule?, by principal: Principal, on db: any Database) async throws
        -> StoredAutomationDTO<D>
    {
        try definition.validate()
        if let reason = try await Automations.brokenReason(definition, on: db) { throw TandemError.invalid("references", reason) }
        return try await db.write { db in
            let before = try existing.map { StoredAutomationDTO(try $0.decoded(D.self), position: $0.position) }
            let row: AutomationRule
            if let existing {
                row = existing
                row.name = definition.name
                row.definition = JSONColumn.encode(definition)
                row.brokenReason = nil
                row.updatedAt = db.now
                try await row.save(on: db)
            } else {
                let last = try await AutomationRule.query(on: db).filter(\.$kind == D.kind).max(\.$position) ?? -1
                row = AutomationRule(D.kind, definition, id: definition.id, name: definition.name, position: last + 1, broken: nil, at: db.now)
                try await row.create(on: db)
            }
            let after = StoredAutomationDTO(try row.decoded(D.self), position: row.position)
            try await Audit.record(
                existing == nil ? "created" : "updated", AutomationRule.schema, id: row.id, by: principal, before: before, after: after, on: db)
            return after
        }
    }
}

/// A rule or action as the API answers it: its definition, with its place in the list.
struct StoredAutomationDTO<D: StoredAutomation>: Content {
    var definition: D
    var position: Int

    init(_ definition: D, position: Int) {
        self.definition = definition
        self.position = position
    }

    private enum Keys: String, CodingKey { case position }

    func encode(to encoder: any Encoder) throws {
        try definition.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(position, forKey: .position)
    }

    init(from decoder: any Decoder) throws {
        definition = try D(from: decoder)
        position = try decoder.container(keyedBy: Keys.self).decode(Int.self, forKey: .position)
    }
}

struct AutomationOrder: Content {
    var ids: [UUID]
}

struct TicketActionSummary: Content {
    var id: UUID
    var name: String
}

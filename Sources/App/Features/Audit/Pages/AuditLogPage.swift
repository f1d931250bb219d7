import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/audit`: the audit log, newest first, for MSP staff who may read it (`AccessPolicy.auditScope`),
/// with filters by organization, actor, kind, action and period, each applied in SQL under that scope.
enum AuditLogPage {
    static let view = "admin/audit"
    static let pageSize = 50

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var form: Query
        var organizationOptions: [SelectOption]
        var kindOptions: [SelectOption]
        var actions: [String]
        var events: [Row]
        var isFiltered: Bool
        var feedback: FormFeedback?
        var nextURL: String?
        var firstURL: String?
    }

    struct Row: Encodable, Sendable {
        var id: String
        var when: String
        var whenISO: String
        var actor: String
        var actorKind: String
        var action: String
        var kind: String
        var entityId: String
        var organization: String
        var organizationURL: String?
        var ticketURL: String?
        var ticketLabel: String?
    }

    /// The filters as the GET form sends them; every field is optional text, kept as typed.
    struct Query: Encodable, Sendable {
        var organizationId = ""
        var actor = ""
        var kind = ""
        var action = ""
        var from = ""
        var to = ""
        var cursor = ""

        init(_ req: Request) {
            func text(_ name: String) -> String { (req.queryText(name) ?? "").trimmingCharacters(in: .whitespaces) }
            organizationId = text("organizationId")
            actor = text("actor")
            kind = text("kind")
            action = text("action")
            from = text("from")
            to = text("to")
            cursor = text("cursor")
        }

        func url(cursor: String?) -> String {
            PageURL.with(
                PageURL.auditLog.path,
                query: [
                    ("organizationId", organizationId), ("actor", actor), ("kind", kind), ("action", action), ("from", from), ("to", to), ("cursor", cursor),
                ])
        }

        /// The filter the fields give; a field that cannot be read is a failure of `validator` and filters nothing.
        func filter(_ validator: inout FieldValidator) -> AuditFilter {
            var filter = AuditFilter()
            if !organizationId.isEmpty { filter.organizationId = validator.id(organizationId, "organizationId") }
            if !actor.isEmpty {
                if let id = UUID(uuidString: actor) {
                    filter.actorId = id
                } else {
                    filter.actorName = validator.text(String(actor.prefix(201)), "actor", max: 200)
                }
            }
            if !kind.isEmpty {
                if AuditFilter.kinds.contains(where: { $0.entityType == kind }) {
                    filter.entityType = kind
                } else {
                    validator.fail("kind", "is not a kind the log records")
                }
            }
            if !action.isEmpty {
                if AuditFilter.isAction(action) { filter.action = action } else { validator.fail("action", "must be one word, such as created or updated") }
            }
            filter.period = AuditPeriod.parse(from: from, to: to, &validator)
            return filter
        }
    }

    // MARK: Handler

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        guard AccessPolicy.readsAuditLog(principal) else { throw TandemError.forbidden("the audit log needs a security level that views reports") }
        let input = Query(req)
        let model = try await query(
            input, principal: principal, layout: req.pageLayout("Audit log", section: "admin"), tabs: AdminPages.tabs(for: principal, current: "audit"),
            on: req.db)
        return try await req.renderPage(view, model, status: model.feedback?.fields.isEmpty == false ? .badRequest : .ok)
    }

    // MARK: Query

    static func query(_ input: Query, principal: Principal, layout: PageLayout, tabs: [AdminPages.Tab], on db: any Database) async throws -> Model {
        var validator = FieldValidator()
        let filter = input.filter(&validator)
        var feedback: FormFeedback?
        var events: [AuditEvent] = []
        var next: String?
        var page = PageRequest(limit: pageSize)
        if validator.errors.isEmpty {
            if let data = Data(base64URLEncoded: input.cursor), let after = String(data: data, encoding: .utf8), UUID(uuidString: after) != nil {
                page.after = after
            }
            let query = filter.apply(to: AuditEvent.query(on: db).filter(AccessPolicy.auditScope(for: principal), on: AuditEvent.scopeTable))
            (events, next) = try await query.page(page, newestFirst: true)
        } else {
            // Nothing is listed under a filter that could not be read: the list would not be what was asked for.
            feedback = FormFeedback(.validation(validator.errors))
        }
        return Model(
            layout: layout, tabs: tabs, form: input,
            organizationOptions: try await PageOptions.organizations(for: principal, area: .reports, selected: input.organizationId, on: db),
            kindOptions: [SelectOption(value: "", label: "Any kind", selected: input.kind.isEmpty)]
                + AuditFilter.kinds.map { SelectOption(value: $0.entityType, label: $0.label, selected: $0.entityType == input.kind) },
            actions: AuditFilter.commonActions, events: try await rows(events, zone: layout.zone, on: db),
            isFiltered: [input.organizationId, input.actor, input.kind, input.action, input.from, input.to].contains { !$0.isEmpty },
            feedback: feedback, nextURL: next.map { input.url(cursor: $0) }, firstURL: page.after == nil ? nil : input.url(cursor: nil))
    }

    /// The table's rows: organization names and ticket numbers looked up once per page. The log already
    /// passed the principal's audit scope, which is report access to these organizations.
    static func rows(_ events: [AuditEvent], zone: PageZone, on db: any Database) async throws -> [Row] {
        let organizations = try await AdminNames.organizations(events.compactMap(\.organizationId), on: db)
        let ticketIds = Array(Set(events.compactMap(\.ticketId)))
        let numbers =
            ticketIds.isEmpty
            ? [:]
            : Dictionary(
                try await Ticket.query(on: db).filter(\.$id ~~ ticketIds).all().map { ($0.id!, $0.number) }, uniquingKeysWith: { first, _ in first })
        let labels = Dictionary(AuditFilter.kinds.map { ($0.entityType, $0.label) }, uniquingKeysWith: { first, _ in first })
        return events.map { event in
            let ticketNumber = event.ticketId.flatMap { numbers[$0] }
            return Row(
                id: event.id!.uuidString, when: PageFormat.date(event.at, in: zone), whenISO: PageFormat.isoDate(event.at), actor: event.actorName,
                actorKind: actorKind(event.actorKind), action: event.action, kind: labels[event.entityType] ?? event.entityType,
                entityId: event.entityId?.uuidString ?? "",
                organization: event.organizationId.flatMap { organizations[$0] } ?? (event.organizationId == nil ? "" : "(deleted)"),
                organizationURL: event.organizationId.flatMap { organizations[$0] == nil ? nil : PageURL.organization($0).path },
                // A deleted ticket has no page to go to; its id stays in the row.
                ticketURL: event.ticketId.flatMap { id in ticketNumber.map { _ in PageURL.ticket(id).path } },
                ticketLabel: ticketNumber.map { "#\($0)" } ?? event.ticketId.map { "\($0.uuidString.prefix(8))… (deleted)" })
        }
    }

    static func actorKind(_ raw: String?) -> String {
        switch raw.flatMap(PrincipalKind.init(rawValue:)) {
        case .resource: "MSP staff"
        case .coManagingUser: "Co-managing user"
        case .contact: "Contact"
        case nil: "System"
        }
    }
}

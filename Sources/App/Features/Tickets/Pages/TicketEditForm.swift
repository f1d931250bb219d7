import Fluent
import Foundation
import TandemCore
import Vapor

/// The ticket page's edit form (title, description, status, priority, queue, team, assignees, due date,
/// co-managed visibility), written through `TicketService.update`, the API's PATCH, with the version the
/// form was read at as its If-Match.
///
/// The page sends only what the user changed: the form's values against the ticket as it was at the form's
/// version. A stale form is refused (412); the page then tells who changed what since (the ticket's history)
/// and shows the form again with the latest ticket and the user's changes on top, at the new version.
enum TicketEditForm {
    struct Model: Encodable, Sendable {
        var version: Int
        var title: String?
        var description: String?
        var statusOptions: [SelectOption]?
        var priorityOptions: [SelectOption]?
        var queueOptions: [SelectOption]?
        var teamOptions: [SelectOption]?
        /// The people the principal may assign, as checkboxes; nil when it may not change the assignees.
        var assigneeChoices: [Choice]?
        var dueAt: String?
        var coManagedOptions: [SelectOption]?
        var feedback: FormFeedback?
        var stale: Stale?
        /// Open the form's disclosure: it holds a problem or kept input.
        var open: Bool
    }

    struct Choice: Encodable, Sendable {
        var id: String
        var value: String
        var label: String
        var checked: Bool
        var hint: String?
    }

    /// A refused stale form: what changed since the version it was read at, and which of the user's fields changed too.
    struct Stale: Encodable, Sendable {
        var since: Int
        var changes: [StaleChange]
        var conflicts: [String]
    }

    struct StaleChange: Encodable, Sendable {
        var who: String
        var when: String
        var whenISO: String
        var sentences: [String]
    }

    /// The form as posted; a field the form did not show is absent and left alone.
    struct Form: Content {
        var version: String?
        var title: String?
        var description: String?
        var status: String?
        var priority: String?
        var queueId: String?
        var teamId: String?
        var assigneeIds: [String]?
        /// Present when the assignee checkboxes were shown (none ticked sends no `assigneeIds`).
        var assigneesShown: String?
        var dueAt: String?
        var coManagedVisible: String?
    }

    /// The form's fields as text, as the page shows them; nil for a field not offered or not posted.
    struct Values: Equatable, Sendable {
        var scalars: [TicketField: String] = [:]
        /// The assignees the principal sees (the others are never in the form and never touched).
        var assignees: [String]?

        static let scalarFields: [TicketField] = [.title, .description, .status, .priority, .queueId, .teamId, .dueAt, .coManagedVisible]

        init() {}

        init(ticket: TicketDTO, visibleAssignees: Set<UUID>, zone: PageZone) {
            scalars[.title] = ticket.title
            scalars[.description] = ticket.description
            scalars[.status] = ticket.status
            scalars[.priority] = ticket.priority
            scalars[.queueId] = ticket.queueId ?? ""
            scalars[.teamId] = ticket.teamId ?? ""
            scalars[.dueAt] = ticket.dueAt.map(zone.fieldValue) ?? ""
            scalars[.coManagedVisible] = ticket.coManagedVisible ? "true" : "false"
            assignees = ticket.assigneeIds.filter { UUID(uuidString: $0).map(visibleAssignees.contains) ?? false }
        }

        /// A history snapshot (the JSON of an event's `after`, as the principal is shown it).
        init?(snapshot json: String?, zone: PageZone) {
            guard let object = ChangeDescriber.object(json) else { return nil }
            for field in [TicketField.title, .description, .status, .priority] { scalars[field] = object[field.rawValue] as? String }
            scalars[.queueId] = object[TicketField.queueId.rawValue] as? String ?? ""
            scalars[.teamId] = object[TicketField.teamId.rawValue] as? String ?? ""
            scalars[.dueAt] = ChangeDescriber.date(object[TicketField.dueAt.rawValue]).map(zone.fieldValue) ?? ""
            let visible = object[TicketField.coManagedVisible.rawValue]
            scalars[.coManagedVisible] = ((visible as? Bool) ?? (visible as? NSNumber)?.boolValue) == true ? "true" : "false"
            assignees = object[TicketField.assigneeIds.rawValue] as? [String]
        }

        init(form: Form) {
            scalars[.title] = form.title.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            // Browsers send a textarea's line breaks as CRLF.
            scalars[.description] = form.description.map { $0.replacingOccurrences(of: "\r\n", with: "\n") }
            scalars[.status] = form.status
            scalars[.priority] = form.priority
            scalars[.queueId] = form.queueId
            scalars[.teamId] = form.teamId
            scalars[.dueAt] = form.dueAt.map { $0.trimmingCharacters(in: .whitespaces) }
            scalars[.coManagedVisible] = form.coManagedVisible
            if form.assigneesShown != nil { assignees = form.assigneeIds ?? [] }
        }
    }

    /// What the user changed: the fields whose posted value differs from the ticket at the form's version.
    struct Intent: Sendable {
        var scalars: [TicketField: String] = [:]
        var added: [String] = []
        var removed: Set<String> = []

        var isEmpty: Bool { scalars.isEmpty && added.isEmpty && removed.isEmpty }

        init(posted: Values, base: Values, editable: Set<TicketField>) {
            for field in Values.scalarFields where editable.contains(field) {
                if let value = posted.scalars[field], value != base.scalars[field] { scalars[field] = value }
            }
            if editable.contains(.assigneeIds), let chosen = posted.assignees {
                let before = base.assignees ?? []
                added = chosen.filter { !Self.contains(before, $0) }
                removed = Set(before.filter { !Self.contains(chosen, $0) }.map { $0.uppercased() })
            }
        }

        static func contains(_ list: [String], _ id: String) -> Bool {
            list.contains { $0.caseInsensitiveCompare(id) == .orderedSame }
        }

        /// The assignees after the change, applied to `current` (all of them, the hidden ones kept in place).
        func assignees(from current: [String]) -> [String] {
            current.filter { !removed.contains($0.uppercased()) } + added.filter { !Self.contains(current, $0) }
        }

        /// The values the form shows again: `current` with the user's changes on top.
        func over(_ current: Values) -> Values {
            var values = current
            for (field, value) in scalars { values.scalars[field] = value }
            if values.assignees != nil, !(added.isEmpty && removed.isEmpty) { values.assignees = assignees(from: current.assignees ?? []) }
            return values
        }

        /// The PATCH body.
        func input(currentAssignees: [String], zone: PageZone) throws -> TicketInput {
            var input = TicketInput()
            var validator = FieldValidator()
            if let value = scalars[.title] { input.title = .value(value) }
            if let value = scalars[.description] { input.description = .value(value) }
            if let value = scalars[.status] { input.status = .value(value) }
            if let value = scalars[.priority] { input.priority = .value(value) }
            if let value = scalars[.queueId] { input.queueId = value.isEmpty ? .null : .value(value) }
            if let value = scalars[.teamId] { input.teamId = value.isEmpty ? .null : .value(value) }
            if let value = scalars[.coManagedVisible] { input.coManagedVisible = .value(value == "true") }
            if let value = scalars[.dueAt] {
                if value.isEmpty {
                    input.dueAt = .null
                } else if let date = zone.parseField(value) {
                    input.dueAt = .value(date)
                } else {
                    validator.fail("dueAt", "must be a date and time, such as 2026-12-31T17:00")
                }
            }
            if !added.isEmpty || !removed.isEmpty { input.assigneeIds = .value(assignees(from: currentAssignees)) }
            try validator.check()
            return input
        }
    }

    // MARK: Submit

    enum Outcome {
        case saved
        case unchanged
        /// Refused: the values to show again (the user's input kept), with why.
        case refused(Values, FormFeedback, stale: Stale?, status: HTTPStatus)
    }

    static func submit(_ id: UUID, _ form: Form, by principal: Principal, zone: PageZone, on db: any Database) async throws -> Outcome {
        let current = try await TicketService.get(id, by: principal, on: db)
        let editable = AccessPolicy.editableTicketFields(for: principal)
        let visible = try await PeopleDirectory.visible(current.assigneeIds.compactMap(UUID.init(uuidString:)), to: principal, on: db)
        let currentValues = Values(ticket: current, visibleAssignees: visible, zone: zone)
        let posted = Values(form: form)
        guard let version = form.version.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            throw TandemError.invalid("version", "the form has no version; reload the page")
        }
        // The ticket as the form was read: the current one, or for a stale form its history at that version.
        var events: [AuditEventDTO] = []
        var base = currentValues
        if version != current.version {
            events = try await TicketTimeline.history(id, by: principal, on: db)
            let atVersion = events.last { event in (ChangeDescriber.object(event.after)?["version"] as? NSNumber).map { $0.intValue <= version } ?? false }
            if let snapshot = atVersion.flatMap({ Values(snapshot: $0.after, zone: zone) }) { base = snapshot }
        }
        let intent = Intent(posted: posted, base: base, editable: editable)
        /// Refuses a stale form: who changed what since, and the user's changes over the latest ticket.
        func refuseStale() async throws -> Outcome {
            let latest = try await TicketService.get(id, by: principal, on: db)
            let latestVisible = try await PeopleDirectory.visible(latest.assigneeIds.compactMap(UUID.init(uuidString:)), to: principal, on: db)
            let history = events.isEmpty || latest.version != current.version ? try await TicketTimeline.history(id, by: principal, on: db) : events
            let stale = try await staleReport(since: version, events: history, intent: intent, principal: principal, zone: zone, on: db)
            let feedback = FormFeedback(
                message: "This ticket changed since you opened the form (version \(version), now \(latest.version)). Nothing was saved.")
            return .refused(intent.over(Values(ticket: latest, visibleAssignees: latestVisible, zone: zone)), feedback, stale: stale, status: .conflict)
        }
        do {
            let input = try intent.input(currentAssignees: current.assigneeIds, zone: zone)
            if intent.isEmpty { return .unchanged }
            // The pipeline checks the version under the ticket's lock (412), after the policy (404, 403).
            _ = try await TicketService.update(id, input, ifMatch: "\"\(version)\"", by: principal, on: db)
            return .saved
        } catch TandemError.preconditionFailed {
            return try await refuseStale()
        } catch let error as TandemError where error.isFormProblem {
            // Someone the page offers no form (a forged post) gets the API's answer, not a form.
            if case .forbidden = error, !(try await mayEdit(id, by: principal, on: db)) { throw error }
            // A stale form with a problem of its own is first of all stale.
            if version != current.version { return try await refuseStale() }
            var values = intent.over(currentValues)
            // A form that failed for a reason of its own keeps every posted value as typed.
            for (field, value) in posted.scalars where editable.contains(field) { values.scalars[field] = value }
            return .refused(values, FormFeedback(error), stale: nil, status: error.pageStatus)
        }
    }

    /// Who changed what after `version`, from the history the principal may read, and which of its own changes they touch.
    static func staleReport(
        since version: Int, events: [AuditEventDTO], intent: Intent, principal: Principal, zone: PageZone, on db: any Database
    ) async throws -> Stale {
        let describer = try await ChangeDescriber.load(for: events, principal: principal, zone: zone, on: db)
        var changes: [StaleChange] = []
        var touched: Set<TicketField> = []
        for event in events {
            guard let description = describer.describe(event), let at = description.version, at > version else { continue }
            touched.formUnion(description.fields)
            changes.append(
                StaleChange(
                    who: event.actorName, when: PageFormat.date(event.at, in: zone), whenISO: PageFormat.isoDate(event.at), sentences: description.sentences))
        }
        var mine = Set(intent.scalars.keys)
        if !intent.added.isEmpty || !intent.removed.isEmpty { mine.insert(.assigneeIds) }
        let conflicts = ChangeDescriber.order.filter { mine.contains($0) && touched.contains($0) }.map(label)
        return Stale(since: version, changes: changes, conflicts: conflicts)
    }

    static func label(_ field: TicketField) -> String {
        switch field {
        case .title: "Title"
        case .description: "Description"
        case .status: "Status"
        case .priority: "Priority"
        case .queueId: "Queue"
        case .teamId: "Team"
        case .assigneeIds: "Assignees"
        case .dueAt: "Due"
        case .coManagedVisible: "Co-managed visibility"
        default: field.rawValue
        }
    }

    // MARK: Query

    /// Whether the policy lets `principal` edit this ticket (the pipeline's own check when it writes).
    static func mayEdit(_ ticket: Ticket, assignees: [TicketAssignee], by principal: Principal) -> Bool {
        !AccessPolicy.editableTicketFields(for: principal).isEmpty
            && AccessPolicy.ticketScope(for: principal, .edit).evaluate(TicketService.facts(ticket, assignees: assignees.map(\.principalId)))
    }

    static func mayEdit(_ id: UUID, by principal: Principal, on db: any Database) async throws -> Bool {
        let ticket = try await TicketService.visible(id, by: principal, on: db)
        return mayEdit(ticket, assignees: try await TicketService.assigneeRows(of: id, on: db), by: principal)
    }

    /// The form for `ticket` with `values`, or nil when the principal may not edit this ticket.
    static func model(
        for ticket: TicketDTO, values: Values?, feedback: FormFeedback?, stale: Stale?, principal: Principal, zone: PageZone, on db: any Database
    ) async throws -> Model? {
        guard let id = UUID(uuidString: ticket.id), let currentStatus = TicketStatus(rawValue: ticket.status) else { return nil }
        let row = try await TicketService.visible(id, by: principal, on: db)
        let rows = try await TicketService.assigneeRows(of: id, on: db)
        guard mayEdit(row, assignees: rows, by: principal) else { return nil }
        let editable = AccessPolicy.editableTicketFields(for: principal)
        let visible = try await PeopleDirectory.visible(rows.map(\.principalId), to: principal, on: db)
        let shown = values ?? Values(ticket: ticket, visibleAssignees: visible, zone: zone)
        func value(_ field: TicketField) -> String? { editable.contains(field) ? shown.scalars[field] ?? "" : nil }

        var model = Model(version: ticket.version, open: feedback != nil)
        model.title = value(.title)
        model.description = value(.description)
        model.dueAt = value(.dueAt)
        model.feedback = feedback
        model.stale = stale
        if let status = value(.status) {
            // The current status, then only those the state machine allows next.
            let choices = [currentStatus] + TicketStatus.allCases.filter(currentStatus.allowedNext.contains)
            model.statusOptions = choices.map {
                SelectOption(value: $0.rawValue, label: $0 == currentStatus ? "\($0.label) (current)" : $0.label, selected: $0.rawValue == status)
            }
        }
        if let priority = value(.priority) {
            model.priorityOptions = TicketPriority.allCases.map {
                SelectOption(value: $0.rawValue, label: PageFormat.priority($0.rawValue), selected: $0.rawValue == priority)
            }
        }
        if let queue = value(.queueId) {
            model.queueOptions = try await PageOptions.queues(for: principal, selected: queue, anyLabel: "No queue", on: db)
        }
        if let team = value(.teamId), AccessPolicy.configurationScope(for: principal, .teams, .view) != .none {
            let teams = try await Team.query(on: db).sort(\.$name).limit(PageOptions.maxOptions).all()
            model.teamOptions =
                [SelectOption(value: "", label: "No team", selected: team.isEmpty)]
                + teams.map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: PageOptions.sameId($0.id, team)) }
        }
        if let visibility = value(.coManagedVisible) {
            model.coManagedOptions = [
                SelectOption(value: "false", label: "No: MSP staff (and the contact) only", selected: visibility != "true"),
                SelectOption(value: "true", label: "Yes: also the organization's co-managing users", selected: visibility == "true"),
            ]
        }
        if editable.contains(.assigneeIds) {
            let settingOn = try await Setting.flag(Setting.coManagingUsersCannotReassign, on: db)
            let kinds = rows.compactMap { PrincipalKind(rawValue: $0.principalKind) }
            if (try? AccessPolicy.authorizeReassignment(principal, currentAssigneeKinds: kinds, settingOn: settingOn)) != nil {
                model.assigneeChoices = try await assigneeChoices(
                    for: row, current: rows.map(\.principalId).filter(visible.contains), checked: Set((shown.assignees ?? []).map { $0.uppercased() }),
                    principal: principal, on: db)
            }
        }
        return model
    }

    /// The people `principal` may assign to the ticket, as the API checks an assignment (`TicketService.update`):
    /// active MSP resources and co-managing users it may see, whom `AccessPolicy.assignmentRefusals` does not
    /// refuse (a co-managing user is offered when only the ticket's co-managed visibility stands in the way,
    /// with a hint). The current assignees are always listed, so they can be taken off.
    static func assigneeChoices(for ticket: Ticket, current: [UUID], checked: Set<String>, principal: Principal, on db: any Database) async throws
        -> [Choice]
    {
        let organizationCoManaged = try await Organization.find(ticket.organizationId, on: db)?.coManagementEnabled ?? false
        var candidates: [(Principal, String?)] = []
        let resources = try await Resource.query(on: db).filter(\.$active == true)
            .filter(AccessPolicy.peopleScope(for: principal, .resource), on: Resource.scopeTable)
            .sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
        candidates += try await PrincipalLoader.principals(of: resources, on: db).map { ($0, nil) }
        var users = try await TicketAccessAPI.coManagingUsers(of: ticket.organizationId, on: db)
        let seenUsers = try await PeopleDirectory.visible(users.compactMap(\.id), kind: .coManagingUser, to: principal, on: db)
        users = users.filter { seenUsers.contains($0.id!) }
        var added: Set<UUID> = []
        for user in users.sorted(by: { $0.username < $1.username }) where added.insert(user.id!).inserted {
            if let loaded = try await PrincipalLoader.principal(for: user, on: db) { candidates.append((loaded, "co-managing user")) }
        }
        var choices: [Choice] = []
        for (candidate, kindHint) in candidates {
            let assigned = current.contains(candidate.id)
            let refusals = AccessPolicy.assignmentRefusals(
                candidate, organizationId: ticket.organizationId, organizationCoManaged: organizationCoManaged, coManagedVisible: true)
            guard assigned || refusals.isEmpty else { continue }
            var hint = kindHint
            if !assigned, !ticket.coManagedVisible,
                !AccessPolicy.assignmentRefusals(
                    candidate, organizationId: ticket.organizationId, organizationCoManaged: organizationCoManaged, coManagedVisible: false
                ).isEmpty
            {
                hint = "co-managing user; needs co-managed visibility on"
            }
            let value = candidate.id.uuidString
            choices.append(
                Choice(
                    id: "assignee-\(value.lowercased())", value: value, label: candidate.displayName, checked: checked.contains(value.uppercased()),
                    hint: hint))
        }
        return choices
    }
}

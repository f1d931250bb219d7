import Fluent
import Foundation
import TandemCore
import Vapor

struct TicketDTO: Content, Equatable {
    var id: String
    var number: Int
    var title: String
    var description: String
    var organizationId: String
    var siteId: String?
    var contactId: String?
    var queueId: String?
    var teamId: String?
    var status: String
    var priority: String
    var source: String
    var assigneeIds: [String]
    var coManagedVisible: Bool
    var dueAt: Date?
    var version: Int
    var createdAt: Date?
    var updatedAt: Date?
    var responsibleSide: String

    /// An empty ticket, for readers that fill it column by column (`init(row:)`).
    init() {
        id = ""
        number = 0
        title = ""
        description = ""
        organizationId = ""
        status = ""
        priority = ""
        source = ""
        assigneeIds = []
        coManagedVisible = false
        version = 0
        responsibleSide = ResponsibleSide.msp.rawValue
    }

    init(_ ticket: Ticket, assignees: [UUID]) {
        id = ticket.id!.text
        number = ticket.number
        title = ticket.title
        description = ticket.description
        organizationId = ticket.organizationId.text
        siteId = ticket.siteId?.text
        contactId = ticket.contactId?.text
        queueId = ticket.queueId?.text
        teamId = ticket.teamId?.text
        status = ticket.status
        priority = ticket.priority
        source = ticket.source
        assigneeIds = assignees.map(\.text)
        coManagedVisible = ticket.coManagedVisible
        dueAt = ticket.dueAt
        version = ticket.version
        createdAt = ticket.createdAt
        updatedAt = ticket.updatedAt
        responsibleSide = ticket.responsibleSide
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The fields as `Ticket.columns` declares them (so a new column needs nothing here), the assignees,
    /// and for the API (not for storage: `JSONColumn`, the audit's JSON) the `reference` derived from the number.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for column in Ticket.columns {
            guard let name = column.key else { continue }
            let key = Key("\(name)")
            switch column.access {
            case .id(let get, _), .text(let get, _): try container.encode(get(self), forKey: key)
            case .optionalId(let get, _): try container.encodeIfPresent(get(self), forKey: key)
            case .int(let get, _): try container.encode(get(self), forKey: key)
            case .bool(let get, _): try container.encode(get(self), forKey: key)
            case .date(let get, _): try container.encodeIfPresent(get(self), forKey: key)
            case .unshown: break
            }
        }
        try container.encode(assigneeIds, forKey: Key("\(TicketJSONMember.assigneesKey)"))
        if encoder.userInfo[JSONColumn.storageKey] == nil {
            try container.encode(TicketReference.string(number: number), forKey: Key("\(TicketJSONMember.referenceKey)"))
        }
    }
}

/// A ticket as one principal is shown it: the fields `AccessPolicy.visibleTicketFields` allows its kind.
struct ShownTicket: JSONWritable {
    let ticket: TicketDTO
    let fields: Set<TicketField>?

    init(_ ticket: TicketDTO, to principal: Principal) {
        self.ticket = ticket
        fields = TicketField.shown(to: principal)
    }

    func write(to json: inout JSONWriter) {
        ticket.write(to: &json, showing: fields)
    }
}

extension TicketField {
    /// The fields `principal` is shown; nil when it is shown all of them.
    static func shown(to principal: Principal) -> Set<TicketField>? {
        let fields = AccessPolicy.visibleTicketFields(for: principal.kind)
        return fields.count == allCases.count ? nil : fields
    }

    /// A ticket's JSON object with only `fields`.
    static func keep(_ fields: Set<TicketField>, of object: [String: Any]) -> [String: Any] {
        object.filter { key, _ in TicketField(rawValue: key).map(fields.contains) ?? false }
    }
}

/// A ticket as an audit event holds it (its before or after JSON), to be shaped for one reader.
struct TicketSnapshot {
    private var object: [String: Any]

    init?(_ json: String?) {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        self.object = object
    }

    var assigneeIds: [UUID] { (object["assigneeIds"] as? [String] ?? []).compactMap(UUID.init(uuidString:)) }
    var contactId: UUID? { (object["contactId"] as? String).flatMap(UUID.init(uuidString:)) }
    /// The people it names: its assignees and its contact.
    var people: [UUID] { assigneeIds + (contactId.map { [$0] } ?? []) }

    /// With only `fields` (nil: all) and only the people among `people`.
    func shaped(showing fields: Set<TicketField>?, people: Set<UUID>) -> String? {
        var kept = object
        if let fields { kept = TicketField.keep(fields, of: kept) }
        if kept["assigneeIds"] != nil { kept["assigneeIds"] = assigneeIds.filter(people.contains).map(\.text) }
        if let contactId, !people.contains(contactId) { kept["contactId"] = nil }
        guard let data = try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The body of `POST /tickets` and `PATCH /tickets/{id}`: absent fields are left alone.
struct TicketInput: Decodable, Sendable {
    var title: Patch<String> = .absent
    var description: Patch<String> = .absent
    var organizationId: Patch<String> = .absent
    var siteId: Patch<String> = .absent
    var contactId: Patch<String> = .absent
    var queueId: Patch<String> = .absent
    var teamId: Patch<String> = .absent
    var status: Patch<String> = .absent
    var priority: Patch<String> = .absent
    var source: Patch<String> = .absent
    var assigneeIds: Patch<[String]> = .absent
    var coManagedVisible: Patch<Bool> = .absent
    var dueAt: Patch<Date> = .absent

    /// The fields the body sets (present, even as null).
    var changedFields: Set<TicketField> {
        let given: [(TicketField, Bool)] = [
            (.title, title.isAbsent), (.description, description.isAbsent), (.organizationId, organizationId.isAbsent), (.siteId, siteId.isAbsent),
            (.contactId, contactId.isAbsent), (.queueId, queueId.isAbsent), (.teamId, teamId.isAbsent), (.status, status.isAbsent),
            (.priority, priority.isAbsent), (.source, source.isAbsent), (.assigneeIds, assigneeIds.isAbsent), (.coManagedVisible, coManagedVisible.isAbsent),
            (.dueAt, dueAt.isAbsent),
        ]
        return Set(given.filter { !$0.1 }.map(\.0))
    }
}

/// The list filters of `GET /tickets` and `GET /tickets/count`.
struct TicketFilter: Sendable {
    var statuses: [TicketStatus] = []
    var organizationId: UUID?
    var queueId: UUID?
    var assigneeId: UUID?
    /// Which side holds the ticket (`?responsibleSide=msp|clientIT`).
    var responsibleSide: ResponsibleSide?
    /// Pages only (a site's ticket list).
    var siteId: UUID?
    /// Pages only (what deleting a team would touch).
    var teamId: UUID?
    var text: String?
    /// The list's order (`?sort=`); counts ignore it.
    var sort = TicketSort.default

    init() {}

    init(_ request: Request) throws {
        var validator = FieldValidator()
        if let text = request.queryText("status"), !text.isEmpty {
            statuses = text.split(separator: ",").compactMap { validator.choice(String($0), "status", as: TicketStatus.self) }
        }
        if let text = request.queryText("organizationId") { organizationId = validator.id(text, "organizationId") }
        if let text = request.queryText("queueId") { queueId = validator.id(text, "queueId") }
        if let text = request.queryText("assigneeId") { assigneeId = validator.id(text, "assigneeId") }
        if let text = request.queryText("responsibleSide"), !text.isEmpty {
            responsibleSide = validator.choice(text, "responsibleSide", as: ResponsibleSide.self)
        }
        if let text = request.queryText("q") {
            self.text = validator.text(text, "q", max: 200, required: false).flatMap { $0.isEmpty ? nil : $0 }
        }
        if let text = request.queryText("sort"), !text.isEmpty {
            if let sort = TicketSort(text) { self.sort = sort } else { validator.fail("sort", TicketSort.problem) }
        }
        let given = [(TicketField.queueId, "queueId", queueId), (.assigneeIds, "assigneeId", assigneeId)].filter { $0.2 != nil }
        let hidden = AccessPolicy.hiddenTicketFilters(try request.principal, fields: Set(given.map(\.0)))
        for (field, name, _) in given where hidden.contains(field) {
            validator.fail(name, "your access does not show this field of a ticket, so tickets cannot be filtered by it")
        }
        try validator.check()
    }

    /// The filter's id terms as a scope, to be combined with the policy's.
    var scope: Scope {
        .allOf([
            organizationId.map { .equals(.organization, $0) } ?? .all,
            queueId.map { .equals(.queue, $0) } ?? .all,
            assigneeId.map { .assignedTo($0) } ?? .all,
            siteId.map { .equals(.site, $0) } ?? .all,
            teamId.map { .equals(.team, $0) } ?? .all,
        ])
    }
}

/// The order of a ticket list (`?sort=`): a key, descending with a leading `-`. Every order ends
/// on the ticket number (in the same direction), so it is total and a page's cursor (the number of
/// its last ticket) says where the next page starts.
struct TicketSort: Sendable, Equatable {
    enum Key: String, Sendable, CaseIterable {
        case number, updatedAt, priority, dueAt
    }

    var key: Key
    var descending: Bool

    /// Newest first, as the list has always answered.
    static let `default` = TicketSort(key: .number, descending: true)
    static let problem = "must be one of " + Key.allCases.map { "\($0.rawValue), -\($0.rawValue)" }.joined(separator: ", ")

    init(key: Key, descending: Bool) {
        self.key = key
        self.descending = descending
    }

    init?(_ text: String) {
        let descending = text.hasPrefix("-")
        guard let key = Key(rawValue: descending ? String(text.dropFirst()) : text) else { return nil }
        self.init(key: key, descending: descending)
    }

    /// As `?sort=` takes it.
    var text: String { (descending ? "-" : "") + key.rawValue }

    /// The SQL terms the list is ordered by, each with whether it descends, for the ticket row named
    /// `table`. None can be NULL, so the keyset comparison of the next page holds; tickets without a
    /// due date come last in both directions.
    func terms(_ table: String) -> [(sql: String, descending: Bool)] {
        let column = { (name: String) in "\"\(table)\".\"\(name)\"" }
        let last: [(String, Bool)] = [(column("number"), descending)]
        switch key {
        case .number: return last
        case .updatedAt: return [("COALESCE(\(column("updated_at")), \(column("created_at")))", descending)] + last
        case .priority:
            let ranks = TicketPriority.allCases.enumerated().map { "WHEN '\($0.element.rawValue)' THEN \($0.offset)" }.joined(separator: " ")
            return [("(CASE \(column("priority")) \(ranks) ELSE \(TicketPriority.allCases.count) END)", descending)] + last
        case .dueAt:
            return [
                ("(CASE WHEN \(column("due_at")) IS NULL THEN 1 ELSE 0 END)", false),
                ("COALESCE(\(column("due_at")), \(column("created_at")))", descending),
            ] + last
        }
    }
}

struct NoteDTO: Content {
    var id: String
    var ticketId: String
    var body: String
    var publishTo: String
    var authorId: String
    var authorKind: String
    var authorName: String
    var createdAt: Date?
    var updatedAt: Date?

    init(_ note: Note) {
        id = note.id!.text
        ticketId = note.ticketId.text
        body = note.body
        publishTo = note.publishTo
        authorId = note.authorId.text
        authorKind = note.authorKind
        authorName = note.authorName
        createdAt = note.createdAt
        updatedAt = note.updatedAt
    }
}

struct NoteInput: Decodable, Sendable {
    var body: Patch<String> = .absent
    var publishTo: Patch<String> = .absent
}

/// A time entry. `amount` (the role's rate × hours, rounded to the cent half up, an exact JSON number) is there
/// only for those who may see billing on the ticket's organization (`AccessPolicy.seesAmount`; `shown(to:)`);
/// the audit log's copy has it.
struct TimeEntryDTO: Content {
    var id: String
    var ticketId: String
    var roleId: String?
    var minutes: Int
    var summary: String
    var publishTo: String
    var authorId: String
    var authorName: String
    var billable: Bool
    var startedAt: Date?
    var endedAt: Date?
    /// When the time counts: its start, else when it was logged (the timesheet week and contract period).
    var workedAt: Date
    var amount: Decimal?
    var createdAt: Date?
    var updatedAt: Date?

    init(_ entry: TimeEntry) {
        id = entry.id!.text
        ticketId = entry.ticketId.text
        roleId = entry.roleId?.text
        minutes = entry.minutes
        summary = entry.summary
        publishTo = entry.publishTo
        authorId = entry.authorId.text
        authorName = entry.authorName
        billable = entry.billable
        startedAt = entry.startedAt
        endedAt = entry.endedAt
        workedAt = entry.workedAt
        amount = entry.amount.decimal
        createdAt = entry.createdAt
        updatedAt = entry.updatedAt
    }

    /// The entry as `principal` is shown it on a ticket of `organizationId`.
    func shown(to principal: Principal, organizationId: UUID) -> TimeEntryDTO {
        guard !AccessPolicy.seesAmount(principal, organizationId: organizationId) else { return self }
        var shown = self
        shown.amount = nil
        return shown
    }
}

struct TimeEntryInput: Decodable, Sendable {
    var roleId: Patch<String> = .absent
    var minutes: Patch<Int> = .absent
    var summary: Patch<String> = .absent
    var publishTo: Patch<String> = .absent
    var billable: Patch<Bool> = .absent
    var startedAt: Patch<Date> = .absent
    var endedAt: Patch<Date> = .absent
}

struct AttachmentDTO: Content {
    var id: String
    var ticketId: String
    var filename: String
    var contentType: String
    var size: Int
    var sha256: String
    var publishTo: String
    var authorId: String
    var authorName: String
    var createdAt: Date?

    init(_ attachment: Attachment) {
        id = attachment.id!.text
        ticketId = attachment.ticketId.text
        filename = attachment.filename
        contentType = attachment.contentType
        size = attachment.size
        sha256 = attachment.sha256
        publishTo = attachment.publishTo
        authorId = attachment.authorId.text
        authorName = attachment.authorName
        createdAt = attachment.createdAt
    }
}

struct AttachmentInput: Decodable, Sendable {
    var filename: Patch<String> = .absent
    var contentType: Patch<String> = .absent
    var publishTo: Patch<String> = .absent
    /// The file's bytes, base64-encoded.
    var content: Patch<String> = .absent
}

struct TicketAccessDTO: Content {
    var ticketId: String
    var principalId: String
    var principalKind: String
    var principalName: String
    var allowed: Bool
    var reasons: [String]
}

struct AudienceMemberDTO: Content, Equatable {
    var id: String
    var name: String
}

struct AudiencePartyDTO: Content, Equatable {
    /// `msp`, `coManaged` or `contact`.
    var party: String
    /// Everyone of the party who could read the item.
    var count: Int
    /// Those of them the caller may see (`AccessPolicy.peopleScope`); the others are only counted.
    var members: [AudienceMemberDTO]
}

struct AudienceDTO: Content, Equatable {
    var ticketId: String
    var publishTo: String
    var parties: [AudiencePartyDTO]
}

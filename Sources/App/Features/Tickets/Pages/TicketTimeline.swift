import Fluent
import Foundation
import TandemCore
import Vapor

/// The ticket page's conversation: notes (those that came by mail marked so), time entries, attachments,
/// mail sent about the ticket and the ticket's changes, in one list, oldest first. Everything comes from the
/// API's reads under the principal's policy: `TicketItems.list` for items, `TicketService.history` for changes.
enum TicketTimeline {
    static let maxItems = 200
    static let maxEvents = 1000

    struct Entry: Encodable, Sendable {
        var anchor: String
        /// `note`, `mail`, `time`, `attachment`, `sent-mail` or `change`.
        var kind: String
        var kindLabel: String
        var author: String
        var when: String
        var whenISO: String
        var publishTo: String
        var publishKey: String
        var body: String
        /// A change's parts, one sentence each.
        var changes: [String]
        var detail: String?
        var url: String?
        var at: Date
        /// Ties at the same instant keep the order they were written in (ids are UUIDv7).
        var order: String
    }

    struct Timeline: Encodable, Sendable {
        var entries: [Entry]
        var totalTime: String
        var truncated: Bool
        var isEmpty: Bool { entries.isEmpty }

        enum CodingKeys: String, CodingKey { case entries, totalTime, truncated, isEmpty }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entries, forKey: .entries)
            try container.encode(totalTime, forKey: .totalTime)
            try container.encode(truncated, forKey: .truncated)
            try container.encode(isEmpty, forKey: .isEmpty)
        }
    }

    static func load(_ ticket: TicketDTO, by principal: Principal, zone: PageZone, on db: any Database) async throws -> Timeline {
        let id = UUID(uuidString: ticket.id)!
        let notes = try await TicketItems.list(Note.self, ticketId: id, page: PageRequest(limit: maxItems), by: principal, on: db)
        let times = try await TicketItems.list(TimeEntry.self, ticketId: id, page: PageRequest(limit: maxItems), by: principal, on: db)
        let attachments = try await TicketItems.list(Attachment.self, ticketId: id, page: PageRequest(limit: maxItems), by: principal, on: db)
        let roleNames = try await PageNames.of(
            Role.self, ids: times.items.compactMap(\.roleId), allowed: AccessPolicy.configurationScope(for: principal, .roles, .view) != .none, on: db
        ) { $0.name }
        let noteIds = notes.items.compactMap(\.id)
        let byMail =
            noteIds.isEmpty
            ? Set<UUID>() : Set(try await InboundMail.query(on: db).filter(\.$noteId ~~ noteIds.map { Optional($0) }).all().compactMap(\.noteId))

        var entries: [Entry] = []
        for note in notes.items {
            let mail = byMail.contains(note.id!)
            entries.append(
                entry(
                    "note-\(note.id!.uuidString.lowercased())", kind: mail ? "mail" : "note", label: mail ? "Mail" : "Note", author: note.authorName,
                    at: note.createdAt,
                    publishTo: note.publishTo, body: note.body, zone: zone))
        }
        for time in times.items {
            var item = entry(
                "time-\(time.id!.uuidString.lowercased())", kind: "time", label: "Time entry", author: time.authorName, at: time.createdAt,
                publishTo: time.publishTo,
                body: time.summary, zone: zone)
            // The amount only for those who see the organization's billing, as the API shows it.
            let amount =
                AccessPolicy.seesAmount(principal, organizationId: UUID(uuidString: ticket.organizationId) ?? UUID()) && time.billable
                ? time.amount.description : nil
            item.detail = [
                PageFormat.minutes(time.minutes), time.roleId.flatMap { roleNames[$0] }, time.billable ? "billable" : "not billable", amount,
            ].compactMap { $0 }.joined(separator: " · ")
            entries.append(item)
        }
        for attachment in attachments.items {
            var item = entry(
                "attachment-\(attachment.id!.uuidString.lowercased())", kind: "attachment", label: "Attachment", author: attachment.authorName,
                at: attachment.createdAt,
                publishTo: attachment.publishTo, body: attachment.filename, zone: zone)
            item.detail = PageFormat.bytes(attachment.size)
            item.url = "/api/v1/tickets/\(ticket.id)/attachments/\(attachment.id!.uuidString)/content"
            entries.append(item)
        }
        entries += try await sentMail(id, by: principal, zone: zone, on: db)

        let events = try await history(id, by: principal, on: db)
        let describer = try await ChangeDescriber.load(for: events, principal: principal, zone: zone, on: db)
        for event in events {
            guard let change = describer.describe(event) else { continue }
            var item = entry(
                "change-\(event.id.lowercased())", kind: "change", label: event.action == "created" ? "Opened" : "Change", author: event.actorName,
                at: event.at, publishTo: change.audience.rawValue, body: "", zone: zone)
            item.changes = change.sentences
            entries.append(item)
        }
        entries += try await SecurityRequestPanel.timelineEntries(id, by: principal, zone: zone, on: db)
        entries.sort { ($0.at, $0.order) < ($1.at, $1.order) }
        return Timeline(
            entries: entries, totalTime: PageFormat.minutes(times.items.reduce(0) { $0 + $1.minutes }),
            truncated: notes.nextCursor != nil || times.nextCursor != nil || attachments.nextCursor != nil)
    }

    static func entry(
        _ anchor: String, kind: String, label: String, author: String, at: Date?, publishTo: String, body: String, zone: PageZone
    ) -> Entry {
        let at = at ?? Date(timeIntervalSince1970: 0)
        return Entry(
            anchor: anchor, kind: kind, kindLabel: label, author: author, when: PageFormat.date(at, in: zone), whenISO: PageFormat.isoDate(at),
            publishTo: PageFormat.publishTo(publishTo), publishKey: publishTo, body: body, changes: [], detail: nil, url: nil, at: at,
            order: String(anchor.drop { $0 != "-" }))
    }

    /// Mail the help desk sent about the ticket, for those who read the outbox (as its API allows).
    static func sentMail(_ ticketId: UUID, by principal: Principal, zone: PageZone, on db: any Database) async throws -> [Entry] {
        guard (try? AccessPolicy.authorizeAdmin(principal, .manageSettings)) != nil else { return [] }
        let messages = try await OutboxMessage.query(on: db).filter(\.$ticketId == ticketId).filter(\.$channel == .email)
            .sort(\.$createdAt).limit(maxItems).all()
        return messages.map { message in
            var item = entry(
                "mail-\(message.id!.uuidString.lowercased())", kind: "sent-mail", label: "Mail sent", author: "Tandem", at: message.createdAt,
                publishTo: PublishTo.internal.rawValue, body: message.subject ?? "(no subject)", zone: zone)
            item.detail = "to \(message.recipient) · \(message.state.rawValue)"
            return item
        }
    }

    /// Every page of the ticket's history as `principal` may read it (the API's `GET /tickets/{id}/history`).
    static func history(_ id: UUID, by principal: Principal, on db: any Database) async throws -> [AuditEventDTO] {
        var events: [AuditEventDTO] = []
        var page = PageRequest(limit: PageRequest.maxLimit)
        while events.count < maxEvents {
            let result = try await TicketService.history(id, page: page, by: principal, on: db)
            events += result.items
            guard let next = result.nextCursor, let data = Data(base64URLEncoded: next), let after = String(data: data, encoding: .utf8) else { break }
            page = PageRequest(limit: PageRequest.maxLimit, after: after)
        }
        return events
    }
}

/// One ticket history event, in words: what changed, and who of the parties reads it.
struct ChangeDescriber: Sendable {
    struct Description {
        var fields: Set<TicketField>
        var sentences: [String]
        var audience: PublishTo
        var version: Int?
    }

    var queues: [UUID: String] = [:]
    var teams: [UUID: String] = [:]
    var sites: [UUID: String] = [:]
    var people: [UUID: String] = [:]
    /// The reader's zone, for the due dates told.
    var zone = PageZone.utc

    /// The order a change's parts are told in.
    static let order: [TicketField] = [
        .status, .priority, .title, .description, .queueId, .teamId, .assigneeIds, .coManagedVisible, .dueAt, .contactId, .siteId, .source,
    ]

    /// Names of what `events` point at, each kind only where the policy lets the principal read it. History
    /// already leaves out the people the principal may not see.
    static func load(for events: [AuditEventDTO], principal: Principal, zone: PageZone, on db: any Database) async throws -> ChangeDescriber {
        var ids: [TicketField: Set<UUID>] = [:]
        for event in events {
            for json in [event.before, event.after] {
                guard let object = Self.object(json) else { continue }
                for field in [TicketField.queueId, .teamId, .siteId, .contactId] {
                    if let id = (object[field.rawValue] as? String).flatMap(UUID.init(uuidString:)) { ids[field, default: []].insert(id) }
                }
                for text in object[TicketField.assigneeIds.rawValue] as? [String] ?? [] {
                    if let id = UUID(uuidString: text) { ids[.assigneeIds, default: []].insert(id) }
                }
            }
        }
        var names = ChangeDescriber(zone: zone)
        names.queues = try await PageNames.of(
            Queue.self, ids: Array(ids[.queueId] ?? []), allowed: AccessPolicy.configurationScope(for: principal, .queues, .view) != .none, on: db
        ) { $0.name }
        names.teams = try await PageNames.of(
            Team.self, ids: Array(ids[.teamId] ?? []), allowed: AccessPolicy.configurationScope(for: principal, .teams, .view) != .none, on: db
        ) { $0.name }
        names.sites = try await PageNames.of(
            Site.self, ids: Array(ids[.siteId] ?? []), allowed: AccessPolicy.organizationScope(for: principal, area: .sites, .view) != .none, on: db
        ) { $0.name }
        let people = Array((ids[.assigneeIds] ?? []).union(ids[.contactId] ?? []))
        names.people = try await PersonNames.of(people, visibleTo: principal, on: db)
        return names
    }

    static func object(_ json: String?) -> [String: Any]? {
        guard let json else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    /// The event in words; nil for an event with nothing to tell.
    func describe(_ event: AuditEventDTO) -> Description? {
        let before = Self.object(event.before) ?? [:], after = Self.object(event.after) ?? [:]
        let version = (after["version"] as? NSNumber)?.intValue
        if event.action == "created" {
            let how = (after[TicketField.source.rawValue] as? String).flatMap(SourceChannel.init(rawValue:)) == .email ? " by mail" : ""
            return Description(fields: [], sentences: ["opened the ticket\(how)"], audience: .all, version: version)
        }
        if event.action == "handedOff" {
            let side = (after["responsibleSide"] as? String).flatMap(ResponsibleSide.init(rawValue:))
            let reason = (after["reason"] as? String).map { ": “\($0)”" } ?? ""
            return Description(
                fields: [], sentences: ["handed the ticket to \(side?.label ?? "the other side")\(reason)"], audience: .internalAndCoManaged, version: version)
        }
        guard event.action == "updated" else { return nil }
        var fields: Set<TicketField> = []
        var sentences: [String] = []
        for field in Self.order {
            let old = before[field.rawValue], new = after[field.rawValue]
            guard Self.text(old) != Self.text(new) else { continue }
            fields.insert(field)
            sentences += sentence(field, old, new)
        }
        guard !sentences.isEmpty else { return nil }
        return Description(fields: fields, sentences: sentences, audience: AccessPolicy.historyAudience(ofChanged: fields), version: version)
    }

    func sentence(_ field: TicketField, _ old: Any?, _ new: Any?) -> [String] {
        let was = Self.text(old), now = Self.text(new)
        switch field {
        case .status: return ["changed the status from \(PageFormat.status(was ?? "")) to \(PageFormat.status(now ?? ""))"]
        case .priority: return ["changed the priority from \(PageFormat.priority(was ?? "")) to \(PageFormat.priority(now ?? ""))"]
        case .title: return ["renamed the ticket to “\(now ?? "")”"]
        case .description: return ["edited the description"]
        case .queueId: return [moved("queue", was, now, queues)]
        case .teamId: return [moved("team", was, now, teams)]
        case .siteId: return [moved("site", was, now, sites)]
        case .contactId: return [now.map { "changed the contact to \(name($0, people))" } ?? "removed the contact"]
        case .source: return ["changed the source to \(PageFormat.source(now ?? ""))"]
        case .coManagedVisible:
            return [((new as? Bool) ?? (new as? NSNumber)?.boolValue) == true ? "made it visible to co-managing users" : "hid it from co-managing users"]
        case .dueAt: return [Self.date(new).map { "set the due date to \(PageFormat.date($0, in: zone))" } ?? "removed the due date"]
        case .assigneeIds:
            let before = old as? [String] ?? [], after = new as? [String] ?? []
            let added = after.filter { !before.contains($0) }, removed = before.filter { !after.contains($0) }
            var parts: [String] = []
            if !added.isEmpty { parts.append("assigned \(added.map { name($0, people) }.joined(separator: ", "))") }
            if !removed.isEmpty { parts.append("unassigned \(removed.map { name($0, people) }.joined(separator: ", "))") }
            if parts.isEmpty { parts.append("reordered the assignees") }
            return parts
        default: return []
        }
    }

    func moved(_ what: String, _ was: String?, _ now: String?, _ names: [UUID: String]) -> String {
        switch (was, now) {
        case (nil, let now?): "put it in the \(what) \(name(now, names))"
        case (let was?, nil): "took it out of the \(what) \(name(was, names))"
        default: "moved it from the \(what) \(name(was ?? "", names)) to \(name(now ?? "", names))"
        }
    }

    func name(_ id: String, _ names: [UUID: String]) -> String {
        UUID(uuidString: id).flatMap { names[$0] } ?? "(not shown to you)"
    }

    /// A JSON value as comparable text; nil for absent or null.
    static func text(_ value: Any?) -> String? {
        switch value {
        case nil, is NSNull: return nil
        case let text as String: return text
        case let list as [String]: return list.joined(separator: ",")
        case let number as NSNumber: return number.stringValue
        default: return "\(value!)"
        }
    }

    /// A stored date: seconds since 2001 (`JSONEncoder`'s default) or ISO 8601 text.
    static func date(_ value: Any?) -> Date? {
        switch value {
        case let number as NSNumber: Date(timeIntervalSinceReferenceDate: number.doubleValue)
        case let text as String: ISO8601DateFormatter().date(from: text)
        default: nil
        }
    }
}

/// Names of people (MSP resources, co-managing users, contacts) by id, only those the viewer may see.
enum PersonNames {
    static func of(_ ids: [UUID], visibleTo viewer: Principal, on db: any Database) async throws -> [UUID: String] {
        let seen = Array(try await PeopleDirectory.visible(ids, to: viewer, on: db))
        guard !seen.isEmpty else { return [:] }
        var names = try await PageNames.of(Resource.self, ids: seen, allowed: true, on: db) { $0.fullName }
        for (id, user) in try await AdminNames.users(seen, on: db) { names[id] = user.name }
        for (id, name) in try await PageNames.of(Contact.self, ids: seen, allowed: true, on: db, { $0.fullName }) where names[id] == nil {
            names[id] = name
        }
        return names
    }
}

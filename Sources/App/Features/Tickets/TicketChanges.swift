import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// Ticket changes as the API and the pages ask for them: input validated, references checked, the
/// policy asked; then written by `TicketPipeline`.
extension TicketService {
    static func create(_ input: TicketInput, by principal: Principal, on db: any Database) async throws -> TicketDTO {
        var validator = FieldValidator()
        let title = validator.text(input.title.value, "title", max: 200)
        let description = validator.text(input.description.value ?? "", "description", max: 100_000, required: false, multiline: true) ?? ""
        let organizationId = validator.id(input.organizationId.value, "organizationId")
        let siteId = input.siteId.value.flatMap { validator.id($0, "siteId") }
        var contactId = input.contactId.value.flatMap { validator.id($0, "contactId") }
        let queueId = input.queueId.value.flatMap { validator.id($0, "queueId") }
        let teamId = input.teamId.value.flatMap { validator.id($0, "teamId") }
        let status = validator.choice(input.status.value ?? TicketStatus.new.rawValue, "status", as: TicketStatus.self)
        let priority = validator.choice(input.priority.value ?? TicketPriority.medium.rawValue, "priority", as: TicketPriority.self)
        let source = validator.choice(input.source.value ?? AccessPolicy.defaultSource(for: principal).rawValue, "source", as: SourceChannel.self)
        let assignees = (input.assigneeIds.value ?? []).compactMap { validator.id($0, "assigneeIds") }
        if status != nil, status != .new {
            validator.fail("status", "a new ticket starts as new")
        }
        let staffFields = [
            ("queueId", queueId != nil), ("teamId", teamId != nil), ("assigneeIds", !assignees.isEmpty),
            ("coManagedVisible", input.coManagedVisible.value != nil),
        ].filter(\.1).map(\.0)
        let byContact = AccessPolicy.ticketCreationByContact(principal, staffFieldsGiven: staffFields, contactId: contactId)
        for refusal in byContact.refusals { validator.fail(refusal.field, refusal.message) }
        contactId = byContact.contactId
        try validator.check()
        guard let title, let organizationId, let status, let priority, let source else { throw TandemError.validation(validator.errors) }

        try AccessPolicy.authorizeTicketCreation(principal, organizationId: organizationId)
        let coManagedVisible = input.coManagedVisible.value ?? false
        let contact = contactId
        let checkReferences = { @Sendable (db: any Database) async throws -> [UUID: PrincipalKind] in
            try await Self.checkReferences(
                organizationId: organizationId, siteId: siteId, contactId: contact, queueId: queueId, teamId: teamId,
                assigneeIds: assignees, coManagedVisible: coManagedVisible, by: principal, on: db)
        }

        let ticket = Ticket.new()
        ticket.id = .v7()
        ticket.title = title
        ticket.description = description
        ticket.organizationId = organizationId
        ticket.siteId = siteId
        ticket.contactId = contactId
        ticket.queueId = queueId
        ticket.teamId = teamId
        ticket.status = status.rawValue
        ticket.priority = priority.rawValue
        ticket.source = source.rawValue
        ticket.coManagedVisible = coManagedVisible
        ticket.dueAt = input.dueAt.value
        ticket.version = 1
        ticket.createdById = principal.id
        let now = db.now
        ticket.createdAt = now
        ticket.updatedAt = now
        let alone = { @Sendable (db: any Database, kinds: [UUID: PrincipalKind]) async throws -> TicketDTO in
            try await TicketPipeline.create(ticket, assignees: assignees, kinds: kinds, by: principal, on: db)
        }
        guard assignees.isEmpty else {
            let kinds = try await checkReferences(db)
            return try await db.write { db in try await alone(db, kinds) }
        }
        // Without assignees the references are checked by the INSERT itself (`Ticket.referencesHold`):
        // no read before the write. Only when it refuses are they read, to say which one is wrong.
        let created = try await db.write(batch: creationBatch, item: NewTicket(ticket, by: principal)) { db in
            try await alone(db, checkReferences(db))
        }
        if let created { return created }
        _ = try await checkReferences(db)
        throw TandemError.conflict("the ticket's organization, site, contact, queue or team changed while it was created; try again")
    }

    /// Its audit JSON is made before it queues, so the writer only binds and steps.
    struct NewTicket: Sendable {
        let ticket: Ticket
        let principal: Principal
        /// The audit event's JSON on either side of the number.
        let audit: (head: String, tail: String)

        init(_ ticket: Ticket, by principal: Principal) throws {
            self.ticket = ticket
            self.principal = principal
            audit = try Self.auditAroundNumber(ticket)
        }

        /// The JSON of the new ticket's audit event, before and after its number (not drawn yet).
        static func auditAroundNumber(_ ticket: Ticket) throws -> (head: String, tail: String) {
            ticket.number = Int.min
            // `JSONColumn.encode`'s JSON, written directly. Keys are sorted and strings escape their
            // quotes, so this text occurs once: at the number.
            var json = JSONWriter(capacity: 1024, style: .column)
            TicketDTO(ticket, assignees: []).write(to: &json)
            let marker = Array("\"number\":\(Int.min)".utf8), bytes = json.bytes
            guard let at = bytes.firstRange(of: marker) else { throw TandemError.conflict("could not write the ticket's audit event") }
            let numberAt = at.lowerBound + 9
            return (String(decoding: bytes[..<numberAt], as: UTF8.self), String(decoding: bytes[at.upperBound...], as: UTF8.self))
        }
    }

    /// Tickets without assignees created concurrently, each database's way (`SQLiteTicketStore.create`,
    /// `PostgresTicketStore.create`).
    static let creationBatch = WriteBatch<NewTicket, TicketDTO?>(
        name: "ticket-creation", sqlite: SQLiteTicketStore.create, postgres: PostgresTicketStore.create)

    /// Applies a PATCH. `ifMatch` is the client's ETag; a stale one changes nothing and answers 412.
    static func update(_ id: UUID, _ input: TicketInput, ifMatch: String?, by principal: Principal, on db: any Database) async throws -> TicketDTO {
        let current = try await visible(id, by: principal, on: db)
        try AccessPolicy.authorizeTicketChange(principal, fields: input.changedFields)
        if !input.organizationId.isAbsent, input.organizationId.value != current.organizationId.uuidString {
            throw TandemError.invalid("organizationId", "a ticket cannot move to another organization")
        }
        let reassignmentLimited = input.assigneeIds.isAbsent ? false : try await Setting.flag(Setting.coManagingUsersCannotReassign, on: db)
        return try await TicketPipeline.update(id, ifMatch: ifMatch, by: principal, on: db) { ticket, current, db in
            if !input.assigneeIds.isAbsent, (input.assigneeIds.value ?? []).compactMap(UUID.init(uuidString:)) != current.map(\.principalId) {
                try AccessPolicy.authorizeReassignment(
                    principal, currentAssigneeKinds: current.compactMap { PrincipalKind(rawValue: $0.principalKind) }, settingOn: reassignmentLimited)
            }
            return try await apply(input, to: ticket, current: current, by: principal, on: db)
        }
    }

    static func delete(_ id: UUID, ifMatch: String?, by principal: Principal, on db: any Database, blobs: any BlobStore) async throws {
        _ = try await visible(id, by: principal, on: db)
        let blobKeys = try await TicketPipeline.delete(id, ifMatch: ifMatch, by: principal, on: db)
        // Bytes go only after the rows that point at them are gone; a crash in between leaves an orphan, never a dangling row.
        for key in blobKeys { try? await blobs.delete(key, on: db) }
    }

    /// Applies a PATCH body; returns the new assignee list (nil when unchanged) and every assignee's kind.
    private static func apply(_ input: TicketInput, to ticket: Ticket, current: [TicketAssignee], by principal: Principal, on db: any Database) async throws
        -> (
            [UUID]?, [UUID: PrincipalKind]
        )
    {
        var validator = FieldValidator()
        if !input.title.isAbsent, let title = validator.text(input.title.value, "title", max: 200) { ticket.title = title }
        if !input.description.isAbsent {
            ticket.description = validator.text(input.description.value ?? "", "description", max: 100_000, required: false, multiline: true) ?? ""
        }
        if !input.priority.isAbsent, let priority = validator.choice(input.priority.value, "priority", as: TicketPriority.self) {
            ticket.priority = priority.rawValue
        }
        if !input.source.isAbsent, let source = validator.choice(input.source.value, "source", as: SourceChannel.self) { ticket.source = source.rawValue }
        if !input.status.isAbsent, let status = validator.choice(input.status.value, "status", as: TicketStatus.self) {
            let current = TicketStatus(rawValue: ticket.status) ?? .new
            if let next = try? current.transition(to: status) {
                ticket.status = next.rawValue
            } else {
                validator.fail("status", current.refusal(to: status))
            }
        }
        if !input.coManagedVisible.isAbsent {
            if let visible = input.coManagedVisible.value {
                ticket.coManagedVisible = visible
            } else {
                validator.fail("coManagedVisible", "must be true or false")
            }
        }
        if !input.dueAt.isAbsent { ticket.dueAt = input.dueAt.value }
        let siteId = optionalId(input.siteId, "siteId", &validator) { ticket.siteId = $0 }
        let contactId = optionalId(input.contactId, "contactId", &validator) { ticket.contactId = $0 }
        let queueId = optionalId(input.queueId, "queueId", &validator) { ticket.queueId = $0 }
        let teamId = optionalId(input.teamId, "teamId", &validator) { ticket.teamId = $0 }
        var assignees: [UUID]?
        switch input.assigneeIds {
        case .absent: break
        case .null: assignees = []
        case .value(let texts): assignees = texts.compactMap { validator.id($0, "assigneeIds") }
        }
        try validator.check()
        var kinds = Dictionary(
            current.map { ($0.principalId, PrincipalKind(rawValue: $0.principalKind) ?? .resource) }, uniquingKeysWith: { first, _ in first })
        // New assignees are checked; existing co-managing ones too when the ticket stops being co-managed visible.
        var toCheck = (assignees ?? []).filter { kinds[$0] == nil }
        if !ticket.coManagedVisible {
            toCheck += (assignees ?? current.map(\.principalId)).filter { kinds[$0] == .coManagingUser }
        }
        let checked = try await checkReferences(
            organizationId: ticket.organizationId, siteId: siteId, contactId: contactId, queueId: queueId, teamId: teamId,
            assigneeIds: toCheck, coManagedVisible: ticket.coManagedVisible, by: principal, on: db)
        kinds.merge(checked) { _, new in new }
        return (assignees, kinds)
    }

    static func assigneeRows(of ticketId: UUID, on db: any Database) async throws -> [TicketAssignee] {
        try await TicketAssignee.query(on: db).filter(\.$ticketId == ticketId).sort(\.$position).all()
    }

    /// Applies an optional id field of a PATCH; returns the new id when one was set.
    private static func optionalId(_ field: Patch<String>, _ name: String, _ validator: inout FieldValidator, _ apply: (UUID?) -> Void) -> UUID? {
        switch field {
        case .absent: return nil
        case .null: apply(nil); return nil
        case .value(let text):
            let id = validator.id(text, name)
            if let id { apply(id) }
            return id
        }
    }

    /// Referenced rows must exist and belong to the ticket's organization; assignees must be allowed the ticket.
    /// Returns each assignee's kind (MSP resource or co-managing user). An assignee `principal` may not see
    /// answers as an unknown id does, so a refusal never names anyone outside its scope.
    private static func checkReferences(
        organizationId: UUID, siteId: UUID?, contactId: UUID?, queueId: UUID?, teamId: UUID?, assigneeIds: [UUID],
        coManagedVisible: Bool, by principal: Principal, on db: any Database
    ) async throws -> [UUID: PrincipalKind] {
        var validator = FieldValidator()
        // Every reference in one round trip: scalar subqueries, one row whatever exists.
        var select = db.sql.select()
            .column(SQLSubquery.select { $0.column("co_management_enabled").from(Organization.schema).where("id", .equal, organizationId) }, as: "organization")
        if let siteId {
            select = select.column(
                SQLSubquery.select { $0.column(SQLRaw("1")).from(Site.schema).where("id", .equal, siteId).where("organization_id", .equal, organizationId) },
                as: "site")
        }
        if let contactId {
            select = select.column(
                SQLSubquery.select {
                    $0.column(SQLRaw("1")).from(Contact.schema).where("id", .equal, contactId).where("organization_id", .equal, organizationId)
                }, as: "contact")
        }
        if let queueId {
            select = select.column(SQLSubquery.select { $0.column(SQLRaw("1")).from(Queue.schema).where("id", .equal, queueId) }, as: "queue")
        }
        if let teamId {
            select = select.column(SQLSubquery.select { $0.column(SQLRaw("1")).from(Team.schema).where("id", .equal, teamId) }, as: "team")
        }
        guard let row = try await select.first() else { throw TandemError.conflict("could not check the ticket's references") }
        let organizationCoManaged = try row.decode(column: "organization", as: Bool?.self)
        if organizationCoManaged == nil {
            validator.fail("organizationId", "no organization with this id")
        }
        if siteId != nil, try row.decode(column: "site", as: Int?.self) == nil {
            validator.fail("siteId", "no site with this id in the ticket's organization")
        }
        if contactId != nil, try row.decode(column: "contact", as: Int?.self) == nil {
            validator.fail("contactId", "no contact with this id in the ticket's organization")
        }
        if queueId != nil, try row.decode(column: "queue", as: Int?.self) == nil { validator.fail("queueId", "no queue with this id") }
        if teamId != nil, try row.decode(column: "team", as: Int?.self) == nil { validator.fail("teamId", "no team with this id") }
        if Set(assigneeIds).count != assigneeIds.count { validator.fail("assigneeIds", "lists the same assignee twice") }
        var kinds: [UUID: PrincipalKind] = [:]
        let seen = try await PeopleDirectory.visible(assigneeIds, to: principal, on: db)
        for assigneeId in Set(assigneeIds) {
            let loaded = try await PrincipalLoader.load(id: assigneeId, kind: .resource, on: db)
            guard seen.contains(assigneeId),
                let assignee = try await loaded.asyncOr({ try await PrincipalLoader.load(id: assigneeId, kind: .coManagingUser, on: db) })
            else {
                validator.fail("assigneeIds", "no active resource or co-managing user with id \(assigneeId.uuidString)")
                continue
            }
            kinds[assigneeId] = assignee.kind
            let refusals = AccessPolicy.assignmentRefusals(
                assignee, organizationId: organizationId,
                organizationCoManaged: organizationCoManaged ?? false, coManagedVisible: coManagedVisible)
            if !refusals.isEmpty {
                validator.fail("assigneeIds", "\(assignee.displayName) cannot be assigned: \(refusals.joined(separator: "; "))")
            }
        }
        try validator.check()
        return kinds
    }

    /// Allocates a ticket number (`TicketStore.nextNumber`).
    static func nextNumber(on db: any Database) async throws -> Int {
        try await db.ticketStore.nextNumber(on: db)
    }
}

extension Optional where Wrapped: Sendable {
    /// `self ?? other()` for an async fallback.
    func asyncOr(_ other: () async throws -> Wrapped?) async rethrows -> Wrapped? {
        if let self { return self }
        return try await other()
    }
}

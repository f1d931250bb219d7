import Crypto
import Fluent
import Foundation
import TandemCore
import Vapor

/// Creating and changing notes, time entries and attachments.
enum TicketItemWrites {
    static let maxAttachmentBytes = 10 * 1024 * 1024

    static func createNote(ticketId: UUID, _ input: NoteInput, by principal: Principal, on db: any Database) async throws -> NoteDTO {
        _ = try await TicketItems.ticketForNewItem(Note.self, ticketId: ticketId, by: principal, on: db)
        var validator = FieldValidator()
        let body = validator.text(input.body.value, "body", max: 100_000, multiline: true)
        let requested = input.publishTo.value.flatMap { validator.choice($0, "publishTo", as: PublishTo.self) }
        try validator.check()
        let publishTo = try AccessPolicy.publishTo(for: principal, requested: requested)
        let note = Note()
        note.id = .v7()
        note.ticketId = ticketId
        note.body = body!
        note.publishTo = publishTo.rawValue
        note.authorId = principal.id
        note.authorKind = principal.kind.rawValue
        note.authorName = principal.displayName
        return try await TicketPipeline.add(note, by: principal, on: db, dto: NoteDTO.init)
    }

    static func updateNote(ticketId: UUID, id: UUID, _ input: NoteInput, by principal: Principal, on db: any Database) async throws -> NoteDTO {
        let (_, note) = try await TicketItems.changeable(Note.self, ticketId: ticketId, id: id, .edit, by: principal, on: db)
        let before = NoteDTO(note)
        var validator = FieldValidator()
        if !input.body.isAbsent, let body = validator.text(input.body.value, "body", max: 100_000, multiline: true) { note.body = body }
        if !input.publishTo.isAbsent, let requested = validator.choice(input.publishTo.value, "publishTo", as: PublishTo.self) {
            note.publishTo = try AccessPolicy.publishTo(for: principal, requested: requested).rawValue
        }
        try validator.check()
        return try await TicketPipeline.update(note, before: before, by: principal, on: db, dto: NoteDTO.init)
    }

    /// A time entry: minutes, or a start and an end (or a start and minutes); billable by default when it has a role
    /// (time without a role is never billable); its amount computed by the core (`TimeEntryBilling`) at the role's rate.
    static func createTimeEntry(ticketId: UUID, _ input: TimeEntryInput, by principal: Principal, on db: any Database) async throws -> TimeEntryDTO {
        let ticket = try await TicketItems.ticketForNewItem(TimeEntry.self, ticketId: ticketId, by: principal, on: db)
        var validator = FieldValidator()
        let span = TimeEntrySpan.resolve(minutes: input.minutes.value, startedAt: input.startedAt.value, endedAt: input.endedAt.value, validator: &validator)
        let summary = validator.text(input.summary.value, "summary", max: 2000, multiline: true)
        let roleId = input.roleId.value.flatMap { validator.id($0, "roleId") }
        let requested = input.publishTo.value.flatMap { validator.choice($0, "publishTo", as: PublishTo.self) }
        try validator.check()
        guard let span, let summary else { throw TandemError.validation(validator.errors) }
        if let roleId { try await Lookup.requireExisting(Role.self, [roleId], field: "roleId", on: db) }
        let role = try await timeEntryRole(roleId, by: principal, on: db)
        let billable = try billable(input.billable.value ?? (role != nil), role: role)
        let entry = TimeEntry()
        entry.id = .v7()
        entry.ticketId = ticketId
        entry.roleId = role
        entry.minutes = span.minutes
        entry.startedAt = span.startedAt
        entry.endedAt = span.endedAt
        entry.workedAt = span.startedAt ?? db.now
        entry.summary = summary
        entry.billable = billable
        entry.publishTo = try AccessPolicy.publishTo(for: principal, requested: requested).rawValue
        entry.authorId = principal.id
        entry.authorName = principal.displayName
        entry.bill(under: try await billingRole(role, on: db))
        let authorId = principal.id, workedAt = entry.workedAt, organizationId = ticket.organizationId
        let dto = try await TicketPipeline.add(
            entry, by: principal, on: db, dto: TimeEntryDTO.init,
            before: { db in try await Timesheets.requireUnlocked(personId: authorId, at: [workedAt], on: db) },
            after: { db, _ in try await BlockHours.thresholdsReached(organizationId: organizationId, workedAt: workedAt, by: principal, on: db) })
        return dto.shown(to: principal, organizationId: ticket.organizationId)
    }

    static func updateTimeEntry(ticketId: UUID, id: UUID, _ input: TimeEntryInput, by principal: Principal, on db: any Database) async throws -> TimeEntryDTO {
        let (ticket, entry) = try await TicketItems.changeable(TimeEntry.self, ticketId: ticketId, id: id, .edit, by: principal, on: db)
        let before = TimeEntryDTO(entry)
        let workedBefore = entry.workedAt
        var validator = FieldValidator()
        if !input.minutes.isAbsent || !input.startedAt.isAbsent || !input.endedAt.isAbsent {
            // A start or an end given replaces the stored one; without a new end, the end follows the start and the minutes.
            let startedAt = input.startedAt.isAbsent ? entry.startedAt : input.startedAt.value
            let endedAt =
                input.endedAt.isAbsent && (input.minutes.value != nil || !input.startedAt.isAbsent)
                ? nil : input.endedAt.isAbsent ? entry.endedAt : input.endedAt.value
            let minutes = input.minutes.value ?? (endedAt == nil ? entry.minutes : nil)
            if let span = TimeEntrySpan.resolve(minutes: minutes, startedAt: startedAt, endedAt: endedAt, validator: &validator) {
                entry.minutes = span.minutes
                entry.startedAt = span.startedAt
                entry.endedAt = span.endedAt
                entry.workedAt = span.startedAt ?? entry.createdAt ?? entry.workedAt
            }
        }
        if !input.summary.isAbsent, let summary = validator.text(input.summary.value, "summary", max: 2000, multiline: true) { entry.summary = summary }
        let roleBefore = entry.roleId
        switch input.roleId {
        case .absent: break
        case .null: entry.roleId = nil
        case .value(let text): entry.roleId = validator.id(text, "roleId")
        }
        if !input.publishTo.isAbsent, let requested = validator.choice(input.publishTo.value, "publishTo", as: PublishTo.self) {
            entry.publishTo = try AccessPolicy.publishTo(for: principal, requested: requested).rawValue
        }
        if case .null = input.billable { validator.fail("billable", "must be true or false") }
        try validator.check()
        if let roleId = entry.roleId { try await Lookup.requireExisting(Role.self, [roleId], field: "roleId", on: db) }
        if !input.roleId.isAbsent { entry.roleId = try await timeEntryRole(entry.roleId, by: principal, on: db) }
        if let billable = input.billable.value { entry.billable = billable } else if entry.roleId == nil { entry.billable = false }
        entry.billable = try billable(entry.billable, role: entry.roleId)
        // The rate the entry was priced at stays unless its role changes (or it never had one stored).
        let snapshot = BillingRole(
            hourlyRate: BillingDecimal(units: entry.hourlyRateUnits), blockHourMultiplier: BillingDecimal(units: entry.blockHourMultiplierUnits))
        let keepsRate = entry.roleId != nil && entry.roleId == roleBefore && (entry.hourlyRateUnits != 0 || entry.blockHourMultiplierUnits != 0)
        entry.bill(under: keepsRate ? snapshot : try await billingRole(entry.roleId, on: db))
        let authorId = entry.authorId, moments = [workedBefore, entry.workedAt], workedAt = entry.workedAt, organizationId = ticket.organizationId
        let dto = try await TicketPipeline.update(
            entry, before: before, by: principal, on: db, dto: TimeEntryDTO.init,
            check: { db in try await Timesheets.requireUnlocked(personId: authorId, at: moments, on: db) },
            after: { db, _ in try await BlockHours.thresholdsReached(organizationId: organizationId, workedAt: workedAt, by: principal, on: db) })
        return dto.shown(to: principal, organizationId: ticket.organizationId)
    }

    private static func billingRole(_ id: UUID?, on db: any Database) async throws -> BillingRole? {
        guard let id else { return nil }
        return try await Role.find(id, on: db)?.billing
    }

    /// Billable time needs a role: its rate is what bills it.
    private static func billable(_ billable: Bool, role: UUID?) throws -> Bool {
        if billable, role == nil { throw TandemError.invalid("billable", "billable time needs a role (its hourly rate bills the time); name a roleId") }
        return billable
    }

    /// SPEC §2: a co-managing user needs a role to log time, and logs it under one of their roles
    /// (their only one when none is named).
    static func timeEntryRole(_ requested: UUID?, by principal: Principal, on db: any Database) async throws -> UUID? {
        guard AccessPolicy.needsRoleToLogTime(principal) else { return requested }
        let roles = try await CoManagingUserRole.query(on: db).filter(\.$userId == principal.id).all().map(\.roleId)
        guard !roles.isEmpty else {
            throw TandemError.invalid("roleId", "a co-managing user needs a role to log time; an administrator can give you one")
        }
        guard let requested else {
            if roles.count == 1 { return roles[0] }
            throw TandemError.invalid("roleId", "name the role to log this time under (one of your roles)")
        }
        guard roles.contains(requested) else { throw TandemError.invalid("roleId", "must be one of your roles") }
        return requested
    }

    static func createAttachment(ticketId: UUID, _ input: AttachmentInput, by principal: Principal, on db: any Database, blobs: any BlobStore) async throws
        -> AttachmentDTO
    {
        _ = try await TicketItems.ticketForNewItem(Attachment.self, ticketId: ticketId, by: principal, on: db)
        var validator = FieldValidator()
        let filename = AttachmentFilename.validate(input.filename.value, &validator)
        let declaredType = validator.text(input.contentType.value, "contentType", max: 100)?.lowercased()
        let requested = input.publishTo.value.flatMap { validator.choice($0, "publishTo", as: PublishTo.self) }
        var bytes: Data?
        if let content = input.content.value {
            if let data = Data(base64Encoded: content, options: .ignoreUnknownCharacters), !data.isEmpty || content.isEmpty {
                if data.isEmpty { validator.fail("content", "the file is empty") } else { bytes = data }
            } else {
                validator.fail("content", "must be the file's bytes in base64")
            }
        } else {
            validator.fail("content", "is required")
        }
        try validator.check()
        guard let filename, let declaredType, let bytes else { throw TandemError.validation(validator.errors) }
        guard bytes.count <= maxAttachmentBytes else {
            throw TandemError.payloadTooLarge("An attachment may be at most \(maxAttachmentBytes / 1024 / 1024) MB; this one is \(bytes.count) bytes.")
        }
        try AttachmentContentType.check(declared: declaredType, bytes: bytes)
        let publishTo = try AccessPolicy.publishTo(for: principal, requested: requested)

        let attachment = Attachment()
        attachment.id = .v7()
        attachment.ticketId = ticketId
        attachment.filename = filename
        attachment.contentType = declaredType
        attachment.size = bytes.count
        attachment.sha256 = SHA256.hash(data: bytes).hex
        attachment.blobKey = attachment.id!.uuidString.lowercased()
        attachment.publishTo = publishTo.rawValue
        attachment.authorId = principal.id
        attachment.authorName = principal.displayName
        // The bytes are durable before the row that points at them commits.
        let key = attachment.blobKey
        return try await TicketPipeline.add(attachment, by: principal, on: db, dto: AttachmentDTO.init) { db in try await blobs.put(bytes, key: key, on: db) }
    }

    static func updateAttachment(ticketId: UUID, id: UUID, _ input: AttachmentInput, by principal: Principal, on db: any Database) async throws -> AttachmentDTO
    {
        let (_, attachment) = try await TicketItems.changeable(Attachment.self, ticketId: ticketId, id: id, .edit, by: principal, on: db)
        let before = AttachmentDTO(attachment)
        var validator = FieldValidator()
        if !input.filename.isAbsent, let filename = AttachmentFilename.validate(input.filename.value, &validator) { attachment.filename = filename }
        if !input.publishTo.isAbsent, let requested = validator.choice(input.publishTo.value, "publishTo", as: PublishTo.self) {
            attachment.publishTo = try AccessPolicy.publishTo(for: principal, requested: requested).rawValue
        }
        if !input.content.isAbsent || !input.contentType.isAbsent {
            validator.fail("content", "an attachment's bytes cannot change; add a new attachment")
        }
        try validator.check()
        return try await TicketPipeline.update(attachment, before: before, by: principal, on: db, dto: AttachmentDTO.init)
    }
}

/// An attachment's file name, on create and on rename: one line without control characters, and no path.
enum AttachmentFilename {
    static func validate(_ value: String?, _ validator: inout FieldValidator) -> String? {
        guard let filename = validator.text(value, "filename", max: 255) else { return nil }
        if filename.contains("/") || filename.contains("\\") || filename == "." || filename == ".." {
            validator.fail("filename", "must be a file name, not a path")
            return nil
        }
        return filename
    }
}

/// The attachment types Tandem accepts, and a check that the bytes are what the type says.
enum AttachmentContentType {
    static let allowed: Set<String> = [
        "text/plain", "text/csv", "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp",
        "application/zip", "message/rfc822", "application/json",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ]

    static func check(declared: String, bytes: Data) throws {
        guard allowed.contains(declared) else {
            throw TandemError.invalid("contentType", "'\(declared)' is not an accepted attachment type; accepted: \(allowed.sorted().joined(separator: ", "))")
        }
        let head = [UInt8](bytes.prefix(8))
        func starts(_ magic: [UInt8]) -> Bool { head.starts(with: magic) }
        let matches: Bool
        switch declared {
        case "application/pdf": matches = starts([0x25, 0x50, 0x44, 0x46])
        case "image/png": matches = starts([0x89, 0x50, 0x4E, 0x47])
        case "image/jpeg": matches = starts([0xFF, 0xD8, 0xFF])
        case "image/gif": matches = starts([0x47, 0x49, 0x46, 0x38])
        case "image/webp": matches = starts([0x52, 0x49, 0x46, 0x46])
        case "application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation":
            matches = starts([0x50, 0x4B, 0x03, 0x04])
        default:
            // Text types: valid UTF-8 without NUL bytes.
            matches = String(data: bytes, encoding: .utf8) != nil && !bytes.contains(0)
        }
        guard matches else {
            throw TandemError.invalid("content", "the bytes are not a \(declared) file")
        }
    }
}

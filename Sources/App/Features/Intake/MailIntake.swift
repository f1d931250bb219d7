import Crypto
import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// Email to ticket (SPEC §6): a raw message is parsed (`MailParser`), classified (auto-replies,
/// bounces, read receipts and Tandem's own mail never open tickets), deduplicated by Message-ID,
/// matched to who sent it and to the ticket it answers, and routed by the core's `IntakeDecision`:
/// a new ticket, a note on the ticket it threads to, or the triage list. What it becomes is written
/// in one transaction with the message's record, through the write pipeline (so rules and
/// notifications follow); a message that cannot be read stores nothing.
enum MailIntake {
    /// Whom the audit names for a new ticket from mail. A note from a known contact is written in the
    /// contact's name (so the contact is not notified of their own reply).
    static let actor = Principal(
        id: UUID(uuidString: "0193A000-0000-7000-8000-00000000A002")!, kind: .resource, displayName: "Email", securityLevelId: nil,
        permissions: SystemSecurityLevel.administrator.permissions)

    static let limits = MailLimits()

    static func receive(_ raw: [UInt8], envelopeFrom: String?, settings: AppSettings, on db: any Database) async throws -> IntakeResultDTO {
        let mail: ParsedMail
        do {
            mail = try MailParser.parse(raw, limits: limits)
        } catch {
            throw error.isOversized ? TandemError.payloadTooLarge("The message was refused: \(error.reason).") : TandemError.badRequest(error.reason)
        }
        let dedupeKey = mail.messageId ?? "sha256:" + SHA256.hash(data: raw).hex
        if let taken = try await InboundMail.query(on: db).filter(\.$dedupeKey == dedupeKey).first() { return duplicate(taken) }
        let classification = MailClassification.classify(mail, ownDomain: settings.mailDomain)
        let sender = (mail.from?.email ?? envelopeFrom).map { $0.lowercased() }
        let domain = sender.flatMap(MailDomain.of(address:))
        let publicDomains = PublicMailDomains(extra: settings.options.publicMailDomains)
        var facts = InboundMailFacts(
            messageIdSeen: false, kind: InboundMailKind(rawValue: classification.kind.rawValue) ?? .regular, kindEvidence: classification.reason,
            senderAddress: sender, senderMatches: [], domainMatches: [], isPublicDomain: domain.map(publicDomains.isPublic) ?? false,
            referencedTicket: nil)
        if facts.kind.isFromAPerson {
            if let sender {
                facts.senderMatches = try await senderMatches(sender, on: db)
            }
            if let domain, !facts.isPublicDomain {
                facts.domainMatches = try await Site.query(on: db).filter(\.$clientEmailDomain == domain).all().map {
                    SiteMatch(organizationId: $0.organizationId, siteId: $0.id!)
                }
            }
            facts.referencedTicket = try await referencedTicket(mail, on: db)
        }
        let decision = IntakeDecision.decide(facts)
        do {
            return try await db.write { db in try await apply(decision, mail: mail, raw: raw, dedupeKey: dedupeKey, settings: settings, on: db) }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // The same message delivered twice at once: the other delivery took it. Its write may be
            // committing in the same group as ours; once it is visible, this one is its duplicate.
            for _ in 0..<50 {
                if let taken = try await InboundMail.query(on: db).filter(\.$dedupeKey == dedupeKey).first() { return duplicate(taken) }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TandemError.conflict("the same message is being received by another delivery; try again")
        }
    }

    private static func duplicate(_ taken: InboundMail) -> IntakeResultDTO {
        IntakeResultDTO(outcome: "duplicate", ticketId: taken.ticketId?.uuidString, reason: "a message with this Message-ID was already taken")
    }

    /// The organization's contact who sent the message, if one has its From address (a triage decision's author).
    static func sender(of mail: ParsedMail, in organizationId: UUID, on db: any Database) async throws -> Contact? {
        guard let address = mail.from?.email.lowercased() else { return nil }
        return try await Contact.query(on: db).filter(\.$organizationId == organizationId).filter(\.$email == address).first()
    }

    /// Contacts (client profiles and co-managing users among them) and MSP resources with the sender's address.
    private static func senderMatches(_ sender: String, on db: any Database) async throws -> [SenderMatch] {
        var matches = try await Contact.query(on: db).filter(\.$email == sender).all().map {
            SenderMatch.contact($0.id!, organizationId: $0.organizationId, siteId: $0.siteId)
        }
        matches += try await Resource.query(on: db).filter(\.$email == sender).all().map { SenderMatch.mspResource($0.id!) }
        return matches
    }

    /// The ticket a reply answers: `[#T-000042]` in its subject, or a Message-ID it names (In-Reply-To,
    /// then References) that Tandem sent about a ticket or received into one.
    private static func referencedTicket(_ mail: ParsedMail, on db: any Database) async throws -> ReferencedTicket? {
        if let number = mail.subject.flatMap(TicketReference.find(in:)), let ticket = try await Ticket.query(on: db).filter(\.$number == number).first() {
            return ReferencedTicket(ticketId: ticket.id!, organizationId: ticket.organizationId, foundBy: .subjectTag)
        }
        let named = Array((mail.inReplyTo + mail.references.reversed()).prefix(50))
        guard !named.isEmpty else { return nil }
        var ticketId = try await OutboxMessage.query(on: db).filter(\.$messageId ~~ named).filter(\.$ticketId != nil).first()?.ticketId
        if ticketId == nil {
            ticketId = try await InboundMail.query(on: db).filter(\.$messageId ~~ named).filter(\.$ticketId != nil).first()?.ticketId
        }
        guard let ticketId, let ticket = try await Ticket.find(ticketId, on: db) else { return nil }
        return ReferencedTicket(ticketId: ticketId, organizationId: ticket.organizationId, foundBy: .inReplyTo)
    }

    private static func apply(
        _ decision: IntakeDecision, mail: ParsedMail, raw: [UInt8], dedupeKey: String, settings: AppSettings, on db: any Database
    ) async throws -> IntakeResultDTO {
        let record = InboundMail()
        record.id = .v7()
        record.dedupeKey = dedupeKey
        record.messageId = mail.messageId
        record.fromAddress = mail.from?.email.lowercased()
        record.subject = mail.subject.map { String(MailText.oneLine($0).prefix(500)) }
        record.receivedAt = db.now
        record.reason = decision.reason
        var result = IntakeResultDTO(outcome: "", reason: decision.reason)
        switch decision.outcome {
        case .duplicate:
            return IntakeResultDTO(outcome: "duplicate", reason: decision.reason)
        case .ignored:
            record.outcome = .ignored
        case .triage:
            record.outcome = .triage
            record.triageState = .waiting
            record.raw = Data(raw)
            result.triageId = record.id!.uuidString
        case .ticket(let organizationId, let siteId, let contactId):
            let ticket = try await createTicket(mail, organizationId: organizationId, siteId: siteId, contactId: contactId, settings: settings, on: db)
            record.outcome = .ticket
            record.ticketId = ticket
            result.ticketId = ticket.uuidString
        case .note(let ticketId, let contactId):
            let note = try await addNote(mail, to: ticketId, contactId: contactId, settings: settings, on: db)
            record.outcome = .note
            record.ticketId = ticketId
            record.noteId = note
            result.ticketId = ticketId.uuidString
            result.noteId = note.uuidString
        }
        result.outcome = record.outcome.rawValue
        try await record.create(on: db)
        return result
    }

    /// A new ticket from the message: its subject, its text, the sender as the contact, source email; the attachments follow.
    static func createTicket(
        _ mail: ParsedMail, organizationId: UUID, siteId: UUID?, contactId: UUID?, settings: AppSettings, on db: any Database
    ) async throws -> UUID {
        var input = TicketInput()
        let subject = mail.subject.map(MailText.oneLine).flatMap { $0.isEmpty ? nil : $0 } ?? "(no subject)"
        input.title = .value(String(subject.prefix(200)))
        input.description = .value(String(MailText.clean(mail.text).prefix(100_000)))
        input.organizationId = .value(organizationId.uuidString)
        if let siteId { input.siteId = .value(siteId.uuidString) }
        if let contactId { input.contactId = .value(contactId.uuidString) }
        input.source = .value(SourceChannel.email.rawValue)
        let ticket = try await TicketService.create(input, by: actor, on: db)
        let id = UUID(uuidString: ticket.id)!
        try await attach(mail.attachments, to: id, by: actor, settings: settings, on: db)
        return id
    }

    /// A reply as a note published to all: the new text only (the quoted history cut off), in the
    /// contact's name when one known contact wrote it.
    static func addNote(_ mail: ParsedMail, to ticketId: UUID, contactId: UUID?, settings: AppSettings, on db: any Database) async throws -> UUID {
        var author = actor
        if let contactId, let contact = try await Contact.find(contactId, on: db) {
            author = Principal(id: contactId, kind: .resource, displayName: contact.fullName, securityLevelId: nil, permissions: actor.permissions)
        }
        var input = NoteInput()
        let text = MailText.clean(mail.replyText)
        input.body = .value(String((text.isEmpty ? "(empty message)" : text).prefix(100_000)))
        input.publishTo = .value(PublishTo.all.rawValue)
        let note = try await TicketItemWrites.createNote(ticketId: ticketId, input, by: author, on: db)
        try await attach(mail.attachments, to: ticketId, by: author, settings: settings, on: db)
        return UUID(uuidString: note.id)!
    }

    /// The message's files as attachments published to all; one the attachment rules refuse (size, a
    /// type its bytes contradict) is left out, and the rest go on.
    private static func attach(_ files: [MailAttachment], to ticketId: UUID, by principal: Principal, settings: AppSettings, on db: any Database) async throws {
        for file in files where !file.bytes.isEmpty {
            var attachment = AttachmentInput()
            attachment.filename = .value(file.filename)
            attachment.contentType = .value(file.contentType)
            attachment.content = .value(Data(file.bytes).base64EncodedString())
            attachment.publishTo = .value(PublishTo.all.rawValue)
            let input = attachment
            do {
                _ = try await db.savepoint { db in
                    try await TicketItemWrites.createAttachment(ticketId: ticketId, input, by: principal, on: db, blobs: settings.blobs)
                }
            } catch let error as TandemError {
                Logger(label: "tandem.intake").notice("an attachment of an inbound message was left out", metadata: ["reason": "\(error)"])
            }
        }
    }
}

/// Mail text as ticket fields take it: no control characters but line breaks and tabs.
enum MailText {
    static func clean(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x09: scalars.append(scalar)
            case 0x0D: scalars.append("\n")
            case 0x00...0x1F, 0x7F...0x9F: continue
            default: scalars.append(scalar)
            }
        }
        return String(scalars).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func oneLine(_ text: String) -> String {
        clean(text).split(whereSeparator: { $0 == "\n" || $0 == "\t" }).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }
}

import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `POST /api/v1/inbound/email` (a raw `message/rfc822` body, for an MTA or a mail service's
/// webhook, with a token that holds `receiveMail`) and the triage list of what could not be
/// attributed: `GET /api/v1/inbound/triage`, `POST …/{id}/accept|merge|discard`.
enum IntakeAPI {
    static func register(_ api: any RoutesBuilder) {
        let inbound = api.grouped("inbound")
        // The parser's limit decides (413 with its reason); the body limit is just above it.
        inbound.on(.POST, "email", body: .collect(maxSize: ByteCount(value: MailIntake.limits.maxTotalBytes + 1))) { req async throws -> IntakeResultDTO in
            try AccessPolicy.authorizeMailIntake(req.principal)
            guard let type = req.headers.contentType, type.type.lowercased() == "message", type.subType.lowercased() == "rfc822" else {
                throw TandemError.unsupportedMediaType("send the raw message as message/rfc822")
            }
            guard let body = req.body.data, body.readableBytes > 0 else { throw TandemError.badRequest("the body is empty: send the raw message") }
            return try await MailIntake.receive(
                Array(buffer: body), envelopeFrom: req.queryText("envelopeFrom"), settings: req.settings, on: req.db)
        }.acceptingUploads()

        let triage = inbound.grouped("triage")
        triage.get { req async throws -> ListPage<TriageItemDTO> in
            try requireTriage(req)
            let (items, next) = try await InboundMail.query(on: req.db).filter(\.$triageState == .waiting).page(PageRequest(req))
            return ListPage(items: items.map(TriageItemDTO.init), nextCursor: next)
        }
        triage.post(":id", "accept") { req async throws -> IntakeResultDTO in
            let principal = try req.principal
            try requireTriage(req)
            let input = try req.content.decode(TriageAcceptInput.self)
            var validator = FieldValidator()
            let organizationId = validator.id(input.organizationId, "organizationId")
            let siteId = input.siteId.flatMap { validator.id($0, "siteId") }
            try validator.check()
            guard let organizationId else { throw TandemError.validation(validator.errors) }
            try AccessPolicy.authorizeTicketCreation(principal, organizationId: organizationId)
            if let siteId, try await Site.query(on: req.db).filter(\.$id == siteId).filter(\.$organizationId == organizationId).count() == 0 {
                throw TandemError.invalid("siteId", "must be a site of the organization")
            }
            return try await settle(req, .accepted) { mail, record, db in
                let contact = try await MailIntake.sender(of: mail, in: organizationId, on: db)
                let ticket = try await MailIntake.createTicket(
                    mail, organizationId: organizationId, siteId: siteId ?? contact?.siteId, contactId: contact?.id, settings: req.settings, on: db)
                record.outcome = .ticket
                record.ticketId = ticket
                return IntakeResultDTO(outcome: "ticket", ticketId: ticket.uuidString, reason: "accepted from triage by \(principal.displayName)")
            }
        }
        triage.post(":id", "merge") { req async throws -> IntakeResultDTO in
            let principal = try req.principal
            try requireTriage(req)
            let input = try req.content.decode(TriageMergeInput.self)
            var validator = FieldValidator()
            let ticketId = validator.id(input.ticketId, "ticketId")
            try validator.check()
            guard let ticketId else { throw TandemError.validation(validator.errors) }
            let ticket = try await TicketService.visible(ticketId, by: principal, on: req.db)
            return try await settle(req, .merged) { mail, record, db in
                let contact = try await MailIntake.sender(of: mail, in: ticket.organizationId, on: db)
                let note = try await MailIntake.addNote(mail, to: ticketId, contactId: contact?.id, settings: req.settings, on: db)
                record.outcome = .note
                record.ticketId = ticketId
                record.noteId = note
                return IntakeResultDTO(
                    outcome: "note", ticketId: ticketId.uuidString, noteId: note.uuidString, reason: "merged from triage by \(principal.displayName)")
            }
        }
        triage.post(":id", "discard") { req async throws -> HTTPStatus in
            try requireTriage(req)
            _ = try await settle(req, .discarded) { _, record, _ in
                record.outcome = .ignored
                return IntakeResultDTO(outcome: "ignored")
            }
            return .noContent
        }
    }

    private static func requireTriage(_ req: Request) throws {
        // Hidden, as every object the policy keeps from a principal.
        guard AccessPolicy.handlesTriage(try req.principal) else { throw TandemError.notFound("triage list") }
    }

    /// Settles a waiting message once: the first of two concurrent decisions moves it out of `waiting`
    /// (the other finds it gone: 404); `work` then writes what it becomes, in the same transaction.
    private static func settle(
        _ req: Request, _ state: InboundMail.TriageState,
        _ work: @escaping @Sendable (ParsedMail, InboundMail, any Database) async throws -> IntakeResultDTO
    ) async throws -> IntakeResultDTO {
        let id = try req.id("id", "message")
        let principal = try req.principal
        return try await req.db.write { db in
            let claimed = try await db.sql.update(InboundMail.schema).set("triage_state", to: state.rawValue)
                .where("id", .equal, id).where("triage_state", .equal, InboundMail.TriageState.waiting.rawValue)
                .returning("id").all()
            guard !claimed.isEmpty, let record = try await InboundMail.find(id, on: db), let raw = record.raw else {
                throw TandemError.notFound("message")
            }
            let mail = try MailParser.parse(Array(raw), limits: MailIntake.limits)
            let result = try await work(mail, record, db)
            record.raw = nil
            record.reason = result.reason ?? "discarded from triage by \(principal.displayName)"
            try await record.save(on: db)
            try await Audit.record(state.rawValue, InboundMail.schema, id: id, by: principal, ticketId: record.ticketId, after: result, on: db)
            return result
        }
    }
}

struct TriageItemDTO: Content {
    var id: String
    var from: String?
    var subject: String?
    var reason: String
    var receivedAt: Date

    init(_ mail: InboundMail) {
        id = mail.id!.uuidString
        from = mail.fromAddress
        subject = mail.subject
        reason = mail.reason
        receivedAt = mail.receivedAt
    }
}

struct TriageAcceptInput: Content {
    var organizationId: String?
    var siteId: String?
}

struct TriageMergeInput: Content {
    var ticketId: String?
}

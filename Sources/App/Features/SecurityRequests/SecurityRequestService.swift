import Fluent
import Foundation
import TandemCore

/// Security requests on tickets (SPEC §8): a technician opens one, the core decides
/// (`SecurityDecision`), the caller and the approvers get one-time codes through the outbox, and
/// every step runs through the ticket pipeline (`TicketPipeline.step`) with its audit entry and
/// events, moving the ticket to "waiting approval" or "escalated" when the request gets there.
enum SecurityRequests {
    static let what = "security request"

    struct OpenInput: Decodable, Sendable {
        var category: String?
        var subjectContactId: String?
        var callerContactId: String?
        var details: String?
        var passwordTarget: String?
        var software: String?
        var tier4Change: String?
    }

    // MARK: Reading

    /// The request if `principal` sees its ticket and may read security requests; otherwise 404. Any other operation
    /// also needs leave to work the ticket (its steps move the ticket's status and send codes): 403.
    static func visible(_ id: UUID, by principal: Principal, _ operation: AccessOperation = .view, on db: any Database) async throws -> SecurityRequest {
        let request = try await existing(id, on: db)
        let ticket = try await TicketService.visible(request.ticketId, by: principal, on: db)
        try AccessPolicy.authorizeSecurityRequests(principal, operation)
        if operation != .view { try await TicketService.requireWorkable(ticket, by: principal, on: db) }
        return request
    }

    static func list(ticketId: UUID, by principal: Principal, on db: any Database) async throws -> [SecurityRequestDTO] {
        _ = try await TicketService.visible(ticketId, by: principal, on: db)
        try AccessPolicy.authorizeSecurityRequests(principal, .view)
        let requests = try await SecurityRequest.query(on: db).filter(\.$ticketId == ticketId).sort(\.$createdAt).sort(\.$id).all()
        return try await SecurityRequestDTO.many(requests, on: db)
    }

    // MARK: Opening

    static func open(_ ticketId: UUID, _ input: OpenInput, by principal: Principal, settings: AppSettings, on db: any Database) async throws
        -> SecurityRequestDTO
    {
        let ticket = try await TicketService.visible(ticketId, by: principal, on: db)
        try AccessPolicy.authorizeSecurityRequests(principal, .create)
        try await TicketService.requireWorkable(ticket, by: principal, on: db)
        var validator = FieldValidator()
        let category = validator.choice(input.category, "category", as: SecurityCategory.self)
        let details = validator.text(input.details, "details", max: 4000, multiline: true)
        let subjectId = validator.id(input.subjectContactId, "subjectContactId", required: false)
        let callerId = validator.id(input.callerContactId, "callerContactId", required: false)
        let passwordTarget = validator.choice(input.passwordTarget, "passwordTarget", as: PasswordResetTarget.self, required: false)
        let tier4Change = validator.choice(input.tier4Change, "tier4Change", as: Tier4Change.self, required: false)
        let software = validator.text(input.software, "software", max: 200, required: false)
        try validator.check()
        let facts = SecurityRequestFacts(category!, passwordTarget: passwordTarget, software: software, tier4Change: tier4Change)
        try facts.validate()
        guard let siteId = ticket.siteId, let site = try await Site.find(siteId, on: db) else {
            throw TandemError.invalid("ticketId", "the ticket has no site; a security request follows its site's settings, so set the ticket's site first")
        }
        if let status = TicketStatus(rawValue: ticket.status), [.resolved, .closed].contains(status) {
            throw TandemError.conflict("the ticket is \(status.rawValue); reopen it before opening a security request")
        }
        let named = [subjectId, callerId, ticket.contactId].compactMap { $0 }
        let contacts = Dictionary(
            uniqueKeysWithValues: try await Contact.query(on: db).filter(\.$id ~~ named).filter(\.$organizationId == ticket.organizationId).all().map {
                ($0.id!, $0)
            })
        for (id, field) in [(subjectId, "subjectContactId"), (callerId, "callerContactId")] where id.map({ contacts[$0] == nil }) ?? false {
            throw TandemError.invalid(field, "must be a contact of the ticket's organization")
        }
        let (siteSettings, softwareList) = try await StoredSiteSecurity.of(siteId, on: db)
        let decision = SecurityDecision.decide(facts, settings: siteSettings, software: softwareList)
        let caller = (callerId ?? ticket.contactId).flatMap { contacts[$0] }
        // Refused before anything is written: a caller who cannot get a code cannot be authenticated.
        let callerAddress: String?
        if SecurityRequestProgress(decision).status == .callerAuthentication {
            guard let caller else {
                throw TandemError.invalid(
                    "callerContactId", "this request authenticates the caller by SMS code: name the caller (callerContactId) or give the ticket a contact")
            }
            callerAddress = try CallerAuthentication.address(name: caller.fullName, mobile: caller.mobileNumber, gateway: caller.smsGateway)
        } else {
            callerAddress = nil
        }
        let request = SecurityRequest()
        request.id = .v7()
        request.ticketId = ticketId
        request.organizationId = ticket.organizationId
        request.siteId = site.id!
        request.category = facts.category
        request.subjectContactId = subjectId
        request.callerContactId = caller?.id
        request.details = details ?? ""
        request.factsJSON = JSONColumn.encode(SecurityRequest.StoredFacts(passwordTarget: passwordTarget, software: software, tier4Change: tier4Change))
        request.requestedBy = principal.id
        request.requestedByName = principal.displayName
        return try await TicketPipeline.step(on: ticketId, on: db) { ticket, db in
            var progress = SecurityRequestProgress(decision)
            request.createdAt = db.now
            request.updatedAt = db.now
            request.progress = progress
            try await request.create(on: db)
            var entries = [
                Audit.entry(
                    "opened", SecurityRequest.schema, id: request.id, by: principal, organizationId: request.organizationId, ticketId: ticketId,
                    after: SecurityRequestAudit(request, progress),
                    events: [
                        DomainEvent(
                            .securityRequestOpened, entityId: request.id, ticket: ticket.eventFacts, data: DomainEventData(to: progress.status.rawValue))
                    ])
            ]
            if let callerAddress, let caller {
                entries.append(
                    try await sendCode(
                        .caller, to: SecurityApprover(.contact, caller.id!), address: (callerAddress, .sms), name: caller.fullName, request: request,
                        ticket: ticket, by: principal, settings: settings, on: db))
            } else {
                entries += try await contactNextApprover(&progress, request: request, ticket: ticket, by: principal, settings: settings, on: db)
            }
            return try await saved(request, progress, ticket: ticket, entries: entries, by: principal, on: db)
        }
    }

    // MARK: Codes

    /// What a code check came to, kept past the transaction that recorded the try.
    enum Verification: Sendable {
        case accepted(SecurityRequestDTO)
        case refused(OneTimeCode.Check)
    }

    /// Checks a code against the request's live codes of its current step (the caller's while the caller
    /// is authenticated, the approvers' while they are asked). Every try counts against each live code,
    /// under the ticket's lock, and is committed even when wrong; then a wrong one is refused. `principal`
    /// nil: the approver's own page, where only an approver's code is taken.
    static func verify(
        _ id: UUID, code: String, approve: Bool, by principal: Principal?, settings: AppSettings, on db: any Database
    ) async throws -> SecurityRequestDTO {
        // The approver's page has no principal: it finds the request by id, and only an approver's code is taken.
        let found = if let principal { try await visible(id, by: principal, .create, on: db) } else { try await existing(id, on: db) }
        guard code.count <= 64 else { throw TandemError.invalid("code", "a code has \(OneTimeCode.digits) digits") }
        let verification = try await TicketPipeline.step(on: found.ticketId, on: db) { ticket, db -> TicketPipeline.Step<Verification> in
            let request = try await existing(id, on: db)
            var progress = try request.requireProgress()
            let purpose: OneTimeCodeRow.Purpose
            switch progress.status {
            case .callerAuthentication where principal != nil: purpose = .caller
            case .contacting, .waitingApproval: purpose = .approver
            case let status:
                throw TandemError.conflict(
                    status.isFinal
                        ? "the request is already \(status.rawValue.lowercased())" : "no code is waiting to be entered on this request (\(status.title))")
            }
            let live = try await OneTimeCodeRow.query(on: db).filter(\.$requestId == id).filter(\.$purpose == purpose).filter(\.$usedAt == nil)
                .sort(\.$createdAt).all()
            guard !live.isEmpty else { throw TandemError.conflict("no code was sent for this step; ask for a new one") }
            let now = db.now
            var accepted: OneTimeCodeRow?
            var checks: [OneTimeCode.Check] = []
            for row in live {
                var stored = row.code
                let check = stored.check(code, binding: row.binding, now: now)
                row.code = stored
                try await row.save(on: db)
                checks.append(check)
                if check == .accepted && accepted == nil { accepted = row }
            }
            let actor: Principal?
            if let principal { actor = principal } else { actor = try await actorForCode(accepted, on: db) }
            guard let accepted else {
                let check = checks.first { if case .wrong = $0 { true } else { false } } ?? checks.first { $0 == .locked } ?? checks[0]
                let entry = Audit.entry(
                    "codeRefused", SecurityRequest.schema, id: id, by: actor, organizationId: request.organizationId, ticketId: request.ticketId,
                    after: ["purpose": purpose.rawValue, "reason": check.message])
                return .init(value: .refused(check), entries: [entry])
            }
            var entries: [AuditEntry] = []
            let before = progress.status
            switch purpose {
            case .caller:
                try progress.callerAuthenticated(at: now)
                entries.append(
                    Audit.entry(
                        "callerAuthenticated", SecurityRequest.schema, id: id, by: actor, organizationId: request.organizationId, ticketId: request.ticketId,
                        after: ["by": "oneTimeCode", "caller": accepted.recipientId.uuidString]))
                entries += try await contactNextApprover(&progress, request: request, ticket: ticket, by: actor, settings: settings, on: db)
            case .approver:
                try progress.answer(approved: approve, by: accepted.approver, authentication: .oneTimeCode, at: now)
                entries.append(
                    Audit.entry(
                        approve ? "approved" : "denied", SecurityRequest.schema, id: id, by: actor, organizationId: request.organizationId,
                        ticketId: request.ticketId, after: progress.process?.evidence))
            }
            entries += statusChange(request, from: before, to: progress, ticket: ticket, by: actor)
            let step = try await saved(request, progress, ticket: ticket, entries: entries, by: actor, on: db)
            return .init(value: .accepted(step.value), entries: step.entries, ticketStatus: step.ticketStatus, actor: step.actor)
        }
        switch verification {
        case .accepted(let dto): return dto
        case .refused(let check):
            if case .wrong = check { throw TandemError.invalid("code", check.message) }
            throw TandemError.conflict(check.message)
        }
    }

    /// A new code for the current step (the one sent expired or locked): the step's live codes stop
    /// working, and the caller, or the approver of the latest attempt, gets a fresh one.
    static func resend(_ id: UUID, by principal: Principal, settings: AppSettings, on db: any Database) async throws -> SecurityRequestDTO {
        let found = try await visible(id, by: principal, .create, on: db)
        return try await TicketPipeline.step(on: found.ticketId, on: db) { ticket, db in
            let request = try await existing(id, on: db)
            let progress = try request.requireProgress()
            let purpose: OneTimeCodeRow.Purpose, recipient: SecurityApprover
            switch progress.status {
            case .callerAuthentication:
                guard let callerId = request.callerContactId else { throw TandemError.conflict("the request names no caller") }
                purpose = .caller
                recipient = SecurityApprover(.contact, callerId)
            case .contacting, .waitingApproval:
                guard let last = progress.process?.attempts.last else { throw TandemError.conflict("no approver has been asked yet") }
                purpose = .approver
                recipient = last.approver
            case let status:
                throw TandemError.conflict("no code is waiting on this request (\(status.title))")
            }
            try await OneTimeCodeRow.query(on: db).filter(\.$requestId == id).filter(\.$purpose == purpose).filter(\.$usedAt == nil)
                .set(\.$attemptsLeft, to: 0).update()
            guard let contact = try await Contact.find(recipient.id, on: db) else { throw TandemError.conflict("the code's recipient no longer exists") }
            let address: (String, OutboxMessage.Channel)?
            if purpose == .caller {
                address = (try CallerAuthentication.address(name: contact.fullName, mobile: contact.mobileNumber, gateway: contact.smsGateway), .sms)
            } else {
                address = contact.codeAddress
            }
            let entry = try await sendCode(
                purpose, to: recipient, address: address, name: contact.fullName, request: request, ticket: ticket, by: principal, settings: settings,
                on: db)
            request.updatedAt = db.now
            try await request.save(on: db)
            return .init(value: try await SecurityRequestDTO.many([request], on: db)[0], entries: [entry])
        }
    }

    // MARK: The technician's and the MSP's steps

    enum Action: Sendable {
        /// The approver of the current attempt did not answer.
        case unanswered
        case escalate
        /// A listed client approver's answer given by phone, recorded by the technician (sites that do not authenticate approvers).
        case recordAnswer(approverId: UUID, approve: Bool)
        /// An MSP resource decides, signed in, once the request is escalated.
        case decideForMSP(approve: Bool)
    }

    static func act(_ id: UUID, _ action: Action, by principal: Principal, settings: AppSettings, on db: any Database) async throws -> SecurityRequestDTO {
        let found = try await visible(id, by: principal, .create, on: db)
        return try await TicketPipeline.step(on: found.ticketId, on: db) { ticket, db in
            let request = try await existing(id, on: db)
            var progress = try request.requireProgress()
            let before = progress.status
            var entries: [AuditEntry] = []
            func entry(_ action: String, _ after: (any Encodable & Sendable)?) -> AuditEntry {
                Audit.entry(
                    action, SecurityRequest.schema, id: id, by: principal, organizationId: request.organizationId, ticketId: request.ticketId, after: after)
            }
            switch action {
            case .unanswered:
                try progress.unanswered()
                entries.append(entry("unanswered", ["attempts": progress.process?.attempts.count ?? 0]))
                entries += try await contactNextApprover(&progress, request: request, ticket: ticket, by: principal, settings: settings, on: db)
            case .escalate:
                try progress.escalate()
                entries.append(entry("escalated", nil))
            case .recordAnswer(let approverId, let approve):
                guard let approver = progress.process?.plan.approvers.first(where: { $0.id == approverId && !$0.isMSP }) else {
                    throw TandemError.invalid("approverId", "not a client approver of this request")
                }
                try progress.answer(approved: approve, by: approver, authentication: .none, at: db.now)
                entries.append(entry(approve ? "approved" : "denied", progress.process?.evidence))
            case .decideForMSP(let approve):
                let listed = progress.process?.plan.approvers.listsMSPApprover(principal.id) ?? false
                try AccessPolicy.authorizeMSPApproval(principal, listed: listed, requestedBy: request.requestedBy)
                try progress.answer(approved: approve, by: SecurityApprover(.resource, principal.id), authentication: .signedIn, at: db.now)
                entries.append(entry(approve ? "approved" : "denied", progress.process?.evidence))
            }
            entries += statusChange(request, from: before, to: progress, ticket: ticket, by: principal)
            return try await saved(request, progress, ticket: ticket, entries: entries, by: principal, on: db)
        }
    }

    // MARK: Steps inside the ticket's lock

    /// Sends a code to the next approver and records the attempt, if the request is asking approvers.
    /// An approver with neither a mobile and gateway nor an email is still "attempted" (the technician
    /// calls); their entry says no code went.
    private static func contactNextApprover(
        _ progress: inout SecurityRequestProgress, request: SecurityRequest, ticket: Ticket, by actor: Principal?, settings: AppSettings,
        on db: any Database
    ) async throws -> [AuditEntry] {
        guard let approver = progress.nextApprover else { return [] }
        let contact = try await Contact.find(approver.id, on: db)
        try progress.attempted(at: db.now)
        return [
            try await sendCode(
                .approver, to: approver, address: contact?.codeAddress, name: contact?.fullName ?? "an approver who no longer exists", request: request,
                ticket: ticket, by: actor, settings: settings, on: db)
        ]
    }

    /// Issues a code for `recipient`, queues its message (erased from the outbox once delivered) and
    /// answers the audit entry of the step. The code itself is never stored or logged in plaintext.
    private static func sendCode(
        _ purpose: OneTimeCodeRow.Purpose, to recipient: SecurityApprover, address: (String, OutboxMessage.Channel)?, name: String,
        request: SecurityRequest, ticket: Ticket, by actor: Principal?, settings: AppSettings, on db: any Database
    ) async throws -> AuditEntry {
        let (code, stored) = OneTimeCode.issue(binding: OneTimeCodeRow.binding(request: request.id!, purpose: purpose, recipient: recipient.id), now: db.now)
        let row = OneTimeCodeRow()
        row.id = .v7()
        row.requestId = request.id!
        row.purpose = purpose
        row.recipientKind = recipient.kind
        row.recipientId = recipient.id
        row.sentTo = address.map { MaskedAddress.mask($0.0) }
        row.hash = stored.hash
        row.salt = stored.salt
        row.expiresAt = stored.expiresAt
        row.attemptsLeft = stored.attemptsLeft
        row.createdAt = db.now
        if let (to, channel) = address {
            let text = SecurityCodeMessage.text(
                purpose: purpose, code: code, request: request, ticketNumber: ticket.number, channel: channel, baseURL: settings.options.publicURL)
            let messageId = MailMessage.messageId(.v7(), domain: settings.mailDomain)
            let subject = SecurityCodeMessage.subject(purpose: purpose, request: request)
            let mail = OutgoingMail(
                from: MailAddress(settings.mailFrom, name: "Help desk"), to: [MailAddress(to)], subject: subject, text: text, messageId: messageId,
                date: db.now)
            let message = OutboxMessage(channel: channel, recipient: to, subject: subject, body: try MailMessage.build(mail), messageId: messageId, at: db.now)
            message.ticketId = request.ticketId
            message.eraseBodyWhenSent = true
            try await message.create(on: db)
        } else {
            // Nowhere to send it: the code is locked at once, so only the technician's call can reach this approver.
            row.attemptsLeft = 0
        }
        try await row.create(on: db)
        return Audit.entry(
            address == nil ? "codeNotSent" : "codeSent", SecurityRequest.schema, id: request.id, by: actor, organizationId: request.organizationId,
            ticketId: request.ticketId,
            after: [
                "purpose": purpose.rawValue, "to": name, "via": address.map { $0.1.rawValue } ?? "none",
                "address": row.sentTo ?? "no mobile with SMS gateway and no email", "expiresAt": ISO8601DateFormatter().string(from: row.expiresAt),
            ])
    }

    /// The `securityRequest.statusChanged` entry when a step moved the request.
    private static func statusChange(
        _ request: SecurityRequest, from before: SecurityRequestProgress.Status, to progress: SecurityRequestProgress, ticket: Ticket, by actor: Principal?
    ) -> [AuditEntry] {
        guard before != progress.status else { return [] }
        let event = DomainEvent(
            .securityRequestStatusChanged, entityId: request.id, ticket: ticket.eventFacts,
            data: DomainEventData(from: before.rawValue, to: progress.status.rawValue))
        return [
            Audit.entry(
                "statusChanged", SecurityRequest.schema, id: request.id, by: actor, organizationId: request.organizationId, ticketId: request.ticketId,
                before: ["status": before.rawValue], after: ["status": progress.status.rawValue], events: [event])
        ]
    }

    /// Stores the request's new progress and answers the step: its DTO, its entries, and the ticket status it asks for.
    private static func saved(
        _ request: SecurityRequest, _ progress: SecurityRequestProgress, ticket: Ticket, entries: [AuditEntry], by actor: Principal?,
        on db: any Database
    ) async throws -> TicketPipeline.Step<SecurityRequestDTO> {
        request.progress = progress
        request.updatedAt = db.now
        try await request.save(on: db)
        return .init(
            value: try await SecurityRequestDTO.many([request], on: db)[0], entries: entries,
            ticketStatus: progress.ticketStatus(from: TicketStatus(rawValue: ticket.status) ?? .new), actor: actor)
    }

    /// The request, or 404 (read before a step and again under its ticket's lock).
    private static func existing(_ id: UUID, on db: any Database) async throws -> SecurityRequest {
        guard let request = try await SecurityRequest.find(id, on: db) else { throw TandemError.notFound(what) }
        return request
    }

    /// Who entered a code on the approver's page: the approver it was sent to, for the audit log.
    private static func actorForCode(_ row: OneTimeCodeRow?, on db: any Database) async throws -> Principal? {
        guard let row, let contact = try await Contact.find(row.recipientId, on: db) else { return nil }
        return Principal(
            id: contact.id!, kind: .contact, displayName: contact.fullName, securityLevelId: nil, permissions: .nothing,
            organizationId: contact.organizationId, contactId: contact.id, portalOrganizationWide: false)
    }
}

/// The audit log's record of a new request: what was asked and decided, never a code.
struct SecurityRequestAudit: Encodable, Sendable {
    var category: SecurityCategory
    var subjectContactId: UUID?
    var callerContactId: UUID?
    var details: String
    var status: SecurityRequestProgress.Status
    var reason: String

    init(_ request: SecurityRequest, _ progress: SecurityRequestProgress) {
        category = request.category
        subjectContactId = request.subjectContactId
        callerContactId = request.callerContactId
        details = request.details
        status = progress.status
        reason = progress.decision.reason
    }
}

extension Contact {
    /// The first mobile number of the contact's profile.
    var mobileNumber: String? { phones.first { PhoneKind(rawValue: $0.kind) == .mobile }?.number }

    /// Where an approver's code goes: an SMS through the gateway when the profile has a mobile and
    /// gateway, else an email; nil when neither.
    var codeAddress: (String, OutboxMessage.Channel)? {
        if let sms = Person.smsAddress(self) { return (sms, .sms) }
        if let email, MailAddress.isValid(email) { return (email, .email) }
        return nil
    }
}

/// The text of a code's SMS or mail: short enough for an SMS, with the approver's page link.
enum SecurityCodeMessage {
    static func subject(purpose: OneTimeCodeRow.Purpose, request: SecurityRequest) -> String {
        purpose == .caller ? "Your help desk verification code" : "Approval needed: \(request.category.title)"
    }

    static func text(
        purpose: OneTimeCodeRow.Purpose, code: String, request: SecurityRequest, ticketNumber: Int, channel: OutboxMessage.Channel, baseURL: String?
    ) -> String {
        let minutes = Int(OneTimeCode.lifetime / 60)
        switch purpose {
        case .caller:
            return "Your help desk verification code is \(code). Read it to the technician on the phone. It expires in \(minutes) minutes."
        case .approver:
            let base = (baseURL ?? "").hasSuffix("/") ? String((baseURL ?? "").dropLast()) : (baseURL ?? "")
            let link = "\(base)/approvals/\(request.id!.uuidString.lowercased())"
            if channel == .sms {
                return "\(request.category.title) needs your approval (ticket \(ticketNumber)). Code \(code), \(minutes) min. Approve or deny: \(link)"
            }
            return """
                \(request.requestedByName) asks for your approval of a security-related request on ticket \(ticketNumber).

                Request: \(request.category.title)
                Details: \(request.details)

                Your code: \(code) (expires in \(minutes) minutes; it can be used once).
                Approve or deny on \(link), or read the code to the technician.

                If you did not expect this, deny it or call your help desk.
                """
        }
    }
}

/// An address shown as evidence without giving it away: `••••4567@txt.example`, `a•••@contoso.example`.
enum MaskedAddress {
    static func mask(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "••••" }
        let local = address[..<at], domain = address[at...]
        if local.allSatisfy(\.isNumber) { return "••••\(local.suffix(4))\(domain)" }
        return "\(local.prefix(1))•••\(domain)"
    }
}

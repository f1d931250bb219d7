import Fluent
import Foundation
import TandemCore
import Vapor

/// `POST|GET /api/v1/tickets/{id}/security-requests`, `GET /api/v1/security-requests/{id}`,
/// `POST /api/v1/security-requests/{id}/codes/verify` `{code, decision?}`, `POST …/codes` (a new
/// code for the current step), `POST …/unanswered`, `POST …/escalate`, `POST …/decision`
/// `{decision, approverId?}`.
enum SecurityRequestsAPI {
    static func register(_ api: any RoutesBuilder) {
        let onTicket = api.grouped("tickets", ":id", "security-requests")
        onTicket.get { req async throws -> ListPage<SecurityRequestDTO> in
            ListPage(items: try await SecurityRequests.list(ticketId: req.id("id", TicketService.what), by: req.principal, on: req.db), nextCursor: nil)
        }
        onTicket.post { req async throws -> Response in
            let input = try req.content.decode(SecurityRequests.OpenInput.self)
            let dto = try await SecurityRequests.open(req.id("id", TicketService.what), input, by: req.principal, settings: req.settings, on: req.db)
            return try await dto.encodeResponse(status: .created, for: req)
        }
        let request = api.grouped("security-requests", ":id")
        request.get { req async throws -> SecurityRequestDTO in
            let found = try await SecurityRequests.visible(req.id("id", SecurityRequests.what), by: req.principal, on: req.db)
            return try await SecurityRequestDTO.many([found], on: req.db)[0]
        }
        request.post("codes", "verify") { req async throws -> SecurityRequestDTO in
            let input = try req.content.decode(VerifyInput.self)
            return try await SecurityRequests.verify(
                req.id("id", SecurityRequests.what), code: input.code ?? "", approve: try input.approves(), by: req.principal, settings: req.settings,
                on: req.db)
        }
        request.post("codes") { req async throws -> SecurityRequestDTO in
            try await SecurityRequests.resend(req.id("id", SecurityRequests.what), by: req.principal, settings: req.settings, on: req.db)
        }
        request.post("unanswered") { req async throws -> SecurityRequestDTO in
            try await SecurityRequests.act(req.id("id", SecurityRequests.what), .unanswered, by: req.principal, settings: req.settings, on: req.db)
        }
        request.post("escalate") { req async throws -> SecurityRequestDTO in
            try await SecurityRequests.act(req.id("id", SecurityRequests.what), .escalate, by: req.principal, settings: req.settings, on: req.db)
        }
        request.post("decision") { req async throws -> SecurityRequestDTO in
            let input = try req.content.decode(DecisionInput.self)
            return try await SecurityRequests.act(
                req.id("id", SecurityRequests.what), try input.action(), by: req.principal, settings: req.settings, on: req.db)
        }
    }

    struct VerifyInput: Content {
        var code: String?
        /// For an approver's code: "approve" (the default) or "deny".
        var decision: String?

        func approves() throws -> Bool {
            var validator = FieldValidator()
            if code == nil { validator.fail("code", "is required") }
            let decision = validator.choice(decision, "decision", as: Decision.self, required: false)
            try validator.check()
            return decision != .deny
        }
    }

    enum Decision: String, CaseIterable {
        case approve, deny
    }

    struct DecisionInput: Content {
        var decision: String?
        /// A client approver whose answer (given by phone) the technician records; without it the signed-in MSP resource decides.
        var approverId: String?

        func action() throws -> SecurityRequests.Action {
            var validator = FieldValidator()
            let decision = validator.choice(decision, "decision", as: Decision.self)
            let approverId = validator.id(approverId, "approverId", required: false)
            try validator.check()
            if let approverId { return .recordAnswer(approverId: approverId, approve: decision == .approve) }
            return .decideForMSP(approve: decision == .approve)
        }
    }
}

struct SecurityRequestDTO: Content {
    struct Person: Codable, Sendable {
        var kind: SecurityApprover.Kind
        var id: UUID
        /// Nil when the person no longer exists.
        var name: String?

        var approver: SecurityApprover { SecurityApprover(kind, id) }
    }

    struct Attempt: Codable, Sendable {
        var approver: Person
        var at: Date
        var unanswered: Bool
        /// Where the code went, masked; nil when nothing could be sent.
        var sentTo: String?
    }

    /// Who answered, how they were authenticated, and when.
    struct Evidence: Codable, Sendable {
        var approver: Person
        var approved: Bool
        var authentication: ApprovalProcess.Authentication
        var at: Date
    }

    var id: UUID
    var ticketId: UUID
    var siteId: UUID
    var category: SecurityCategory
    var categoryTitle: String
    var subjectContactId: UUID?
    var callerContactId: UUID?
    var details: String
    var passwordTarget: PasswordResetTarget?
    var software: String?
    var tier4Change: Tier4Change?
    var status: SecurityRequestProgress.Status
    var statusTitle: String
    /// Why the core decided as it did, in words.
    var reason: String
    var authenticateCaller: Bool
    var callerAuthenticatedAt: Date?
    var callerCodeSentTo: String?
    var authenticateApprover: Bool
    var escalatesToMSP: Bool
    var approvers: [Person]
    var attempts: [Attempt]
    var evidence: Evidence?
    var requestedBy: UUID?
    var requestedByName: String
    var createdAt: Date
    var updatedAt: Date

    /// The requests' DTOs with their people's names and codes' masked addresses, read once for all.
    static func many(_ requests: [SecurityRequest], on db: any Database) async throws -> [SecurityRequestDTO] {
        guard !requests.isEmpty else { return [] }
        let codes = try await OneTimeCodeRow.query(on: db).filter(\.$requestId ~~ requests.compactMap(\.id)).sort(\.$createdAt).all()
        let progresses = requests.map(\.progress)
        let people = Set(progresses.flatMap { $0?.process?.plan.approvers ?? [] } + progresses.compactMap { $0?.process?.evidence?.approver })
        var names: [UUID: String] = [:]
        let contactIds = people.filter { !$0.isMSP }.map(\.id), resourceIds = people.filter(\.isMSP).map(\.id)
        if !contactIds.isEmpty { for contact in try await Contact.query(on: db).filter(\.$id ~~ contactIds).all() { names[contact.id!] = contact.fullName } }
        if !resourceIds.isEmpty {
            for resource in try await Resource.query(on: db).filter(\.$id ~~ resourceIds).all() { names[resource.id!] = resource.fullName }
        }
        func person(_ approver: SecurityApprover) -> Person { Person(kind: approver.kind, id: approver.id, name: names[approver.id]) }
        return try zip(requests, progresses).map { request, progress in
            guard let progress else { throw TandemError.conflict("security request \(request.id!)'s stored state cannot be read") }
            let own = codes.filter { $0.requestId == request.id }
            let approverCodes = own.filter { $0.purpose == .approver }
            let facts = request.facts
            let process = progress.process
            return SecurityRequestDTO(
                id: request.id!, ticketId: request.ticketId, siteId: request.siteId, category: request.category, categoryTitle: request.category.title,
                subjectContactId: request.subjectContactId, callerContactId: request.callerContactId, details: request.details,
                passwordTarget: facts.passwordTarget, software: facts.software, tier4Change: facts.tier4Change, status: progress.status,
                statusTitle: progress.status.title, reason: progress.decision.reason, authenticateCaller: progress.decision.authenticateCaller,
                callerAuthenticatedAt: progress.callerAuthenticatedAt, callerCodeSentTo: own.last { $0.purpose == .caller }?.sentTo,
                authenticateApprover: process?.plan.authenticateApprover ?? false, escalatesToMSP: process?.plan.escalatesToMSP ?? false,
                approvers: (process?.plan.approvers ?? []).map(person),
                attempts: (process?.attempts ?? []).map { attempt in
                    // The code each attempt sent: the first to its approver since the attempt began.
                    let sent = approverCodes.first { $0.recipientId == attempt.approver.id && $0.createdAt >= attempt.at }?.sentTo
                    return Attempt(approver: person(attempt.approver), at: attempt.at, unanswered: attempt.unanswered, sentTo: sent)
                },
                evidence: process?.evidence.map {
                    Evidence(approver: person($0.approver), approved: $0.approved, authentication: $0.authentication, at: $0.at)
                },
                requestedBy: request.requestedBy, requestedByName: request.requestedByName, createdAt: request.createdAt, updatedAt: request.updatedAt)
        }
    }
}

import Foundation

/// Where one security request stands: the caller is authenticated first when the decision asks
/// for it, then the decision's outcome runs (proceed, refused, or the approval process). Pure
/// state: the server stores it with the request and changes it only through these functions.
public struct SecurityRequestProgress: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// The caller has not yet entered the code sent to their mobile.
        case callerAuthentication
        /// No approval needed: the technician goes ahead.
        case proceed
        /// The site's unlicensed software list says never.
        case refused
        case contacting, waitingApproval, escalatedToMSP, approved, denied

        /// Nothing more happens to the request.
        public var isFinal: Bool { [.proceed, .refused, .approved, .denied].contains(self) }

        public var title: String {
            switch self {
            case .callerAuthentication: "Waiting for the caller's code"
            case .proceed: "No approval needed"
            case .refused: "Refused by the site's software list"
            case .contacting: "Asking the approvers"
            case .waitingApproval: "Waiting for an approver"
            case .escalatedToMSP: "Escalated to the MSP"
            case .approved: "Approved"
            case .denied: "Denied"
            }
        }
    }

    public let decision: SecurityDecision
    public private(set) var callerAuthenticatedAt: Date?
    public private(set) var process: ApprovalProcess?

    public init(_ decision: SecurityDecision) {
        self.decision = decision
        if case .approval(let plan) = decision.outcome { process = ApprovalProcess(plan) }
    }

    public var status: Status {
        if decision.authenticateCaller && callerAuthenticatedAt == nil && decision.outcome != .refused { return .callerAuthentication }
        switch decision.outcome {
        case .proceed: return .proceed
        case .refused: return .refused
        case .approval:
            switch process?.state ?? .escalatedToMSP {
            case .contacting: return .contacting
            case .waitingApproval: return .waitingApproval
            case .escalatedToMSP: return .escalatedToMSP
            case .approved: return .approved
            case .denied: return .denied
            }
        }
    }

    /// The status the request moves its ticket to from `current`, if any: an approval nobody answered
    /// waits, one for the MSP is escalated, an answered one takes a waiting or escalated ticket back
    /// to work. A resolved or closed ticket is never reopened by a request, and only moves the state
    /// machine allows are made.
    public func ticketStatus(from current: TicketStatus) -> TicketStatus? {
        let target: TicketStatus? =
            switch status {
            case .waitingApproval: .waitingApproval
            case .escalatedToMSP: .escalated
            case .approved, .denied: [.waitingApproval, .escalated].contains(current) ? .inProgress : nil
            default: nil
            }
        guard let target, target != current, ![.resolved, .closed].contains(current), current.allowedNext.contains(target) else { return nil }
        return target
    }

    /// The approver the next code goes to, once the caller is authenticated.
    public var nextApprover: SecurityApprover? { status == .contacting ? process?.nextApprover : nil }

    public mutating func callerAuthenticated(at time: Date) throws(TandemError) {
        guard status == .callerAuthentication else { throw .conflict("the caller is not being authenticated on this request") }
        callerAuthenticatedAt = time
    }

    /// A code was sent to (or a call placed with) `nextApprover`.
    public mutating func attempted(at time: Date) throws(TandemError) {
        try requireCaller()
        guard var process else { throw .conflict("this request needs no approval") }
        try process.attempted(at: time)
        self.process = process
    }

    public mutating func unanswered() throws(TandemError) {
        try requireCaller()
        guard var process else { throw .conflict("this request needs no approval") }
        try process.unanswered()
        self.process = process
    }

    public mutating func escalate() throws(TandemError) {
        guard var process else { throw .conflict("this request needs no approval") }
        try process.escalate()
        self.process = process
    }

    public mutating func answer(approved: Bool, by approver: SecurityApprover, authentication: ApprovalProcess.Authentication, at time: Date)
        throws(TandemError)
    {
        try requireCaller()
        guard var process else { throw .conflict("this request needs no approval") }
        try process.answer(approved: approved, by: approver, authentication: authentication, at: time)
        self.process = process
    }

    private func requireCaller() throws(TandemError) {
        if status == .callerAuthentication { throw .conflict("authenticate the caller first: they enter the code sent to their mobile") }
    }
}

extension AccessPolicy {
    /// Security requests on a ticket already known to be visible: reading them needs the approvals
    /// area; opening one, relaying a code the caller or an approver reads out, recording an
    /// unanswered attempt or escalating needs `add`. Contacts never see them (an approver answers
    /// on the approver's page with their code, not as a signed-in contact).
    public static func authorizeSecurityRequests(_ principal: Principal, _ operation: AccessOperation) throws(TandemError) {
        guard principal.kind != .contact, principal.permissions.allows(.view, on: .approvals) else {
            throw .notFound("security request")
        }
        guard principal.permissions.allows(operation.requiredLevel, on: .approvals) else {
            throw .forbidden("your security level does not allow working on security requests (approvals: \(operation.requiredLevel.rawValue))")
        }
    }

    /// Deciding a request as the MSP (once escalated): an MSP resource the site lists as an approver, or
    /// one whose level has full approvals; never the one who opened it (four eyes).
    public static func authorizeMSPApproval(_ principal: Principal, listed: Bool, requestedBy: UUID?) throws(TandemError) {
        try authorizeSecurityRequests(principal, .create)
        guard principal.kind == .resource, listed || principal.permissions.allows(.full, on: .approvals) else {
            throw .forbidden("only the site's MSP approvers, or MSP staff whose level has full approvals, decide for the MSP")
        }
        guard principal.id != requestedBy else {
            throw .forbidden("whoever opened a security request cannot approve it; another approver decides")
        }
    }
}

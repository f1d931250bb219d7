import Foundation

/// How an approval request goes on (ConnectWise: the help desk tries two numbers from the approvers
/// field, one each of two approvers or two of one; then the ticket waits until an approver answers;
/// with only partner approvers it goes to the partner). Pure state: the server stores it with the
/// request and changes it only through these functions.
public struct ApprovalProcess: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Approvers are being asked in order.
        case contacting
        /// Two attempts went unanswered: the ticket waits until an approver answers.
        case waitingApproval
        /// The MSP decides (no client approver listed, or a Tier 4 change).
        case escalatedToMSP
        case approved, denied

        public var isFinal: Bool { self == .approved || self == .denied }
    }

    public struct Attempt: Codable, Sendable, Equatable {
        public var approver: SecurityApprover
        public var at: Date
        /// False while the approver may still answer this attempt.
        public var unanswered: Bool
    }

    /// How an approver proved who they are when they answered.
    public enum Authentication: String, Codable, Sendable {
        /// A one-time code sent to them, entered on the approver's page or read to the technician.
        case oneTimeCode
        /// Signed in (an MSP resource deciding from the ticket).
        case signedIn
        /// Not authenticated: the site does not ask for it, and the technician recorded the answer.
        case none
    }

    /// Who answered, how they were authenticated, and when: shown on the ticket.
    public struct Evidence: Codable, Sendable, Equatable {
        public var approver: SecurityApprover
        public var approved: Bool
        public var authentication: Authentication
        public var at: Date

        public init(approver: SecurityApprover, approved: Bool, authentication: Authentication, at: Date) {
            self.approver = approver
            self.approved = approved
            self.authentication = authentication
            self.at = at
        }
    }

    public static let attemptsBeforeWaiting = 2

    public let plan: ApprovalPlan
    public private(set) var state: State
    public private(set) var attempts: [Attempt] = []
    public private(set) var evidence: Evidence?

    public init(_ plan: ApprovalPlan) {
        self.plan = plan
        state = plan.escalatesToMSP ? .escalatedToMSP : .contacting
    }

    /// The client approvers, asked first; MSP approvers listed beside them decide only once escalated.
    var clientApprovers: [SecurityApprover] { plan.approvers.filter { !$0.isMSP } }

    /// Whom the next attempt goes to: the approvers in order, the one approver twice; nil once two
    /// attempts are made or when nothing is being asked.
    public var nextApprover: SecurityApprover? {
        guard state == .contacting, attempts.count < Self.attemptsBeforeWaiting, !clientApprovers.isEmpty else { return nil }
        return clientApprovers[attempts.count % clientApprovers.count]
    }

    /// An attempt was made to reach `nextApprover` (a code sent, a call placed).
    public mutating func attempted(at time: Date) throws(TandemError) {
        guard let approver = nextApprover else {
            throw .conflict(state == .contacting ? "both attempts were made; the request waits for an approver" : "the request is \(state.rawValue)")
        }
        if let last = attempts.indices.last, !attempts[last].unanswered { attempts[last].unanswered = true }
        attempts.append(Attempt(approver: approver, at: time, unanswered: false))
    }

    /// The current attempt went unanswered: the next approver is tried, or after two the ticket waits.
    public mutating func unanswered() throws(TandemError) {
        guard state == .contacting, let last = attempts.indices.last else { throw .conflict("no attempt is waiting for an answer") }
        attempts[last].unanswered = true
        if attempts.count >= Self.attemptsBeforeWaiting { state = .waitingApproval }
    }

    /// Whether `approver` may answer now: one of the plan's approvers (a client approver before the
    /// MSP's turn, an MSP approver once escalated), authenticated as the site asks.
    public func mayAnswer(_ approver: SecurityApprover, by authentication: Authentication) -> Bool {
        guard !state.isFinal else { return false }
        if plan.authenticateApprover && authentication == .none { return false }
        if approver.isMSP {
            // Any MSP resource the caller lets through decides once escalated; a listed one is not needed.
            return state == .escalatedToMSP
        }
        return clientApprovers.contains(approver)
    }

    /// The approver's answer; final.
    public mutating func answer(approved: Bool, by approver: SecurityApprover, authentication: Authentication, at time: Date) throws(TandemError) {
        guard !state.isFinal else { throw .conflict("the request is already \(state.rawValue)") }
        guard mayAnswer(approver, by: authentication) else {
            throw .forbidden(
                plan.authenticateApprover && authentication == .none
                    ? "this site authenticates its approvers: the approver enters their one-time code"
                    : "not an approver of this request")
        }
        evidence = Evidence(approver: approver, approved: approved, authentication: authentication, at: time)
        state = approved ? .approved : .denied
    }

    /// Hands the request to the MSP (the technician escalates a request that waits too long).
    public mutating func escalate() throws(TandemError) {
        guard state == .contacting || state == .waitingApproval else { throw .conflict("the request is \(state.rawValue)") }
        state = .escalatedToMSP
    }
}

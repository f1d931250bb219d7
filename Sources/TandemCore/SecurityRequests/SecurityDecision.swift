import Foundation

/// What a technician asks for on a ticket: the category and what the decision depends on.
public struct SecurityRequestFacts: Sendable, Equatable {
    public var category: SecurityCategory
    /// For a password reset: whose password.
    public var passwordTarget: PasswordResetTarget?
    /// For a software installation: the software's name, looked up in the site's unlicensed software list.
    public var software: String?
    /// For Tier 4: which change.
    public var tier4Change: Tier4Change?

    public init(_ category: SecurityCategory, passwordTarget: PasswordResetTarget? = nil, software: String? = nil, tier4Change: Tier4Change? = nil) {
        self.category = category
        self.passwordTarget = passwordTarget
        self.software = software
        self.tier4Change = tier4Change
    }

    /// The problems of a request's facts: what its category needs to be decided.
    public func validate() throws(TandemError) {
        var problems: [FieldError] = []
        if category == .passwordReset && passwordTarget == nil {
            problems.append(FieldError("passwordTarget", "a password reset says whose password: own, anotherUser, shared or admin"))
        }
        if category != .passwordReset && passwordTarget != nil { problems.append(FieldError("passwordTarget", "only for a password reset")) }
        if category == .softwareInstallation && (software ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append(FieldError("software", "a software installation names the software"))
        }
        if let software, software.count > 200 { problems.append(FieldError("software", "at most 200 characters")) }
        if category == .tier4 && tier4Change == nil {
            problems.append(FieldError("tier4Change", "a Tier 4 request says which change: \(Tier4Change.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        if category != .tier4 && tier4Change != nil { problems.append(FieldError("tier4Change", "only for a Tier 4 request")) }
        if !problems.isEmpty { throw .validation(problems) }
    }
}

/// Who is asked, in order, and how: the approval half of a decision.
public struct ApprovalPlan: Codable, Sendable, Equatable {
    /// The site's approvers in order (client contacts, group contacts, MSP resources).
    public var approvers: [SecurityApprover]
    /// Approvers prove who they are with a one-time code.
    public var authenticateApprover: Bool
    /// Nobody on the client's side is listed (or it is a Tier 4 change): the MSP decides.
    public var escalatesToMSP: Bool

    public init(approvers: [SecurityApprover], authenticateApprover: Bool, escalatesToMSP: Bool) {
        self.approvers = approvers
        self.authenticateApprover = authenticateApprover
        self.escalatesToMSP = escalatesToMSP
    }
}

/// The decision engine's answer for one request at one site.
public struct SecurityDecision: Codable, Sendable, Equatable {
    public enum Outcome: Codable, Sendable, Equatable {
        case proceed
        case approval(ApprovalPlan)
        /// The site's unlicensed software list says never.
        case refused
    }

    public var outcome: Outcome
    /// The caller proves who they are with a one-time code to their mobile before anything else.
    public var authenticateCaller: Bool
    /// Why, in words the technician reads on the ticket.
    public var reason: String

    public init(outcome: Outcome, authenticateCaller: Bool, reason: String) {
        self.outcome = outcome
        self.authenticateCaller = authenticateCaller
        self.reason = reason
    }

    /// Decides a request (SPEC §8): Tier 4 changes (and an admin's password, or software on a
    /// server) always go to the MSP; another user's, a shared or an admin password always needs
    /// approval; software is looked up in the unlicensed software list first; otherwise the
    /// category's settings decide.
    public static func decide(_ facts: SecurityRequestFacts, settings: SiteSecuritySettings, software: UnlicensedSoftwareList = .init()) -> SecurityDecision {
        let own = settings[facts.category]
        // Changes the seeds list under Tier 4 whatever category they were opened as.
        let tier4: Tier4Change? =
            switch facts.category {
            case .tier4: facts.tier4Change
            case .passwordReset where facts.passwordTarget == .admin: .adminPassword
            default: nil
            }
        if facts.category == .tier4 || tier4 != nil {
            let tier4Settings = settings[.tier4]
            let plan = ApprovalPlan(
                approvers: tier4Settings.approvers.filter(\.isMSP), authenticateApprover: tier4Settings.authenticateApprover, escalatesToMSP: true)
            return SecurityDecision(
                outcome: .approval(plan), authenticateCaller: own.authenticateCaller || tier4Settings.authenticateCaller,
                reason: "\(tier4?.title ?? "A Tier 4 change") always needs the MSP's approval")
        }
        func approval(_ reason: String) -> SecurityDecision {
            let plan = ApprovalPlan(
                approvers: own.noApprovalNeeded ? [] : own.approvers, authenticateApprover: own.authenticateApprover,
                escalatesToMSP: own.noApprovalNeeded || !own.approvers.contains { !$0.isMSP })
            return SecurityDecision(outcome: .approval(plan), authenticateCaller: own.authenticateCaller, reason: reason)
        }
        switch facts.category {
        case .passwordReset where facts.passwordTarget != .own:
            let whose = facts.passwordTarget == .shared ? "a shared account's" : "another user's"
            return approval("resetting \(whose) password always needs approval")
        case .softwareInstallation:
            let name = facts.software ?? ""
            switch software.approval(of: name) {
            case .install?:
                return SecurityDecision(outcome: .proceed, authenticateCaller: own.authenticateCaller, reason: "\(name) is approved to install at this site")
            case .never?:
                return SecurityDecision(outcome: .refused, authenticateCaller: false, reason: "\(name) is never installed at this site")
            case .callApprover?:
                return approval("\(name) is installed only with an approver's consent")
            case nil:
                break
            }
        default:
            break
        }
        if own.noApprovalNeeded {
            return SecurityDecision(
                outcome: .proceed, authenticateCaller: own.authenticateCaller, reason: "\(facts.category.title): no approval needed at this site")
        }
        return approval("\(facts.category.title) needs approval at this site")
    }
}

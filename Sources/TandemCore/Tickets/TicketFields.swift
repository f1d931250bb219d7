import Foundation

public enum TicketPriority: String, Codable, Sendable, CaseIterable {
    case low, medium, high, critical
}

public enum SourceChannel: String, Codable, Sendable, CaseIterable {
    case portal, email, phone, web, api, monitoring
}

/// Who can see a note, time entry or attachment (SPEC §3).
public enum PublishTo: String, Codable, Sendable, CaseIterable {
    /// MSP only.
    case `internal`
    case internalAndCoManaged
    /// Also the contact.
    case all
}

/// The ticket status state machine.
public enum TicketStatus: String, Codable, Sendable, CaseIterable {
    case new, inProgress, waitingCustomer, waitingApproval, escalated, resolved, closed

    public var allowedNext: Set<TicketStatus> {
        switch self {
        case .new: [.inProgress, .waitingCustomer, .waitingApproval, .escalated, .resolved]
        case .inProgress: [.waitingCustomer, .waitingApproval, .escalated, .resolved]
        case .waitingCustomer: [.inProgress, .escalated, .resolved, .closed]
        case .waitingApproval: [.inProgress, .escalated, .resolved]
        case .escalated: [.inProgress, .waitingCustomer, .waitingApproval, .resolved]
        case .resolved: [.inProgress, .closed]
        case .closed: [.inProgress]
        }
    }

    public var isOpen: Bool { self != .resolved && self != .closed }

    public var label: String {
        switch self {
        case .new: "New"
        case .inProgress: "In progress"
        case .waitingCustomer: "Waiting customer"
        case .waitingApproval: "Waiting approval"
        case .escalated: "Escalated"
        case .resolved: "Resolved"
        case .closed: "Closed"
        }
    }

    /// Why `next` cannot follow this status, in words.
    public func refusal(to next: TicketStatus) -> String {
        let allowed = allowedNext.map(\.rawValue).sorted().joined(separator: ", ")
        return "a ticket cannot go from \(rawValue) to \(next.rawValue); from \(rawValue) it can go to \(allowed)"
    }

    /// Staying in the same status is not a transition and always allowed.
    public func transition(to next: TicketStatus) throws(TandemError) -> TicketStatus {
        guard next == self || allowedNext.contains(next) else {
            throw .invalid("status", refusal(to: next))
        }
        return next
    }
}

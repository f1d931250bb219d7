import Foundation

/// What happened to a ticket that its SLA clocks read, in order.
///
/// **First response** is the first note published to the contact (`all`) by anyone but a contact: the
/// moment the requester heard from the help desk. Resolving the ticket before that also ends the
/// first-response clock (it answered the request). **Resolution** is the ticket reaching `resolved` or
/// `closed`; reopening it runs the clock again from where it stopped.
public struct SLATimeline: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        case status(TicketStatus)
        case responded
        case handedOff(ResponsibleSide)
    }

    public struct Entry: Sendable, Equatable {
        public var at: Date
        public var change: Change

        public init(at: Date, _ change: Change) {
            self.at = at
            self.change = change
        }
    }

    public var createdAt: Date
    public var initialStatus: TicketStatus
    public var entries: [Entry]

    public init(createdAt: Date, initialStatus: TicketStatus = .new, entries: [Entry]) {
        self.createdAt = createdAt
        self.initialStatus = initialStatus
        self.entries = entries
    }
}

/// One target's clock at a moment.
public struct SLATargetClock: Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Counting, under the approaching share.
        case running
        /// Not counting: the ticket waits on the customer.
        case paused
        /// Stopped within the target.
        case met
        /// Counting or paused, past the approaching share but within the target.
        case approaching
        /// Past the target (counting or stopped).
        case breached
    }

    public var target: SLATarget
    public var targetSeconds: TimeInterval
    public var elapsedSeconds: TimeInterval
    public var state: State
    /// When the target is reached if the clock keeps counting from now (nil while paused or stopped).
    public var dueAt: Date?
    /// When the clock passes the approaching share if it keeps counting from now (nil while paused, stopped or past it).
    public var approachesAt: Date?
    /// When the clock passed the approaching share and the target (nil until it did).
    public var approachedAt: Date?
    public var breachedAt: Date?
    /// When the clock stopped for good (the response, the resolution), nil while it can still count.
    public var stoppedAt: Date?
    /// Business seconds counted while each side held the ticket.
    public var elapsedBySide: [ResponsibleSide: TimeInterval]

    public var remainingSeconds: TimeInterval { max(0, targetSeconds - elapsedSeconds) }
    public var elapsedMinutes: Int { Int((elapsedSeconds / 60).rounded(.down)) }
    public var remainingMinutes: Int { Int((remainingSeconds / 60).rounded(.up)) }
    public func elapsedMinutes(_ side: ResponsibleSide) -> Int { Int(((elapsedBySide[side] ?? 0) / 60).rounded(.down)) }
    /// Whether one side's own time stayed within the target: the MSP met its share even when the
    /// ticket breached while it waited on the client's IT.
    public func withinTarget(_ side: ResponsibleSide) -> Bool { (elapsedBySide[side] ?? 0) <= targetSeconds }
    /// The side that held the ticket when it breached.
    public var breachedBy: ResponsibleSide?

    /// The next moment this clock can raise an alert not yet raised: its approaching share, then its target, while it
    /// counts; nil while it is paused or stopped (only a change to the ticket can start it again) and once both were raised.
    public func nextAlert(approachingRaised: Bool, breachedRaised: Bool) -> Date? {
        guard !breachedRaised else { return nil }
        return approachingRaised ? dueAt : approachesAt ?? dueAt
    }
}

/// A ticket's SLA clocks at `now`: each target counted in business time while the ticket is open and not
/// waiting on the customer, split by the side holding it.
public struct SLAClock: Sendable, Equatable {
    public var targets: SLATargets
    public var responsibleSide: ResponsibleSide
    public var firstResponse: SLATargetClock
    public var resolution: SLATargetClock

    public var clocks: [SLATargetClock] { [firstResponse, resolution] }

    public func clock(_ target: SLATarget) -> SLATargetClock { target == .firstResponse ? firstResponse : resolution }

    public init(targets: SLATargets, timeline: SLATimeline, calendar: BusinessCalendar, now: Date) {
        self.targets = targets
        var status = timeline.initialStatus
        var side = ResponsibleSide.msp
        var responded = false
        var counters = SLATarget.allCases.map { Counter(target: $0, targets: targets) }
        var moment = timeline.createdAt
        if !status.isOpen {
            responded = true
            counters[0].stoppedAt = timeline.createdAt
            counters[1].stoppedAt = timeline.createdAt
        }
        let entries = timeline.entries.filter { $0.at <= now }.sorted { $0.at < $1.at }
        func advance(to end: Date) {
            guard end > moment else { return }
            for index in counters.indices where counters[index].counts(status: status, responded: responded) {
                counters[index].add(from: moment, to: end, side: side, calendar: calendar)
            }
            moment = end
        }
        for entry in entries {
            advance(to: entry.at)
            switch entry.change {
            case .status(let next): status = next
            case .responded: responded = true
            case .handedOff(let to): side = to
            }
            if !status.isOpen { responded = true }
            if responded, counters[0].stoppedAt == nil { counters[0].stoppedAt = max(entry.at, timeline.createdAt) }
            counters[1].stoppedAt = status.isOpen ? nil : (counters[1].stoppedAt ?? max(entry.at, timeline.createdAt))
        }
        advance(to: now)
        responsibleSide = side
        let clocks = counters.map { $0.clock(counting: $0.counts(status: status, responded: responded), calendar: calendar, now: now) }
        firstResponse = clocks[0]
        resolution = clocks[1]
    }

    /// One target's running sums while the timeline is read.
    private struct Counter {
        let target: SLATarget
        let limit: TimeInterval
        let approaching: TimeInterval
        var elapsed: TimeInterval = 0
        var bySide: [ResponsibleSide: TimeInterval] = [:]
        var approachedAt: Date?
        var breachedAt: Date?
        var breachedBy: ResponsibleSide?
        var stoppedAt: Date?

        init(target: SLATarget, targets: SLATargets) {
            self.target = target
            limit = TimeInterval(targets.minutes(target)) * 60
            approaching = limit * TimeInterval(targets.approachingPercent) / 100
        }

        func counts(status: TicketStatus, responded: Bool) -> Bool {
            guard status.isOpen, status != .waitingCustomer else { return false }
            return target == .resolution || !responded
        }

        mutating func add(from start: Date, to end: Date, side: ResponsibleSide, calendar: BusinessCalendar) {
            let seconds = calendar.businessSeconds(from: start, to: end)
            guard seconds > 0 else { return }
            if approachedAt == nil, elapsed + seconds >= approaching {
                approachedAt = calendar.date(addingBusinessSeconds: approaching - elapsed, to: start)
            }
            if breachedAt == nil, elapsed + seconds >= limit {
                breachedAt = calendar.date(addingBusinessSeconds: limit - elapsed, to: start)
                breachedBy = side
            }
            elapsed += seconds
            bySide[side, default: 0] += seconds
        }

        func clock(counting: Bool, calendar: BusinessCalendar, now: Date) -> SLATargetClock {
            let stopped = !counting && stoppedAt != nil
            let state: SLATargetClock.State
            if elapsed > limit || (!stopped && elapsed >= limit) {
                state = .breached
            } else if stopped {
                state = .met
            } else if elapsed >= approaching {
                state = .approaching
            } else {
                state = counting ? .running : .paused
            }
            let dueAt = counting && elapsed < limit ? calendar.date(addingBusinessSeconds: limit - elapsed, to: now) : nil
            let approachesAt = counting && elapsed < approaching ? calendar.date(addingBusinessSeconds: approaching - elapsed, to: now) : nil
            var clock = SLATargetClock(
                target: target, targetSeconds: limit, elapsedSeconds: elapsed, state: state, dueAt: dueAt, approachesAt: approachesAt,
                approachedAt: approachedAt, breachedAt: state == .breached ? breachedAt : nil, stoppedAt: stopped ? stoppedAt : nil,
                elapsedBySide: bySide)
            clock.breachedBy = state == .breached ? breachedBy : nil
            return clock
        }
    }
}

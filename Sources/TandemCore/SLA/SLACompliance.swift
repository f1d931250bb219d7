import Foundation

/// SLA compliance over a set of tickets, for reports: per target, how many met it, breached it or are
/// still open; and for tickets that were handed off, the same per side, a side counting as within the
/// target when its own business time stayed within it (the MSP met its share while the ticket waited on
/// the client's IT).
public struct SLACompliance: Sendable, Equatable, Codable {
    public struct Counts: Sendable, Equatable, Codable {
        public var met = 0
        public var breached = 0
        /// Still counting, paused or approaching: no verdict yet.
        public var open = 0

        public init(met: Int = 0, breached: Int = 0, open: Int = 0) {
            self.met = met
            self.breached = breached
            self.open = open
        }
    }

    public struct SideCounts: Sendable, Equatable, Codable {
        public var side: ResponsibleSide
        public var withinTarget = 0
        public var overTarget = 0
        public var minutes = 0

        public init(side: ResponsibleSide, withinTarget: Int = 0, overTarget: Int = 0, minutes: Int = 0) {
            self.side = side
            self.withinTarget = withinTarget
            self.overTarget = overTarget
            self.minutes = minutes
        }
    }

    public struct TargetCompliance: Sendable, Equatable, Codable {
        public var target: SLATarget
        public var all: Counts
        /// Tickets that were handed off at least once, by side.
        public var handedOff: [SideCounts]
    }

    public var tickets = 0
    public var handedOffTickets = 0
    public var targets: [TargetCompliance] = SLATarget.allCases.map {
        TargetCompliance(target: $0, all: Counts(), handedOff: ResponsibleSide.allCases.map { SideCounts(side: $0) })
    }

    public init() {}

    /// Counts one ticket's clocks; `handedOff` when its timeline has a handoff.
    public mutating func add(_ clock: SLAClock, handedOff: Bool) {
        tickets += 1
        if handedOff { handedOffTickets += 1 }
        for index in targets.indices {
            let target = clock.clock(targets[index].target)
            switch target.state {
            case .met: targets[index].all.met += 1
            case .breached: targets[index].all.breached += 1
            case .running, .paused, .approaching: targets[index].all.open += 1
            }
            guard handedOff else { continue }
            for sideIndex in targets[index].handedOff.indices {
                let side = targets[index].handedOff[sideIndex].side
                if target.withinTarget(side) {
                    targets[index].handedOff[sideIndex].withinTarget += 1
                } else {
                    targets[index].handedOff[sideIndex].overTarget += 1
                }
                targets[index].handedOff[sideIndex].minutes += target.elapsedMinutes(side)
            }
        }
    }
}

extension SLATimeline {
    /// Whether the ticket was ever handed off.
    public var handedOff: Bool { entries.contains { if case .handedOff = $0.change { true } else { false } } }
}

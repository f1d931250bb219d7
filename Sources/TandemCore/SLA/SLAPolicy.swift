import Foundation

/// Which side holds a co-managed ticket (SPEC §13): the MSP or the client's own IT. Every ticket starts
/// with the MSP; a handoff moves it. Each side's SLA time is counted apart.
public enum ResponsibleSide: String, Codable, Sendable, CaseIterable {
    case msp, clientIT

    public var label: String {
        switch self {
        case .msp: "MSP"
        case .clientIT: "Client IT"
        }
    }
}

/// The two promises of an SLA policy.
public enum SLATarget: String, Codable, Sendable, CaseIterable {
    case firstResponse, resolution

    public var label: String {
        switch self {
        case .firstResponse: "First response"
        case .resolution: "Resolution"
        }
    }
}

/// An SLA policy's targets for one organization and priority, in business minutes of the ticket's
/// site's internal location, and the share of a target past which the ticket is "approaching".
public struct SLATargets: Sendable, Equatable, Codable {
    public var firstResponseMinutes: Int
    public var resolutionMinutes: Int
    /// 1–99: the percentage of a target's time after which the clock is approaching its breach.
    public var approachingPercent: Int

    public static let defaultApproachingPercent = 80
    /// A target is at most a year of business minutes.
    public static let maximumMinutes = 525_600

    public init(firstResponseMinutes: Int, resolutionMinutes: Int, approachingPercent: Int = Self.defaultApproachingPercent) {
        self.firstResponseMinutes = firstResponseMinutes
        self.resolutionMinutes = resolutionMinutes
        self.approachingPercent = approachingPercent
    }

    public func minutes(_ target: SLATarget) -> Int {
        switch target {
        case .firstResponse: firstResponseMinutes
        case .resolution: resolutionMinutes
        }
    }

    /// Each problem with these targets, by field name (empty when they are valid).
    public var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        let range = 1...Self.maximumMinutes
        if !range.contains(firstResponseMinutes) { problems.append(("firstResponseMinutes", "must be 1 to \(Self.maximumMinutes) business minutes")) }
        if !range.contains(resolutionMinutes) { problems.append(("resolutionMinutes", "must be 1 to \(Self.maximumMinutes) business minutes")) }
        if range.contains(firstResponseMinutes), range.contains(resolutionMinutes), resolutionMinutes < firstResponseMinutes {
            problems.append(("resolutionMinutes", "must not be shorter than the first response target (\(firstResponseMinutes) minutes)"))
        }
        if !(1...99).contains(approachingPercent) { problems.append(("approachingPercent", "must be 1 to 99 (percent of a target)")) }
        return problems
    }
}

extension BusinessCalendar {
    /// Every minute of every day in UTC: the SLA calendar of a ticket whose site has no internal location.
    public static let allHours = BusinessCalendar(
        timeZone: "UTC", days: (1...7).map { BusinessDay(weekday: $0, start: "00:00", end: "24:00") }, holidays: [])!
}

import Foundation

/// The parts of an organization's report.
public enum ReportSection: String, Sendable, Codable, CaseIterable {
    case tickets, firstResponse, resolution, timeByRole, licenses, slaCompliance, billing

    public var title: String {
        switch self {
        case .tickets: "Tickets opened and closed"
        case .firstResponse: "First response"
        case .resolution: "Resolution"
        case .timeByRole: "Time by role"
        case .licenses: "Co-managed licenses"
        case .slaCompliance: "SLA compliance"
        case .billing: "Billable amount and block hours"
        }
    }
}

/// The billing part of a report: billable time worked in the period, its amount (the sum of the entries' rounded
/// amounts, README "Time and billing"), the block hours it used (hours × each entry's multiplier), and the billable
/// expenses dated in the period (the sum of their amounts, each exact to the cent).
public struct ReportBilling: Sendable, Equatable {
    public var billableMinutes: Int
    public var amount: Money
    public var blockHoursUsed: BillingDecimal
    public var billableExpenses: Money

    public init(billableMinutes: Int, amount: Money, blockHoursUsed: BillingDecimal, billableExpenses: Money = .zero) {
        self.billableMinutes = billableMinutes
        self.amount = amount
        self.blockHoursUsed = blockHoursUsed
        self.billableExpenses = billableExpenses
    }
}

/// The median and the average of a set of durations, in minutes; nil when the set is empty.
public struct DurationFigures: Sendable, Equatable, Codable {
    public var count: Int
    public var medianMinutes: Double?
    public var averageMinutes: Double?

    public init(minutes: [Double]) {
        count = minutes.count
        medianMinutes = Self.median(minutes)
        averageMinutes = minutes.isEmpty ? nil : minutes.reduce(0, +) / Double(minutes.count)
    }

    /// The middle value, or the mean of the two middle values of an even count.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// One bar group of the tickets chart and one point of the resolution chart.
public struct ReportBucketFigures: Sendable, Equatable {
    public var start: Date
    /// The first day, `2026-11-23`.
    public var label: String
    public var opened: Int
    public var closed: Int
    /// The median resolution time, in hours, of the tickets resolved in the bucket.
    public var medianResolutionHours: Double?

    public init(start: Date, label: String, opened: Int, closed: Int, medianResolutionHours: Double?) {
        self.start = start
        self.label = label
        self.opened = opened
        self.closed = closed
        self.medianResolutionHours = medianResolutionHours
    }

}

/// Minutes logged under one role (nil: time entries without a role).
public struct RoleTime: Sendable, Equatable {
    public var roleId: UUID?
    public var roleName: String
    public var minutes: Int
    public var entries: Int

    public init(roleId: UUID?, roleName: String?, minutes: Int, entries: Int) {
        self.roleId = roleId
        self.roleName = roleName ?? "No role"
        self.minutes = minutes
        self.entries = entries
    }
}

/// The organization's co-managing users: each active one is a billable license (SPEC §2).
public struct LicenseFigures: Sendable, Equatable, Codable {
    public var active: Int
    public var inactive: Int
    /// Active co-managing users created during the period.
    public var addedInPeriod: Int

    public init(active: Int, inactive: Int, addedInPeriod: Int) {
        self.active = active
        self.inactive = inactive
        self.addedInPeriod = addedInPeriod
    }
}

/// What the database says about the tickets of one organization and period, already narrowed to what the
/// reader may see; `OrganizationReport` does the arithmetic.
public struct ReportFacts: Sendable {
    /// The first response to a ticket opened in the period (at any time after its creation).
    public struct Response: Sendable {
        public var createdAt: Date
        public var respondedAt: Date
        public init(createdAt: Date, respondedAt: Date) {
            self.createdAt = createdAt
            self.respondedAt = respondedAt
        }
    }

    /// A ticket resolved in the period (its first change to resolved or closed in the period).
    public struct Resolved: Sendable {
        public var createdAt: Date
        public var resolvedAt: Date
        public init(createdAt: Date, resolvedAt: Date) {
            self.createdAt = createdAt
            self.resolvedAt = resolvedAt
        }
    }

    /// When each ticket opened in the period was created.
    public var opened: [Date]
    /// The first responses of those tickets; the others await one.
    public var responses: [Response]
    public var resolved: [Resolved]
    /// nil when the reader may not see time entries.
    public var time: [RoleTime]?
    /// nil when the reader may not see licenses.
    public var licenses: LicenseFigures?
    public var slaCompliance: SLACompliance
    /// nil when the reader may not see billing.
    public var billing: ReportBilling?

    public init(
        opened: [Date], responses: [Response], resolved: [Resolved], time: [RoleTime]?, licenses: LicenseFigures?,
        slaCompliance: SLACompliance = SLACompliance(), billing: ReportBilling? = nil
    ) {
        self.opened = opened
        self.responses = responses
        self.resolved = resolved
        self.time = time
        self.licenses = licenses
        self.slaCompliance = slaCompliance
        self.billing = billing
    }
}

/// One organization's report for one period, as plain values.
///
/// Definitions (SPEC §4 does not fix them; these are what the pages and the API say):
/// - *opened*: tickets created in the period;
/// - *closed*: tickets whose status changed to resolved or closed in the period, each once (at the first such change);
/// - *first response*: for the tickets opened in the period, the time from creation to the first note published to
///   all (the contact sees it) written by MSP staff or a co-managing user; tickets without one are *awaiting*;
/// - *resolution*: for the tickets closed in the period, the time from creation to that change.
/// Times are wall-clock minutes (business hours are the SLA part's).
public struct OrganizationReport: Sendable, Equatable {
    public var organizationId: UUID
    public var organizationName: String
    public var period: ReportPeriod
    public var opened: Int
    public var closed: Int
    public var buckets: [ReportBucketFigures]
    public var firstResponse: DurationFigures
    public var awaitingResponse: Int
    public var resolution: DurationFigures
    /// nil when the reader may not see time entries.
    public var timeByRole: [RoleTime]?
    public var licenses: LicenseFigures?
    /// The SLA verdicts of the tickets opened in the period, by target and, for handed-off tickets, by side.
    public var slaCompliance: SLACompliance
    /// nil when the reader may not see billing.
    public var billing: ReportBilling?

    public init(organizationId: UUID, organizationName: String, period: ReportPeriod, facts: ReportFacts) {
        self.organizationId = organizationId
        self.organizationName = organizationName
        self.period = period
        let starts = period.bucketStarts
        let first = starts.first ?? period.start
        var opened = Array(repeating: 0, count: starts.count)
        var closed = Array(repeating: 0, count: starts.count)
        var resolutionHours = Array(repeating: [Double](), count: starts.count)
        for createdAt in facts.opened {
            if let index = period.bucketIndex(of: createdAt, first: first) { opened[index] += 1 }
        }
        let responses = facts.responses.map { Self.minutes(from: $0.createdAt, to: $0.respondedAt) }
        var resolutions: [Double] = []
        for ticket in facts.resolved {
            let minutes = Self.minutes(from: ticket.createdAt, to: ticket.resolvedAt)
            resolutions.append(minutes)
            if let index = period.bucketIndex(of: ticket.resolvedAt, first: first) {
                closed[index] += 1
                resolutionHours[index].append(minutes / 60)
            }
        }
        self.opened = facts.opened.count
        self.closed = facts.resolved.count
        buckets = starts.indices.map {
            ReportBucketFigures(
                start: starts[$0], label: ReportPeriod.day(starts[$0]), opened: opened[$0], closed: closed[$0],
                medianResolutionHours: DurationFigures.median(resolutionHours[$0]))
        }
        firstResponse = DurationFigures(minutes: responses)
        awaitingResponse = max(0, facts.opened.count - facts.responses.count)
        resolution = DurationFigures(minutes: resolutions)
        timeByRole = facts.time?.sorted { ($0.minutes, $1.roleName) > ($1.minutes, $0.roleName) }
        licenses = facts.licenses
        slaCompliance = facts.slaCompliance
        billing = facts.billing
    }

    /// Whole seconds apart, in minutes; never negative (a clock set back must not make a time negative).
    static func minutes(from start: Date, to end: Date) -> Double {
        max(0, end.timeIntervalSince(start).rounded()) / 60
    }

    public var totalMinutes: Int? { timeByRole?.reduce(0) { $0 + $1.minutes } }

    /// The report as CSV cells, `section,item,value`, one figure a row (text is not yet made safe for
    /// spreadsheets: the writer does that).
    public var csvRows: [[String]] {
        var rows: [[String]] = [["section", "item", "value"]]
        rows.append(["report", "organization", organizationName])
        rows.append(["report", "period", period.label])
        rows.append(["report", "from", ReportPeriod.day(period.start)])
        rows.append(["report", "to", ReportPeriod.day(period.lastDay)])
        rows.append(["report", "timeZone", "UTC"])
        rows.append(["tickets", "opened", String(opened)])
        rows.append(["tickets", "closed", String(closed)])
        rows.append(["firstResponse", "responded", String(firstResponse.count)])
        rows.append(["firstResponse", "awaiting", String(awaitingResponse)])
        rows.append(["firstResponse", "medianMinutes", ReportNumber.text(firstResponse.medianMinutes)])
        rows.append(["firstResponse", "averageMinutes", ReportNumber.text(firstResponse.averageMinutes)])
        rows.append(["resolution", "resolved", String(resolution.count)])
        rows.append(["resolution", "medianMinutes", ReportNumber.text(resolution.medianMinutes)])
        rows.append(["resolution", "averageMinutes", ReportNumber.text(resolution.averageMinutes)])
        let bucket = period.bucket.rawValue
        for figures in buckets {
            rows.append(["opened per \(bucket)", figures.label, String(figures.opened)])
            rows.append(["closed per \(bucket)", figures.label, String(figures.closed)])
            rows.append(["median resolution hours per \(bucket)", figures.label, ReportNumber.text(figures.medianResolutionHours)])
        }
        if let timeByRole {
            for role in timeByRole { rows.append(["timeByRole minutes", role.roleName, String(role.minutes)]) }
            rows.append(["timeByRole minutes", "Total", String(totalMinutes ?? 0)])
        }
        if let licenses {
            rows.append(["licenses", "active", String(licenses.active)])
            rows.append(["licenses", "inactive", String(licenses.inactive)])
            rows.append(["licenses", "addedInPeriod", String(licenses.addedInPeriod)])
        }
        rows.append(["slaCompliance", "tickets", String(slaCompliance.tickets)])
        rows.append(["slaCompliance", "handedOffTickets", String(slaCompliance.handedOffTickets)])
        for target in slaCompliance.targets {
            let name = target.target.rawValue
            rows.append(["slaCompliance \(name)", "met", String(target.all.met)])
            rows.append(["slaCompliance \(name)", "breached", String(target.all.breached)])
            rows.append(["slaCompliance \(name)", "open", String(target.all.open)])
            for side in target.handedOff {
                rows.append(["slaCompliance \(name) \(side.side.rawValue)", "withinTarget", String(side.withinTarget)])
                rows.append(["slaCompliance \(name) \(side.side.rawValue)", "overTarget", String(side.overTarget)])
                rows.append(["slaCompliance \(name) \(side.side.rawValue)", "minutes", String(side.minutes)])
            }
        }
        if let billing {
            rows.append(["billing", "billableMinutes", String(billing.billableMinutes)])
            rows.append(["billing", "amount", billing.amount.description])
            rows.append(["billing", "blockHoursUsed", billing.blockHoursUsed.description])
            rows.append(["billing", "billableExpenses", billing.billableExpenses.description])
        }
        return rows
    }
}

/// How a report writes a number, the same in its tables, its charts' `data-value`s and its CSV: at most one
/// decimal, none when whole; nothing for no value.
public enum ReportNumber {
    public static func text(_ value: Double?) -> String {
        guard let value else { return "" }
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.1f", rounded)
    }

    public static func text(_ value: Int) -> String { String(value) }
}

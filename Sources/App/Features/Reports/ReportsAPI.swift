import Foundation
import Spreadsheets
import TandemCore
import Vapor

/// `GET /api/v1/reports/organizations/{id}?period=YYYY-MM` (or `from=&to=`, days, UTC): one organization's report as
/// JSON, or as CSV with `format=csv` or `Accept: text/csv`. The page's CSV link answers through the same function.
enum ReportsAPI {
    static func register(_ api: any RoutesBuilder) {
        api.get("reports", "organizations", ":id", use: organizationReport)
    }

    enum Format: String, Sendable {
        case json, csv
    }

    /// What a request asks for: the organization, the period, the format. An organization outside the reader's reports
    /// answers 404 before its parameters are looked at.
    struct Request: Sendable {
        var organizationId: UUID
        var period: ReportPeriod
        var format: Format

        static func read(_ req: Vapor.Request) throws -> Request {
            let principal = try req.principal
            let organizationId = try req.id("id", "organization")
            guard AccessPolicy.reportRights(for: principal).allows(organizationId: organizationId) else { throw TandemError.notFound("organization") }
            var validator = FieldValidator()
            let period = ReportPeriod.parse(
                period: req.queryText("period"), from: req.queryText("from"), to: req.queryText("to"), now: req.db.now, &validator)
            var format = Format.json
            if let text = req.queryText("format"), !text.isEmpty {
                if let chosen = Format(rawValue: text.lowercased()) { format = chosen } else { validator.fail("format", "must be json or csv") }
            } else if prefersCSV(req.headers.accept) {
                format = .csv
            }
            try QueryProblem.check(validator)
            guard let period else { throw TandemError.badRequest("the period could not be read") }
            return Request(organizationId: organizationId, period: period, format: format)
        }
    }

    /// Whether `Accept` ranks text/csv above JSON (JSON, the default, wins a tie).
    static func prefersCSV(_ accept: [HTTPMediaTypePreference]) -> Bool {
        func weight(_ type: String, _ subType: String) -> Double? {
            accept.filter { $0.mediaType.type == type && $0.mediaType.subType == subType }.map { $0.q ?? 1 }.max()
        }
        guard let csv = weight("text", "csv"), csv > 0 else { return false }
        return csv > (weight("application", "json") ?? 0)
    }

    @Sendable static func organizationReport(_ req: Vapor.Request) async throws -> Response {
        let asked = try Request.read(req)
        let report = try await Reports.organization(asked.organizationId, period: asked.period, by: req.principal, on: req.db)
        switch asked.format {
        case .json:
            let response = try await OrganizationReportDTO(report).encodeResponse(for: req)
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            return response
        case .csv:
            return csvResponse(report)
        }
    }

    /// The report as a CSV attachment: UTF-8 with a BOM, text that starts like a formula made safe.
    static func csvResponse(_ report: OrganizationReport) -> Response {
        var bytes = CSVTableWriter.byteOrderMark
        for row in report.csvRows { bytes += CSVTableWriter.line(row.map(CellSafety.neutralize)) }
        let response = Response(status: .ok, body: .init(data: Data(bytes)))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        response.headers.setAttachment(filename: fileName(report))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// `<organization>-report-2026-03.csv`, the name reduced to letters, digits and dashes.
    static func fileName(_ report: OrganizationReport) -> String {
        let base = report.organizationName.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }.reduce(into: "") { $0.append($1) }
        let name = base.split(separator: "-").joined(separator: "-")
        let span = report.period.month ?? "\(ReportPeriod.day(report.period.start))-to-\(ReportPeriod.day(report.period.lastDay))"
        return "\(name.isEmpty ? "organization" : name)-report-\(span).csv"
    }
}

/// The report as the API answers it.
struct OrganizationReportDTO: Content {
    struct Period: Codable, Sendable {
        var from: String
        var to: String
        var month: String?
        var label: String
        var timeZone: String
        var bucket: String
    }

    struct Bucket: Codable, Sendable {
        var start: String
        var opened: Int
        var closed: Int
        var medianResolutionHours: Double?
    }

    struct Tickets: Codable, Sendable {
        var opened: Int
        var closed: Int
        var series: [Bucket]
    }

    struct FirstResponse: Codable, Sendable {
        var responded: Int
        var awaiting: Int
        var medianMinutes: Double?
        var averageMinutes: Double?
    }

    struct Resolution: Codable, Sendable {
        var resolved: Int
        var medianMinutes: Double?
        var averageMinutes: Double?
    }

    struct Role: Codable, Sendable {
        var roleId: String?
        var roleName: String
        var minutes: Int
        var entries: Int
    }

    struct TimeByRole: Codable, Sendable {
        var totalMinutes: Int
        var roles: [Role]
    }

    var organizationId: String
    var organizationName: String
    var period: Period
    var tickets: Tickets
    var firstResponse: FirstResponse
    var resolution: Resolution
    var timeByRole: TimeByRole?
    var licenses: LicenseFigures?
    /// The SLA verdicts of the tickets opened in the period (`SLACompliance`).
    var slaCompliance: SLACompliance
    /// Only for those who may see billing.
    var billing: Billing?

    struct Billing: Content {
        var billableMinutes: Int
        /// The sum of the billable entries' amounts, each rounded to the cent when saved.
        var amount: Decimal
        /// Billable hours × each entry's block-hour multiplier, rounded to 0.01 h.
        var blockHoursUsed: Decimal
        /// The sum of the organization's billable expenses dated in the period.
        var billableExpenses: Decimal
    }

    init(_ report: OrganizationReport) {
        organizationId = report.organizationId.uuidString
        organizationName = report.organizationName
        period = Period(
            from: ReportPeriod.day(report.period.start), to: ReportPeriod.day(report.period.lastDay), month: report.period.month, label: report.period.label,
            timeZone: "UTC", bucket: report.period.bucket.rawValue)
        tickets = Tickets(
            opened: report.opened, closed: report.closed,
            series: report.buckets.map { Bucket(start: $0.label, opened: $0.opened, closed: $0.closed, medianResolutionHours: $0.medianResolutionHours) })
        firstResponse = FirstResponse(
            responded: report.firstResponse.count, awaiting: report.awaitingResponse, medianMinutes: report.firstResponse.medianMinutes,
            averageMinutes: report.firstResponse.averageMinutes)
        resolution = Resolution(
            resolved: report.resolution.count, medianMinutes: report.resolution.medianMinutes, averageMinutes: report.resolution.averageMinutes)
        timeByRole = report.timeByRole.map { roles in
            TimeByRole(
                totalMinutes: report.totalMinutes ?? 0,
                roles: roles.map { Role(roleId: $0.roleId?.uuidString, roleName: $0.roleName, minutes: $0.minutes, entries: $0.entries) })
        }
        licenses = report.licenses
        slaCompliance = report.slaCompliance
        billing = report.billing.map {
            Billing(
                billableMinutes: $0.billableMinutes, amount: $0.amount.decimal, blockHoursUsed: $0.blockHoursUsed.decimal,
                billableExpenses: $0.billableExpenses.decimal)
        }
    }
}

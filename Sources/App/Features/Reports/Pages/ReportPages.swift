import Fluent
import Foundation
import TandemCore
import Vapor

/// `/reports`: the organizations whose report the reader may open (`AccessPolicy.reportRights`).
enum ReportListPage {
    static let view = "reports/list"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var month: String
        var organizations: [PageLink]
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        guard AccessPolicy.reportRights(for: principal).any else { throw TandemError.forbidden("reports need a security level that views reports") }
        let month = ReportPeriod.month(containing: req.db.now)
        let organizations = try await Reports.organizations(for: principal, on: req.db)
        let model = Model(
            layout: req.pageLayout("Reports", section: "reports"), month: month.label,
            organizations: organizations.map { PageLink(name: $0.name, url: PageRoutes.organizationReport.url($0.id!)) })
        return try await req.renderPage(view, model)
    }
}

/// `/reports/organizations/{id}?period=YYYY-MM` (or `from=&to=`): the report with its two charts, each beside a
/// table of the same numbers, and a CSV link (`format=csv` answers the API's CSV).
enum OrganizationReportPage {
    static let view = "reports/organization"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var organizationName: String
        var organizationURL: String?
        var form: Form
        var feedback: FormFeedback?
        var report: ReportView?
    }

    struct Form: Encodable, Sendable {
        var period = ""
        var from = ""
        var to = ""
    }

    struct ReportView: Encodable, Sendable {
        var label: String
        var bucket: String
        var opened: String
        var closed: String
        var responded: String
        var awaiting: String
        var firstResponseMedian: String
        var firstResponseAverage: String
        var resolved: String
        var resolutionMedian: String
        var resolutionAverage: String
        var ticketsChart: String
        var resolutionChart: String
        var buckets: [BucketRow]
        var timeByRole: [RoleRow]?
        var totalMinutes: String?
        var licenses: LicenseFigures?
        var sla: [SLARow]
        var slaTickets: String
        var slaHandedOff: String
        var billing: BillingRows?
        var csvURL: String
        var previousURL: String?
        var nextURL: String?
    }

    /// One target's verdicts, and for handed-off tickets each side's share.
    struct SLARow: Encodable, Sendable {
        var target: String
        var met: String
        var breached: String
        var open: String
        var sides: [SideRow]
    }

    struct SideRow: Encodable, Sendable {
        var side: String
        var withinTarget: String
        var overTarget: String
        var hours: String
    }

    struct BillingRows: Encodable, Sendable {
        var billableHours: String
        var amount: String
        var blockHoursUsed: String
        var billableExpenses: String
    }

    struct BucketRow: Encodable, Sendable {
        var label: String
        var opened: String
        var closed: String
        var medianResolutionHours: String
    }

    struct RoleRow: Encodable, Sendable {
        var name: String
        var minutes: String
        var hours: String
        var entries: String
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let organizationId = try req.id("id", "organization")
        guard AccessPolicy.reportRights(for: principal).allows(organizationId: organizationId),
            let organization = try await Organization.find(organizationId, on: req.db)
        else { throw TandemError.notFound("organization") }
        var form = Form()
        form.period = (req.queryText("period") ?? "").trimmingCharacters(in: .whitespaces)
        form.from = (req.queryText("from") ?? "").trimmingCharacters(in: .whitespaces)
        form.to = (req.queryText("to") ?? "").trimmingCharacters(in: .whitespaces)
        var validator = FieldValidator()
        let period = ReportPeriod.parse(period: form.period, from: form.from, to: form.to, now: req.db.now, &validator)
        let organizationURL =
            AccessPolicy.organizationScope(for: principal, area: .organizations, .view).evaluate(
                ScopeFacts(values: [.organization: organizationId, .id: organizationId]))
            ? PageURL.organization(organizationId).path : nil
        let layout = req.pageLayout("Report: \(organization.name)", section: "reports")
        guard validator.errors.isEmpty, let period else {
            let model = Model(
                layout: layout, organizationName: organization.name, organizationURL: organizationURL, form: form,
                feedback: FormFeedback(.validation(validator.errors)), report: nil)
            return try await req.renderPage(view, model, status: .badRequest)
        }
        let report = try await Reports.organization(organizationId, period: period, by: principal, on: req.db)
        if req.queryText("format")?.lowercased() == "csv" { return ReportsAPI.csvResponse(report) }
        if form.period.isEmpty && form.from.isEmpty { form.period = period.month ?? "" }
        let model = Model(
            layout: layout, organizationName: organization.name, organizationURL: organizationURL, form: form, feedback: nil,
            report: reportView(report, form: form))
        return try await req.renderPage(view, model)
    }

    static func reportView(_ report: OrganizationReport, form: Form) -> ReportView {
        let period = report.period
        let path = PageRoutes.organizationReport.url(report.organizationId)
        var query: [(String, String?)] = [("from", form.from), ("to", form.to)]
        if let month = period.month { query = [("period", month)] }
        let unit = period.bucket == .day ? "day" : "week"
        let categories = report.buckets.map(\.label)
        let tickets = Chart(
            id: "tickets-chart", title: "Tickets opened and closed per \(unit), \(period.label)",
            description:
                "Bar chart: \(report.opened) tickets opened and \(report.closed) closed in \(period.label), per \(unit) (UTC). The table beside it holds the same numbers.",
            categories: categories,
            series: [
                ChartSeries(name: "Opened", key: "opened", values: report.buckets.map { Double($0.opened) }, color: "#1f5fa8"),
                ChartSeries(name: "Closed", key: "closed", values: report.buckets.map { Double($0.closed) }, color: "#b35900"),
            ],
            xLabel: unit == "day" ? "Day (UTC)" : "Week starting (UTC)", yLabel: "Tickets")
        let resolution = Chart(
            id: "resolution-chart", title: "Median resolution time per \(unit), \(period.label)",
            description:
                "Line chart: the median hours from opening to resolution of the tickets resolved each \(unit); no point where none was resolved. The table beside it holds the same numbers.",
            categories: categories,
            series: [ChartSeries(name: "Median resolution (hours)", key: "resolution", values: report.buckets.map(\.medianResolutionHours), color: "#2e7d32")],
            xLabel: unit == "day" ? "Day (UTC)" : "Week starting (UTC)", yLabel: "Hours")
        return ReportView(
            label: period.label, bucket: unit, opened: String(report.opened), closed: String(report.closed),
            responded: String(report.firstResponse.count), awaiting: String(report.awaitingResponse),
            firstResponseMedian: minutes(report.firstResponse.medianMinutes), firstResponseAverage: minutes(report.firstResponse.averageMinutes),
            resolved: String(report.resolution.count), resolutionMedian: minutes(report.resolution.medianMinutes),
            resolutionAverage: minutes(report.resolution.averageMinutes), ticketsChart: SVGChart.bar(tickets), resolutionChart: SVGChart.line(resolution),
            buckets: report.buckets.map {
                BucketRow(
                    label: $0.label, opened: String($0.opened), closed: String($0.closed), medianResolutionHours: ReportNumber.text($0.medianResolutionHours))
            },
            timeByRole: report.timeByRole?.map {
                RoleRow(name: $0.roleName, minutes: String($0.minutes), hours: ReportNumber.text(Double($0.minutes) / 60), entries: String($0.entries))
            },
            totalMinutes: report.totalMinutes.map(String.init), licenses: report.licenses,
            sla: report.slaCompliance.targets.map { target in
                SLARow(
                    target: target.target == .firstResponse ? "First response" : "Resolution", met: String(target.all.met),
                    breached: String(target.all.breached), open: String(target.all.open),
                    sides: target.handedOff.map {
                        SideRow(
                            side: $0.side == .msp ? "MSP" : "Client IT", withinTarget: String($0.withinTarget), overTarget: String($0.overTarget),
                            hours: ReportNumber.text(Double($0.minutes) / 60))
                    })
            },
            slaTickets: String(report.slaCompliance.tickets), slaHandedOff: String(report.slaCompliance.handedOffTickets),
            billing: report.billing.map {
                BillingRows(
                    billableHours: ReportNumber.text(Double($0.billableMinutes) / 60), amount: $0.amount.description,
                    blockHoursUsed: $0.blockHoursUsed.description, billableExpenses: $0.billableExpenses.description)
            },
            csvURL: PageURL.with(path, query: query + [("format", "csv")]),
            previousURL: period.previousMonth.map { PageURL.with(path, query: [("period", $0)]) },
            nextURL: period.nextMonth.map { PageURL.with(path, query: [("period", $0)]) })
    }

    /// "42 min" or "none".
    static func minutes(_ value: Double?) -> String {
        value.map { "\(ReportNumber.text($0)) min" } ?? "none"
    }
}

import Foundation
import TandemCore
import Testing

/// The report's period, its arithmetic and its SVG charts (issue 21).
@Suite struct ReportTests {
    static func day(_ text: String) -> Date {
        var validator = FieldValidator()
        return ReportPeriod.parse(period: nil, from: text, to: text, now: Date(), &validator)!.start
    }

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func parse(_ period: String? = nil, from: String? = nil, to: String? = nil) -> (ReportPeriod?, [FieldError]) {
        var validator = FieldValidator()
        let parsed = ReportPeriod.parse(period: period, from: from, to: to, now: at("2026-11-15T10:00:00Z"), &validator)
        return (validator.errors.isEmpty ? parsed : nil, validator.errors)
    }

    // MARK: Period

    @Test func aMonthIsItsUTCDays() throws {
        let period = try #require(Self.parse("2026-02").0)
        #expect(period.start == Self.at("2026-02-01T00:00:00Z") && period.end == Self.at("2026-03-01T00:00:00Z"))
        #expect(period.days == 28 && period.bucket == .day && period.bucketStarts.count == 28)
        #expect(period.label == "February 2026" && period.month == "2026-02")
        #expect(period.previousMonth == "2026-01" && period.nextMonth == "2026-03")
        #expect(try #require(Self.parse("2024-02").0).days == 29, "a leap year")
        #expect(try #require(Self.parse("2026-12").0).nextMonth == "2027-01")
        #expect(Self.parse().0 == ReportPeriod.month(containing: Self.at("2026-11-15T10:00:00Z")), "nothing given is this month")
    }

    @Test func aRangeIncludesBothDaysAndLongRangesGoByWeek() throws {
        let range = try #require(Self.parse(from: "2026-11-03", to: "2026-11-20").0)
        #expect(range.start == Self.at("2026-11-03T00:00:00Z") && range.end == Self.at("2026-11-21T00:00:00Z"))
        #expect(range.days == 18 && range.month == nil && range.label == "2026-11-03 to 2026-11-20")
        #expect(range.bucketIndex(of: Self.at("2026-11-20T23:59:59Z")) == 17)
        #expect(range.bucketIndex(of: Self.at("2026-11-21T00:00:00Z")) == nil && range.bucketIndex(of: Self.at("2026-11-02T23:59:59Z")) == nil)

        let year = try #require(Self.parse(from: "2026-01-01", to: "2026-12-31").0)
        #expect(year.bucket == .week)
        // 2026-01-01 is a Thursday: the first week starts on Monday 2025-12-29.
        #expect(year.bucketStarts.first == Self.at("2025-12-29T00:00:00Z"))
        #expect(year.bucketIndex(of: Self.at("2026-01-04T12:00:00Z")) == 0 && year.bucketIndex(of: Self.at("2026-01-05T00:00:00Z")) == 1)
        #expect(year.bucketIndex(of: Self.at("2026-12-31T23:00:00Z")) == year.bucketStarts.count - 1)
    }

    /// Days are written by arithmetic, not by the calendar: every few hours across a century against Foundation's.
    @Test func daysAreTheCalendarsDays() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        var date = Self.at("1970-01-01T00:00:00Z")
        let end = Self.at("2101-03-02T00:00:00Z")
        var checked = 0
        while date < end {
            if ReportPeriod.day(date) != formatter.string(from: date) {
                Issue.record("\(date): \(ReportPeriod.day(date)) against \(formatter.string(from: date))")
                return
            }
            date += 3600 * 37 + 59
            checked += 1
        }
        #expect(checked > 30_000)
        #expect(ReportPeriod.day(Self.at("2024-02-29T23:59:59Z")) == "2024-02-29" && ReportPeriod.day(Self.at("2100-03-01T00:00:00Z")) == "2100-03-01")
    }

    @Test func badPeriodsNameTheirField() {
        #expect(Self.parse("2026-13").1 == [FieldError("period", "'2026-13' is not a month on the calendar")])
        #expect(Self.parse("November").1.map(\.field) == ["period"])
        #expect(Self.parse("2026-1").1.map(\.field) == ["period"])
        #expect(Self.parse("2026-11", from: "2026-11-01", to: "2026-11-02").1.map(\.field) == ["period"])
        #expect(Self.parse(from: "2026-02-30", to: "2026-03-01").1 == [FieldError("from", "'2026-02-30' is not a real date")])
        #expect(Self.parse(from: "2026-11-01").1 == [FieldError("to", "is required with from")])
        #expect(Self.parse(to: "2026-11-01").1.map(\.field) == ["from"])
        #expect(Self.parse(from: "2026-11-02", to: "2026-11-01").1 == [FieldError("to", "must not be before from")])
        #expect(Self.parse(from: "2025-01-01", to: "2026-01-02").1.first?.message.contains("at most 366 days") == true)
        #expect(Self.parse(from: "2026-11-0١", to: "2026-11-02").1.map(\.field) == ["from"], "only ASCII digits")
    }

    // MARK: Figures

    @Test func figuresAreCountedFromTheFacts() throws {
        let period = try #require(Self.parse("2026-03").0)
        let created = Self.at("2026-03-02T09:00:00Z")
        let facts = ReportFacts(
            opened: [created, Self.at("2026-03-02T10:00:00Z"), Self.at("2026-03-05T08:00:00Z"), Self.at("2026-03-31T23:59:00Z")],
            responses: [
                .init(createdAt: created, respondedAt: Self.at("2026-03-02T09:30:00Z")),  // 30 min
                .init(createdAt: Self.at("2026-03-02T10:00:00Z"), respondedAt: Self.at("2026-03-02T11:30:00Z")),  // 90 min
                .init(createdAt: Self.at("2026-03-05T08:00:00Z"), respondedAt: Self.at("2026-03-05T08:10:00Z")),  // 10 min; the last awaits one
            ],
            resolved: [
                .init(createdAt: Self.at("2026-02-27T09:00:00Z"), resolvedAt: Self.at("2026-03-02T09:00:00Z")),  // 3 days (February has 28)
                .init(createdAt: created, resolvedAt: Self.at("2026-03-02T11:00:00Z")),  // 2 h
                .init(createdAt: Self.at("2026-03-05T08:00:00Z"), resolvedAt: Self.at("2026-03-05T09:00:00Z")),  // 1 h
            ],
            time: [RoleTime(roleId: nil, roleName: nil, minutes: 15, entries: 1), RoleTime(roleId: UUID(), roleName: "Engineer", minutes: 90, entries: 2)],
            licenses: nil)
        let report = OrganizationReport(organizationId: UUID(), organizationName: "Contoso", period: period, facts: facts)
        #expect(report.opened == 4 && report.closed == 3)
        #expect(report.firstResponse == DurationFigures(minutes: [30, 90, 10]))
        #expect(report.firstResponse.medianMinutes == 30 && report.firstResponse.averageMinutes == 130.0 / 3 && report.awaitingResponse == 1)
        #expect(report.resolution.count == 3 && report.resolution.medianMinutes == 120 && report.resolution.averageMinutes == (4320 + 120 + 60) / 3)
        #expect(report.buckets.count == 31)
        #expect(report.buckets[1].opened == 2 && report.buckets[1].closed == 2 && report.buckets[1].medianResolutionHours == (72 + 2) / 2)
        #expect(report.buckets[4].opened == 1 && report.buckets[4].medianResolutionHours == 1)
        #expect(report.buckets[30].opened == 1 && report.buckets[0].medianResolutionHours == nil)
        #expect(report.buckets.map(\.opened).reduce(0, +) == 4)
        #expect(report.timeByRole?.map(\.roleName) == ["Engineer", "No role"] && report.totalMinutes == 105, "most time first")
        #expect(report.billing == nil && report.slaCompliance == SLACompliance())

        let rows = report.csvRows
        #expect(rows.first == ["section", "item", "value"])
        #expect(rows.contains(["tickets", "opened", "4"]) && rows.contains(["firstResponse", "averageMinutes", "43.3"]))
        #expect(rows.contains(["opened per day", "2026-03-02", "2"]) && rows.contains(["timeByRole minutes", "Total", "105"]))
        #expect(rows.contains(["report", "to", "2026-03-31"]) && rows.contains(["report", "timeZone", "UTC"]))
    }

    @Test func medianAndAverageOfFewValues() {
        #expect(DurationFigures(minutes: []) == DurationFigures(minutes: []) && DurationFigures(minutes: []).medianMinutes == nil)
        #expect(DurationFigures(minutes: []).averageMinutes == nil && DurationFigures(minutes: []).count == 0)
        #expect(DurationFigures(minutes: [7]).medianMinutes == 7 && DurationFigures(minutes: [7]).averageMinutes == 7)
        #expect(DurationFigures(minutes: [10, 1, 4, 3]).medianMinutes == 3.5)
        #expect(ReportNumber.text(2.0) == "2" && ReportNumber.text(2.25) == "2.3" && ReportNumber.text(nil) == "" && ReportNumber.text(0.04) == "0")
    }

    // MARK: Charts

    static func chart(_ values: [Double?], _ second: [Double?]? = nil, title: String = "Tickets") -> Chart {
        var series = [ChartSeries(name: "Opened", key: "opened", values: values, color: "#1f5fa8")]
        if let second { series.append(ChartSeries(name: "Closed", key: "closed", values: second, color: "#b35900")) }
        return Chart(
            id: "tickets-chart", title: title, description: "Tickets per day", categories: values.indices.map { String(format: "2026-03-%02d", $0 + 1) },
            series: series, xLabel: "Day", yLabel: "Tickets")
    }

    /// The attributes of every element named `tag`, in order.
    static func elements(_ tag: String, in svg: String) -> [[String: String]] {
        var found: [[String: String]] = []
        var rest = Substring(svg)
        while let open = rest.range(of: "<\(tag) ") {
            let end = rest[open.upperBound...].firstIndex(of: ">")!
            let text = rest[open.upperBound..<end]
            var attributes: [String: String] = [:]
            var scan = Substring(text)
            while let eq = scan.range(of: "=\"") {
                let name = scan[..<eq.lowerBound].split(separator: " ").last.map(String.init) ?? ""
                let valueEnd = scan[eq.upperBound...].firstIndex(of: "\"")!
                attributes[name] = String(scan[eq.upperBound..<valueEnd])
                scan = scan[scan.index(after: valueEnd)...]
            }
            found.append(attributes)
            rest = rest[end...]
        }
        return found
    }

    @Test func barHeightsAreProportionalToTheValues() throws {
        let chart = Self.chart([3, 6, 0, 12], [1, 2, 5, 4])
        let svg = SVGChart.bar(chart)
        let bars = Self.elements("rect", in: svg).filter { $0["data-value"] != nil }
        #expect(bars.count == 8)
        #expect(bars.map { $0["data-value"]! } == ["3", "1", "6", "2", "0", "5", "12", "4"], "category by category, series in order")
        let perUnit = chart.plot.height / chart.scaleMax
        for bar in bars {
            let height = try #require(Double(bar["height"] ?? ""))
            #expect(abs(height - Double(bar["data-value"]!)! * perUnit) < 0.01, "\(bar)")
            // Every bar stands on the axis.
            #expect(abs(Double(bar["y"]!)! + height - (chart.plot.top + chart.plot.height)) < 0.02)
        }
        #expect(chart.scaleMax == 20, "a round top above 12")
        #expect(svg.hasPrefix("<svg ") && svg.contains("role=\"img\"") && svg.contains("aria-labelledby=\"tickets-chart-title tickets-chart-desc\""))
        #expect(svg.contains("<title id=\"tickets-chart-title\">Tickets</title>") && svg.contains("<desc id=\"tickets-chart-desc\">Tickets per day</desc>"))
        #expect(svg.contains(">Day</text>") && svg.contains(">Tickets</text>"), "both axis titles")
        #expect(!svg.contains("<script") && !svg.contains("style=") && !svg.contains(" on"), "no script, no inline style, no handler")
    }

    @Test func zeroAndOneValueSeriesDraw() throws {
        let zeros = SVGChart.bar(Self.chart([0, 0, 0]))
        let bars = Self.elements("rect", in: zeros).filter { $0["data-value"] != nil }
        #expect(bars.count == 3 && bars.allSatisfy { $0["height"] == "0" && $0["data-value"] == "0" })
        #expect(!zeros.contains("NaN") && !zeros.contains("inf"))

        let one = Self.chart([5])
        let single = SVGChart.bar(one)
        let bar = try #require(Self.elements("rect", in: single).first { $0["data-value"] != nil })
        #expect(bar["data-value"] == "5" && Double(bar["height"]!)! == one.plot.height, "5 of a scale of 5")

        let empty = SVGChart.line(Self.chart([]))
        #expect(empty.contains("role=\"img\"") && !empty.contains("<circle") && !empty.contains("NaN"))
    }

    @Test func linesBreakAtMissingValuesAndCarryTheirValues() {
        let chart = Self.chart([2, nil, 4.5, 8])
        let svg = SVGChart.line(chart)
        let points = Self.elements("circle", in: svg)
        #expect(points.map { $0["data-value"] } == ["2", "4.5", "8"])
        let path = Self.elements("path", in: svg).first?["d"] ?? ""
        #expect(path.filter { $0 == "M" }.count == 2 && path.filter { $0 == "L" }.count == 1, "two pieces: \(path)")
        let bottom = chart.plot.top + chart.plot.height
        for point in points {
            #expect(abs(bottom - Double(point["cy"]!)! - chart.length(of: Double(point["data-value"]!)!)) < 0.1)
        }
    }

    @Test func textIsEscaped() {
        let chart = Chart(
            id: "x\"><script>", title: "<script>alert(1)</script>", description: "A & B's \"chart\"", categories: ["<b>"],
            series: [ChartSeries(name: "</title><script>", key: "k\"", values: [1], color: "red\" onload=\"x")], xLabel: "<x>", yLabel: "'y'")
        for svg in [SVGChart.bar(chart), SVGChart.line(chart)] {
            #expect(!svg.contains("<script") && !svg.contains("<b>") && !svg.contains("\" onload"))
            #expect(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && svg.contains("A &amp; B&#39;s &quot;chart&quot;"))
            #expect(svg.contains("&lt;x&gt;") && svg.contains("&#39;y&#39;"))
        }
    }
}

import Foundation

/// Charts drawn on the server as SVG: readable without JavaScript (no script, no inline style, so the
/// page's Content-Security-Policy holds), announced as one image (`role="img"` with `<title>` and `<desc>`),
/// every text escaped. Each bar and point carries its value in `data-value`, written as the table beside the
/// chart writes it (`ReportNumber`), so a check can match the picture to the numbers.
public struct ChartSeries: Sendable, Equatable {
    public var name: String
    /// A short word for the `data-series` attribute and the CSS class (`chart-<key>`).
    public var key: String
    /// One value per category; nil leaves a gap (line charts) or no bar.
    public var values: [Double?]
    public var color: String

    public init(name: String, key: String, values: [Double?], color: String) {
        self.name = name
        self.key = key
        self.values = values
        self.color = color
    }
}

public struct Chart: Sendable, Equatable {
    /// Prefix of the ids inside the SVG, unique on its page.
    public var id: String
    public var title: String
    public var description: String
    public var categories: [String]
    public var series: [ChartSeries]
    public var xLabel: String
    public var yLabel: String
    public var width: Double = 720
    public var height: Double = 300

    public init(id: String, title: String, description: String, categories: [String], series: [ChartSeries], xLabel: String, yLabel: String) {
        self.id = id
        self.title = title
        self.description = description
        self.categories = categories
        self.series = series
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// The plot area inside the axes.
    public var plot: (left: Double, top: Double, width: Double, height: Double) {
        (left: 56, top: 36, width: width - 56 - 16, height: height - 36 - 56)
    }

    /// The top of the value axis: a round number at or above the largest value (1 when all are zero).
    public var scaleMax: Double {
        let largest = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
        return Self.niceCeiling(largest)
    }

    /// 1, 2, 2.5, 5 or 10 times a power of ten, at least `value` (and at least 1).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        let magnitude = pow(10, (log10(value)).rounded(.down))
        for step in [1, 2, 2.5, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    /// The height in the plot of `value`, proportional to it.
    public func length(of value: Double) -> Double {
        max(0, value) / scaleMax * plot.height
    }
}

public enum SVGChart {
    /// Grouped bars: one group per category, one bar per series.
    public static func bar(_ chart: Chart) -> String {
        var body = axes(chart)
        let plot = chart.plot
        let groups = max(1, chart.categories.count)
        let groupWidth = plot.width / Double(groups)
        let barWidth = max(1, groupWidth * 0.8 / Double(max(1, chart.series.count)))
        for (c, category) in chart.categories.enumerated() {
            for (s, series) in chart.series.enumerated() {
                guard c < series.values.count, let value = series.values[c] else { continue }
                let height = chart.length(of: value)
                let x = plot.left + Double(c) * groupWidth + groupWidth * 0.1 + Double(s) * barWidth
                let y = plot.top + plot.height - height
                body += "<rect class=\"chart-bar chart-\(escape(series.key))\" data-series=\"\(escape(series.key))\" "
                body += "data-category=\"\(escape(category))\" data-value=\"\(ReportNumber.text(value))\" "
                body += "x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(barWidth))\" height=\"\(number(height))\" fill=\"\(escape(series.color))\">"
                body += "<title>\(escape(series.name)), \(escape(category)): \(ReportNumber.text(value))</title></rect>"
            }
        }
        body += legend(chart)
        return frame(chart, body)
    }

    /// Lines: one per series, a point per category with a value, broken where a value is missing.
    public static func line(_ chart: Chart) -> String {
        var body = axes(chart)
        let plot = chart.plot
        let groups = max(1, chart.categories.count)
        let step = plot.width / Double(groups)
        for series in chart.series {
            var path = ""
            var penDown = false
            var points = ""
            for (c, category) in chart.categories.enumerated() {
                guard c < series.values.count, let value = series.values[c] else {
                    penDown = false
                    continue
                }
                let x = plot.left + (Double(c) + 0.5) * step
                let y = plot.top + plot.height - chart.length(of: value)
                path += "\(penDown ? "L" : "M")\(number(x)) \(number(y)) "
                penDown = true
                points += "<circle class=\"chart-point chart-\(escape(series.key))\" data-series=\"\(escape(series.key))\" "
                points += "data-category=\"\(escape(category))\" data-value=\"\(ReportNumber.text(value))\" "
                points += "cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"3.5\" fill=\"\(escape(series.color))\">"
                points += "<title>\(escape(series.name)), \(escape(category)): \(ReportNumber.text(value))</title></circle>"
            }
            if !path.isEmpty {
                body += "<path class=\"chart-line chart-\(escape(series.key))\" d=\"\(path.trimmingCharacters(in: .whitespaces))\" "
                body += "fill=\"none\" stroke=\"\(escape(series.color))\" stroke-width=\"2\"/>"
            }
            body += points
        }
        body += legend(chart)
        return frame(chart, body)
    }

    // MARK: Parts

    static func frame(_ chart: Chart, _ body: String) -> String {
        let id = escape(chart.id)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"\(id)\" role=\"img\" "
            + "aria-labelledby=\"\(id)-title \(id)-desc\" viewBox=\"0 0 \(number(chart.width)) \(number(chart.height))\" "
            + "width=\"\(number(chart.width))\" height=\"\(number(chart.height))\" font-family=\"sans-serif\" font-size=\"11\">"
            + "<title id=\"\(id)-title\">\(escape(chart.title))</title><desc id=\"\(id)-desc\">\(escape(chart.description))</desc>"
            + body + "</svg>"
    }

    /// The value axis with five ticks, the category axis with as many labels as fit, and both axis titles.
    static func axes(_ chart: Chart) -> String {
        let plot = chart.plot
        let bottom = plot.top + plot.height
        var out = "<g class=\"chart-axes\" fill=\"#333333\" stroke=\"none\">"
        for tick in 0...4 {
            let value = chart.scaleMax * Double(tick) / 4
            let y = bottom - chart.length(of: value)
            out += "<line x1=\"\(number(plot.left))\" x2=\"\(number(plot.left + plot.width))\" y1=\"\(number(y))\" y2=\"\(number(y))\" "
            out += "stroke=\"\(tick == 0 ? "#333333" : "#dddddd")\" stroke-width=\"1\"/>"
            out += "<text x=\"\(number(plot.left - 6))\" y=\"\(number(y + 4))\" text-anchor=\"end\">\(number(value))</text>"
        }
        out += "<line x1=\"\(number(plot.left))\" x2=\"\(number(plot.left))\" y1=\"\(number(plot.top))\" y2=\"\(number(bottom))\" stroke=\"#333333\"/>"
        let count = chart.categories.count
        if count > 0 {
            let step = plot.width / Double(count)
            // At most about one label per 60 px, so the dates do not overlap.
            let every = max(1, Int((60 / step).rounded(.up)))
            for (c, category) in chart.categories.enumerated() where c % every == 0 {
                let x = plot.left + (Double(c) + 0.5) * step
                out += "<text x=\"\(number(x))\" y=\"\(number(bottom + 16))\" text-anchor=\"middle\">\(escape(shortLabel(category)))</text>"
            }
        }
        out += "<text class=\"chart-axis-title\" x=\"\(number(plot.left + plot.width / 2))\" y=\"\(number(chart.height - 22))\" "
        out += "text-anchor=\"middle\">\(escape(chart.xLabel))</text>"
        out += "<text class=\"chart-axis-title\" x=\"14\" y=\"\(number(plot.top + plot.height / 2))\" text-anchor=\"middle\" "
        out += "transform=\"rotate(-90 14 \(number(plot.top + plot.height / 2)))\">\(escape(chart.yLabel))</text>"
        return out + "</g>"
    }

    static func legend(_ chart: Chart) -> String {
        var out = "<g class=\"chart-legend\">"
        var x = chart.plot.left
        for series in chart.series {
            out += "<rect x=\"\(number(x))\" y=\"10\" width=\"12\" height=\"12\" fill=\"\(escape(series.color))\"/>"
            out += "<text x=\"\(number(x + 16))\" y=\"20\" fill=\"#333333\">\(escape(series.name))</text>"
            x += 24 + Double(series.name.count) * 7
        }
        return out + "</g>"
    }

    /// `2026-11-23` → `11-23`: the year is in the chart's title.
    static func shortLabel(_ category: String) -> String {
        category.count == 10 && category.dropFirst(4).first == "-" ? String(category.dropFirst(5)) : category
    }

    /// Coordinates with at most two decimals.
    static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// Text and attribute values: the five characters XML gives meaning to.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

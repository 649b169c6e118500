/// One series as a chart draws it.
struct ChartLine {
    /// The legend text.
    var label: String
    /// A CSS colour.
    var color: String
    /// Dashed with a marker at every point (eval series); solid otherwise.
    var dashed: Bool
    /// Drawn lighter: a series from an earlier phase than the metric's last.
    var faded: Bool
    /// The points.
    var series: MetricSeries
}

/// A horizontal line at a meaningful value (zero margin, chance accuracy).
struct ChartReference {
    /// Where the line is drawn.
    var value: Double
    /// The text beside it.
    var label: String
}

/// An SVG line chart of metric series over steps, with axes, grid, legend and phase bands.
struct LineChart {
    /// What the chart shows; also the SVG's accessible name.
    var title: String
    /// The series, drawn in order.
    var lines: [ChartLine]
    /// The steps the x axis covers (shared by every chart of a page, so they line up).
    var steps: ClosedRange<Double>
    /// The run's phases; with two or more, each gets a label and alternate ones a band.
    var phases: [PhaseSpan]
    /// Values the y axis covers whatever the data (0...1 for accuracies).
    var valueRange: ClosedRange<Double>?
    /// A horizontal reference line, drawn when it falls inside the y axis.
    var reference: ChartReference?

    static let width = 640.0
    static let height = 308.0
    private static let plotLeft = 62.0
    private static let plotRight = width - 18
    private static let plotTop = 48.0
    private static let plotBottom = height - 44

    /// The chart as one `<svg>` element: one `<polyline>` per line, with exactly its points.
    var svg: String {
        let xTicks = AxisTicks(covering: steps.lowerBound, steps.upperBound, targetCount: 7, integral: true)
        let x = LinearScale(domain: xTicks.values.first!...xTicks.values.last!, pixels: (Self.plotLeft, Self.plotRight))
        var values = lines.flatMap { $0.series.points.map(\.value) }
        if let valueRange { values += [valueRange.lowerBound, valueRange.upperBound] }
        let yTicks = AxisTicks(covering: values.min() ?? 0, values.max() ?? 1, targetCount: 6)
        let y = LinearScale(domain: yTicks.values.first!...yTicks.values.last!, pixels: (Self.plotBottom, Self.plotTop))

        var out = """
            <svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" \
            role="img" aria-label="\(Markup.escape(title))">
            <title>\(Markup.escape(title))</title>

            """
        out += phaseBands(x: x)
        out += grid(xTicks: xTicks, x: x, yTicks: yTicks, y: y)
        if let reference, y.domain.contains(reference.value) {
            let c = Markup.coordinate(y(reference.value))
            out += line(Self.plotLeft, y(reference.value), Self.plotRight, y(reference.value), class: "reference")
            out += "<text class=\"reference-label\" x=\"\(Markup.coordinate(Self.plotRight - 4))\" y=\"\(c)\" dy=\"-4\" text-anchor=\"end\">\(Markup.escape(reference.label))</text>\n"
        }
        for chartLine in lines {
            out += polyline(chartLine, x: x, y: y)
        }
        out += legend()
        return out + "</svg>"
    }

    /// Shaded bands for the phases, labels just above the plot, and a dashed marker where each later
    /// phase starts.
    private func phaseBands(x: LinearScale) -> String {
        guard phases.count > 1 else { return "" }
        var out = ""
        for (index, phase) in phases.enumerated() {
            let start = x(phase.firstStep)
            let end = index + 1 < phases.count ? x(phases[index + 1].firstStep) : x(phase.lastStep)
            if index.isMultiple(of: 2) {
                out += "<rect class=\"phase-band\" x=\"\(Markup.coordinate(start))\" y=\"\(Markup.coordinate(Self.plotTop))\" "
                    + "width=\"\(Markup.coordinate(max(end - start, 1)))\" height=\"\(Markup.coordinate(Self.plotBottom - Self.plotTop))\"/>\n"
            }
            if index > 0 {
                out += line(start, Self.plotTop, start, Self.plotBottom, class: "phase-start")
            }
            out += "<text class=\"phase-label\" x=\"\(Markup.coordinate((start + end) / 2))\" "
                + "y=\"\(Markup.coordinate(Self.plotTop - 6))\" text-anchor=\"middle\">\(Markup.escape(phase.name.uppercased()))</text>\n"
        }
        return out
    }

    /// Grid lines, axes, tick labels and the x axis title.
    private func grid(xTicks: AxisTicks, x: LinearScale, yTicks: AxisTicks, y: LinearScale) -> String {
        var out = ""
        for (value, label) in zip(yTicks.values, yTicks.labels) {
            let py = y(value)
            out += line(Self.plotLeft, py, Self.plotRight, py, class: value == 0 ? "zero" : "grid")
            out += "<text class=\"tick\" x=\"\(Markup.coordinate(Self.plotLeft - 6))\" y=\"\(Markup.coordinate(py))\" "
                + "dy=\"0.32em\" text-anchor=\"end\">\(label)</text>\n"
        }
        for (value, label) in zip(xTicks.values, xTicks.labels) {
            let px = x(value)
            out += line(px, Self.plotBottom, px, Self.plotBottom + 4, class: "axis")
            out += "<text class=\"tick\" x=\"\(Markup.coordinate(px))\" y=\"\(Markup.coordinate(Self.plotBottom + 17))\" "
                + "text-anchor=\"middle\">\(label)</text>\n"
        }
        out += line(Self.plotLeft, Self.plotTop, Self.plotLeft, Self.plotBottom, class: "axis")
        out += line(Self.plotLeft, Self.plotBottom, Self.plotRight, Self.plotBottom, class: "axis")
        out += "<text class=\"axis-title\" x=\"\(Markup.coordinate((Self.plotLeft + Self.plotRight) / 2))\" "
            + "y=\"\(Markup.coordinate(Self.height - 8))\" text-anchor=\"middle\">step</text>\n"
        return out
    }

    /// The series as a polyline, plus markers (with the value as a tooltip) for eval series and
    /// for series too short to show as a line.
    private func polyline(_ chartLine: ChartLine, x: LinearScale, y: LinearScale) -> String {
        let points = chartLine.series.points
        let style = "stroke=\"\(chartLine.color)\"" + (chartLine.faded ? " stroke-opacity=\"0.5\"" : "")
        var out = "<polyline class=\"series\(chartLine.dashed ? " dashed" : "")\" data-metric=\"\(Markup.escape(chartLine.series.metric))\" \(style) points=\""
        out += points.map { "\(Markup.coordinate(x($0.step))),\(Markup.coordinate(y($0.value)))" }.joined(separator: " ")
        out += "\"/>\n"
        guard chartLine.dashed || points.count < 2 else { return out }
        for point in points {
            out += "<circle class=\"marker\" cx=\"\(Markup.coordinate(x(point.step)))\" cy=\"\(Markup.coordinate(y(point.value)))\" "
                + "r=\"2.6\" fill=\"\(chartLine.color)\"><title>\(Markup.escape(chartLine.series.metric)) at step "
                + "\(Markup.number(point.step)): \(Markup.number(point.value))</title></circle>\n"
        }
        return out
    }

    /// The legend, in a row above the plot: a line sample (with a marker for eval) and the label.
    private func legend() -> String {
        var out = ""
        var left = Self.plotLeft
        for chartLine in lines {
            let y = 18.0
            let opacity = chartLine.faded ? " stroke-opacity=\"0.5\"" : ""
            out += "<line class=\"series\(chartLine.dashed ? " dashed" : "")\" x1=\"\(Markup.coordinate(left))\" y1=\"\(Markup.coordinate(y))\" "
                + "x2=\"\(Markup.coordinate(left + 22))\" y2=\"\(Markup.coordinate(y))\" stroke=\"\(chartLine.color)\"\(opacity)/>\n"
            if chartLine.dashed {
                out += "<circle cx=\"\(Markup.coordinate(left + 11))\" cy=\"\(Markup.coordinate(y))\" r=\"2.6\" fill=\"\(chartLine.color)\"/>\n"
            }
            out += "<text class=\"legend\" x=\"\(Markup.coordinate(left + 28))\" y=\"\(Markup.coordinate(y))\" dy=\"0.32em\">"
                + "\(Markup.escape(chartLine.label))</text>\n"
            left += 28 + Double(chartLine.label.count) * 6.8 + 18
        }
        return out
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, class name: String) -> String {
        "<line class=\"\(name)\" x1=\"\(Markup.coordinate(x1))\" y1=\"\(Markup.coordinate(y1))\" "
            + "x2=\"\(Markup.coordinate(x2))\" y2=\"\(Markup.coordinate(y2))\"/>\n"
    }
}

/// The report's table: for every series, its final value, best value and range.
struct SummaryTable {
    /// One series' row.
    struct Row {
        var series: MetricSeries
        /// The last point.
        var final: MetricPoint
        /// The best point, for metrics where better has a direction.
        var best: MetricPoint?
        /// The smallest and largest values.
        var minimum: Double
        var maximum: Double
    }

    /// The rows: charted metrics in chart order, then every other metric by name; one per phase.
    var rows: [Row]
    /// Series whose every value is NaN or infinite, with how many there were.
    var nonFiniteOnly: [MetricSeries]

    /// Metrics where lower is better, and where higher is.
    private static let lowerIsBetter: Set = ["loss", "eval_loss"]
    private static let higherIsBetter: Set = ["rewards/accuracies", "eval_rewards/accuracies",
                                              "rewards/margins", "eval_rewards/margins"]

    /// The table of `log`.
    init(log: MetricsLog) {
        let charted = ChartCatalog.chartedMetrics
        let names = log.metricNames
        let ordered = charted.filter(names.contains) + names.filter { !charted.contains($0) }
        rows = []
        nonFiniteOnly = []
        for series in ordered.flatMap(log.series) {
            let values = series.points.map(\.value)
            guard let final = series.points.last, let minimum = values.min(), let maximum = values.max() else {
                nonFiniteOnly.append(series)
                continue
            }
            var best: MetricPoint?
            if Self.lowerIsBetter.contains(series.metric) {
                best = series.points.min { $0.value < $1.value }
            } else if Self.higherIsBetter.contains(series.metric) {
                best = series.points.max { $0.value < $1.value }
            }
            rows.append(Row(series: series, final: final, best: best, minimum: minimum, maximum: maximum))
        }
    }

    /// The table as HTML.
    var html: String {
        var out = """
            <table class="summary">
            <thead><tr><th>metric</th><th>phase</th><th class="num">points</th><th class="num">final</th>\
            <th class="num">at step</th><th class="num">best</th><th class="num">at step</th>\
            <th class="num">min</th><th class="num">max</th><th class="num">NaN/Inf</th></tr></thead>
            <tbody>

            """
        for row in rows {
            let best = row.best.map { (Markup.number($0.value), Markup.number($0.step)) } ?? ("—", "—")
            out += "<tr><td>\(Markup.escape(row.series.metric))</td><td>\(Markup.escape(row.series.phase ?? ""))</td>"
                + "<td class=\"num\">\(row.series.points.count)</td>"
                + "<td class=\"num\">\(Markup.number(row.final.value))</td><td class=\"num\">\(Markup.number(row.final.step))</td>"
                + "<td class=\"num\">\(best.0)</td><td class=\"num\">\(best.1)</td>"
                + "<td class=\"num\">\(Markup.number(row.minimum))</td><td class=\"num\">\(Markup.number(row.maximum))</td>"
                + "<td class=\"num\">\(row.series.nonFiniteCount == 0 ? "" : String(row.series.nonFiniteCount))</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}

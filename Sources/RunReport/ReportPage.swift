/// A run's configuration file, shown verbatim in the report.
public struct RunConfigFile: Equatable, Sendable {
    /// The file's name (`resolved_config.yaml`).
    public var name: String
    /// The file's text.
    public var text: String

    /// A configuration file from its name and text.
    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// A self-contained HTML page about one run: an SVG line chart per DPO quantity (train and eval
/// series together, phases shaded), a summary table and the run's configuration.
///
/// The page has inline CSS and SVG only: no scripts, fonts or other files, so it can be mailed,
/// archived or opened offline.
public struct ReportPage: Sendable {
    /// The run's metrics.
    public var log: MetricsLog
    /// The page's heading, usually the run directory's name.
    public var title: String
    /// The run's configuration, when there is one.
    public var config: RunConfigFile?
    /// The run's `generate_during_eval` completions (`samples.jsonl`), shown per step; empty: no section.
    public var samples: [SampleRecord] = []

    /// A page about `log`, headed `title`, showing `config` when given.
    public init(log: MetricsLog, title: String, config: RunConfigFile?) {
        self.log = log
        self.title = title
        self.config = config
    }

    /// The page as an HTML document.
    public var html: String {
        let (charts, emptyCharts) = ChartCatalog.charts(for: log)
        let table = SummaryTable(log: log)
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Markup.escape(title)) · dpo-ddp report</title>
            <style>
            \(Self.style)
            </style>
            </head>
            <body>
            <header>
            <h1>\(Markup.escape(title))</h1>
            <p class="meta">\(facts.map(Markup.escape).joined(separator: " · "))</p>
            </header>

            """
        out += notes(emptyCharts: emptyCharts, table: table)
        out += "<section class=\"charts\">\n"
        for chart in charts {
            let skipped = chart.lines.map(\.series.nonFiniteCount).reduce(0, +)
            let caption = skipped == 0 ? "" : " <span class=\"skipped\">\(skipped) NaN/Inf skipped</span>"
            out += "<figure>\n<figcaption>\(Markup.escape(chart.title))\(caption)</figcaption>\n\(chart.svg)\n</figure>\n"
        }
        out += "</section>\n"
        if !samples.isEmpty { out += SampleLog.html(samples) }
        out += "<h2>Summary</h2>\n" + table.html
        out += "<h2>Configuration</h2>\n"
        if let config {
            out += "<p class=\"meta\">\(Markup.escape(config.name))</p>\n<pre>\(Markup.escape(config.text))</pre>\n"
        } else {
            out += "<p class=\"meta\">No resolved_config.yaml or config.yaml in the run directory.</p>\n"
        }
        return out + "<footer>Made by <code>dpo-ddp report</code> from \(Markup.escape(log.file)).</footer>\n</body>\n</html>\n"
    }

    /// The one-line description under the heading: records, steps, phases, eval count.
    private var facts: [String] {
        let steps = log.records.map(\.step)
        var facts = ["\(log.records.count) records",
                     "steps \(Markup.number(steps.min() ?? 0))–\(Markup.number(steps.max() ?? 0))"]
        let phases = log.phases
        if !phases.isEmpty {
            facts.append(phases.map { "\($0.name) \(Markup.number($0.firstStep))–\(Markup.number($0.lastStep))" }
                .joined(separator: ", "))
        }
        let evalRecords = log.records.filter { $0.values.keys.contains { $0.hasPrefix("eval_") } }.count
        facts.append(evalRecords == 0 ? "no eval records" : "\(evalRecords) eval records")
        return facts
    }

    /// Warnings above the charts: skipped non-finite values and charts without data.
    private func notes(emptyCharts: [String], table: SummaryTable) -> String {
        var notes: [String] = []
        let skipped = (table.rows.map(\.series) + table.nonFiniteOnly).filter { $0.nonFiniteCount > 0 }
        if !skipped.isEmpty {
            let total = skipped.map(\.nonFiniteCount).reduce(0, +)
            let parts = skipped.map { "\($0.metric)\($0.phase.map { " (\($0))" } ?? "") × \($0.nonFiniteCount)" }
            notes.append("\(total) NaN/Inf value\(total == 1 ? " was" : "s were") skipped: \(parts.joined(separator: ", ")).")
        }
        if !emptyCharts.isEmpty {
            notes.append("Not logged, so not charted: \(emptyCharts.joined(separator: "; ")).")
        }
        guard !notes.isEmpty else { return "" }
        return "<div class=\"notes\">\n" + notes.map { "<p>\(Markup.escape($0))</p>\n" }.joined() + "</div>\n"
    }

    private static let style = """
        :root { color-scheme: light; }
        body { margin: 0 auto; max-width: 1360px; padding: 20px 28px 40px; background: #f8fafc; color: #0f172a;
               font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 17px; margin: 28px 0 10px; }
        .meta { color: #475569; margin: 0 0 8px; }
        .notes { background: #fffbeb; border: 1px solid #fcd34d; border-radius: 6px; padding: 6px 12px; margin: 12px 0; }
        .notes p { margin: 4px 0; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; margin-top: 16px; }
        figure { margin: 0; background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 10px 4px; }
        figcaption { font-weight: 600; font-size: 15px; padding: 0 4px; }
        .skipped { font-weight: 400; font-size: 12px; color: #b45309; margin-left: 8px; }
        svg.chart { display: block; width: 100%; height: auto; font-size: 12px; }
        svg .tick { fill: #475569; font-variant-numeric: tabular-nums; }
        svg .axis-title, svg .phase-label, svg .reference-label { fill: #64748b; font-size: 11px; }
        svg .phase-label { font-weight: 600; letter-spacing: 0.06em; }
        svg .legend { fill: #1e293b; }
        svg .grid { stroke: #e2e8f0; stroke-width: 1; }
        svg .zero { stroke: #94a3b8; stroke-width: 1; }
        svg .axis { stroke: #64748b; stroke-width: 1; }
        svg .reference { stroke: #94a3b8; stroke-width: 1; stroke-dasharray: 5 4; }
        svg .phase-band { fill: #ede9fe; fill-opacity: 0.6; }
        svg .phase-start { stroke: #7c3aed; stroke-width: 1.2; stroke-dasharray: 3 3; }
        svg .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
        svg .series.dashed { stroke-dasharray: 6 4; }
        table.summary { border-collapse: collapse; background: #fff; border: 1px solid #e2e8f0; font-size: 13px; }
        table.summary th, table.summary td { padding: 4px 10px; border-bottom: 1px solid #e2e8f0; text-align: left; }
        table.summary th { background: #f1f5f9; font-weight: 600; }
        table.summary .num { text-align: right; font-variant-numeric: tabular-nums; }
        pre { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 10px 14px; overflow-x: auto; font-size: 12.5px; }
        footer { margin-top: 28px; color: #64748b; font-size: 12px; }
        details.samples { margin: 8px 0; }
        details.samples summary { cursor: pointer; font-weight: 600; }
        table.samples { border-collapse: collapse; background: #fff; border: 1px solid #e2e8f0; font-size: 12.5px; width: 100%; table-layout: fixed; }
        table.samples th, table.samples td { padding: 4px 8px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
        table.samples th:first-child { width: 90px; }
        table.samples th { background: #f1f5f9; }
        table.samples pre { margin: 0; padding: 0; border: 0; background: none; white-space: pre-wrap; word-break: break-word; }
        """
}

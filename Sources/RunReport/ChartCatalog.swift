/// The charts a run report shows, and how each is built from a metrics log.
struct ChartCatalog {
    /// One metric in a chart: its name as logged, legend label, colour and style.
    struct Entry {
        var metric: String
        var label: String
        var color: String
        var dashed: Bool
    }

    /// A chart's recipe.
    struct Recipe {
        var title: String
        var entries: [Entry]
        var valueRange: ClosedRange<Double>?
        var reference: ChartReference?
    }

    private static let blue = "#2563eb", orange = "#ea580c", green = "#15803d", red = "#dc2626", grey = "#475569"

    /// The charts in page order: the DPO quantities first, then optimiser health.
    static let recipes: [Recipe] = [
        Recipe(title: "Loss", entries: trainAndEval("loss"), valueRange: nil, reference: nil),
        Recipe(title: "Reward margin (chosen − rejected)", entries: trainAndEval("rewards/margins"),
               valueRange: nil, reference: ChartReference(value: 0, label: "no preference")),
        Recipe(title: "Reward accuracy", entries: trainAndEval("rewards/accuracies"),
               valueRange: 0...1, reference: ChartReference(value: 0.5, label: "chance")),
        Recipe(title: "Rewards: chosen and rejected", entries: chosenAndRejected("rewards"), valueRange: nil, reference: nil),
        Recipe(title: "Log-probabilities: chosen and rejected", entries: chosenAndRejected("logps"), valueRange: nil, reference: nil),
        Recipe(title: "Gradient norm (before clipping)", entries: [Entry(metric: "grad_norm", label: "train", color: grey, dashed: false)],
               valueRange: nil, reference: nil),
        Recipe(title: "Learning rate", entries: [Entry(metric: "learning_rate", label: "train", color: grey, dashed: false)],
               valueRange: nil, reference: nil),
    ]

    /// Every metric some recipe draws.
    static var chartedMetrics: [String] { recipes.flatMap { $0.entries.map(\.metric) } }

    private static func trainAndEval(_ metric: String) -> [Entry] {
        [Entry(metric: metric, label: "train", color: blue, dashed: false),
         Entry(metric: "eval_" + metric, label: "eval", color: orange, dashed: true)]
    }

    private static func chosenAndRejected(_ prefix: String) -> [Entry] {
        [Entry(metric: prefix + "/chosen", label: "chosen", color: green, dashed: false),
         Entry(metric: prefix + "/rejected", label: "rejected", color: red, dashed: false),
         Entry(metric: "eval_" + prefix + "/chosen", label: "eval chosen", color: green, dashed: true),
         Entry(metric: "eval_" + prefix + "/rejected", label: "eval rejected", color: red, dashed: true)]
    }

    /// The charts with data in `log`, all over the log's step range, and the titles of those without.
    static func charts(for log: MetricsLog) -> (charts: [LineChart], empty: [String]) {
        let steps = log.records.map(\.step)
        let stepRange = steps.min()!...steps.max()!
        let phases = log.phases
        var charts: [LineChart] = []
        var empty: [String] = []
        for recipe in recipes {
            var lines: [ChartLine] = []
            for entry in recipe.entries {
                let series = log.series(entry.metric).filter { !$0.points.isEmpty }
                for (index, part) in series.enumerated() {
                    let label = series.count > 1 ? "\(entry.label) (\(part.phase ?? "no phase"))" : entry.label
                    lines.append(ChartLine(label: label, color: entry.color, dashed: entry.dashed,
                                           faded: index < series.count - 1, series: part))
                }
            }
            if lines.isEmpty {
                empty.append(recipe.title)
            } else {
                charts.append(LineChart(title: recipe.title, lines: lines, steps: stepRange, phases: phases,
                                        valueRange: recipe.valueRange, reference: recipe.reference))
            }
        }
        return (charts, empty)
    }
}

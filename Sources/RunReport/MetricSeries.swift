/// One finite value of a metric at a step.
public struct MetricPoint: Equatable, Sendable {
    /// The optimiser step.
    public var step: Double
    /// The metric's value there.
    public var value: Double

    /// A point from its coordinates.
    public init(step: Double, value: Double) {
        self.step = step
        self.value = value
    }
}

/// A metric's values over steps within one phase, ready to draw.
public struct MetricSeries: Equatable, Sendable {
    /// The metric's name as logged (`loss`, `eval_rewards/margins`, ...).
    public var metric: String
    /// The phase the points belong to, or `nil` when the log names no phases.
    public var phase: String?
    /// The finite values, one per step (the last line logged for a step wins, as after a resume),
    /// in increasing step order.
    public var points: [MetricPoint]
    /// How many steps had a NaN or infinite value, left out of `points`.
    public var nonFiniteCount: Int

    /// A series from its parts.
    public init(metric: String, phase: String?, points: [MetricPoint], nonFiniteCount: Int) {
        self.metric = metric
        self.phase = phase
        self.points = points
        self.nonFiniteCount = nonFiniteCount
    }
}

/// A run of consecutive steps logged in the same phase.
public struct PhaseSpan: Equatable, Sendable {
    /// The phase's name as logged (`"sft"`, `"dpo"`).
    public var name: String
    /// The first step logged in the span.
    public var firstStep: Double
    /// The last step logged in the span.
    public var lastStep: Double

    /// A span from its parts.
    public init(name: String, firstStep: Double, lastStep: Double) {
        self.name = name
        self.firstStep = firstStep
        self.lastStep = lastStep
    }
}

extension MetricsLog {
    /// The phases in step order; empty when no line names a phase.
    public var phases: [PhaseSpan] {
        var spans: [PhaseSpan] = []
        let named = records.compactMap { record in record.phase.map { (step: record.step, phase: $0) } }
        for (step, phase) in named.sorted(by: { $0.step < $1.step }) {
            if let last = spans.last, last.name == phase {
                spans[spans.count - 1].lastStep = step
            } else {
                spans.append(PhaseSpan(name: phase, firstStep: step, lastStep: step))
            }
        }
        return spans
    }

    /// Every metric name that occurs in some record, sorted.
    public var metricNames: [String] {
        Set(records.flatMap(\.values.keys)).sorted()
    }

    /// The values of `metric`, one series per phase in step order (a single series with a `nil`
    /// phase when the log names no phases). A line without `phase` belongs to the phase whose span
    /// holds its step, as eval lines usually do. Empty when no line carries the metric.
    public func series(_ metric: String) -> [MetricSeries] {
        let spans = phases
        var phaseOrder: [String?] = []
        var valuesByPhase: [String?: [Double: Double]] = [:]
        for record in records {
            guard let value = record.values[metric] else { continue }
            let phase = record.phase ?? spans.last(where: { $0.firstStep <= record.step })?.name
            if valuesByPhase[phase] == nil { phaseOrder.append(phase) }
            valuesByPhase[phase, default: [:]][record.step] = value
        }
        return phaseOrder.map { phase in
            let byStep = valuesByPhase[phase] ?? [:]
            let points = byStep.filter { $0.value.isFinite }
                .map { MetricPoint(step: $0.key, value: $0.value) }
                .sorted { $0.step < $1.step }
            return MetricSeries(metric: metric, phase: phase, points: points, nonFiniteCount: byStep.count - points.count)
        }.sorted { ($0.points.first?.step ?? .infinity) < ($1.points.first?.step ?? .infinity) }
    }
}

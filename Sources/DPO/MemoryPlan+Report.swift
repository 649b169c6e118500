import Foundation
import GPT2

extension MemoryPlan {
    /// `bytes` as GB (10⁹ bytes) with two decimals.
    public static func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }

    /// The table `dpo-ddp plan` prints: one line per component and phase, then the totals.
    public var table: [String] {
        func line(_ name: String, _ bytes: Int, _ about: String) -> String {
            name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: max(1, 10 - Self.gigabytes(bytes).count)) + Self.gigabytes(bytes) + "  " + about
        }
        var lines = ["per rank, during a training step:"]
        lines += components.map { line($0.name, $0.bytes, $0.about) }
        lines.append(line("step total", stepBytes, "every rank"))
        if !phases.isEmpty {
            lines.append("per rank, whole memory at other moments:")
            lines += phases.map { line($0.name, $0.bytes, $0.about) }
        }
        lines.append(line("peak, rank 0", peakBytes(rankZero: true), "the largest of the step and the phases above"))
        return lines
    }

    /// The one or two lines `train` prints at start.
    public func summary(localRanks: Int, memory: (bytes: Int, source: String)?) -> String {
        let biggest = components.sorted { $0.bytes > $1.bytes }.prefix(4).map { "\($0.name) \(Self.gigabytes($0.bytes))" }
        var text = "memory plan: \(Self.gigabytes(stepBytes)) per rank per step (" + biggest.joined(separator: ", ")
            + "), peak \(Self.gigabytes(peakBytes(rankZero: true))) on rank 0"
        if let memory {
            text += "; \(localRanks) rank(s) on this node: \(Self.gigabytes(nodeBytes(localRanks: localRanks))) of "
                + "\(Self.gigabytes(memory.bytes)) (\(memory.source))"
        }
        return text
    }

    /// Every number, for `plan`'s JSON line: each component and phase by name, the step total, the
    /// peaks, and the sizes they were computed from.
    public var numbers: [String: Int] {
        var values = Dictionary(uniqueKeysWithValues: (components + phases).map { ($0.name + "_bytes", $0.bytes) })
        values["per_rank_total_bytes"] = stepBytes
        values["rank0_peak_bytes"] = peakBytes(rankZero: true)
        values["other_rank_peak_bytes"] = peakBytes(rankZero: false)
        values["parameters"] = GPT2Layout(settings.policy).count
        values["trainable_parameters"] = trainableParameters
        values["packed_rows"] = settings.shape.rows
        values["logits_rows"] = settings.shape.targets
        values["attention_probabilities_per_head"] = settings.shape.probabilitiesPerHead
        values["ranks"] = settings.ranks
        values["zero"] = settings.zero
        return values
    }
}

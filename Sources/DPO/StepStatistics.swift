/// Sums and counts of the per-pair statistics of one or more optimiser steps.
///
/// Kept as sums (not means) so that micro-batches, ranks and logged steps combine by addition:
/// one all-reduce of `values` gives the exact statistics of the global batch, and
/// `rewards/accuracies` is the fraction over every pair, never a mean of means.
public struct StepStatistics: Equatable, Sendable {
    /// The summed quantities, indexed by `Field`.
    public enum Field: Int, CaseIterable, Sendable {
        case pairs, loss, chosenReward, rejectedReward, accuracy, chosenLogps, rejectedLogps
        case chosenLogitSum, chosenLogitCount, rejectedLogitSum, rejectedLogitCount, tokens
    }

    /// One Double per field, in `Field` order (the all-reduce buffer).
    public var values = [Double](repeating: 0, count: Field.allCases.count)

    /// Empty statistics.
    public init() {}

    /// Adds `value` to `field`.
    public mutating func add(_ field: Field, _ value: Double) { values[field.rawValue] += value }

    /// The sum of `field`.
    public subscript(_ field: Field) -> Double { values[field.rawValue] }

    /// Adds another set of statistics.
    public mutating func merge(_ other: StepStatistics) {
        for i in values.indices { values[i] += other.values[i] }
    }

    /// Metrics named as TRL names them: means over pairs (logits: over every vocabulary entry of
    /// every completion token), `num_tokens` the non-padding tokens of these pairs (the trainer
    /// logs its running total instead, as TRL does).
    public var metrics: [String: Double] {
        let n = max(self[.pairs], 1)
        let chosen = self[.chosenReward] / n, rejected = self[.rejectedReward] / n
        return [
            "loss": self[.loss] / n,
            "rewards/chosen": chosen,
            "rewards/rejected": rejected,
            "rewards/margins": chosen - rejected,
            "rewards/accuracies": self[.accuracy] / n,
            "logps/chosen": self[.chosenLogps] / n,
            "logps/rejected": self[.rejectedLogps] / n,
            "logits/chosen": self[.chosenLogitSum] / max(self[.chosenLogitCount], 1),
            "logits/rejected": self[.rejectedLogitSum] / max(self[.rejectedLogitCount], 1),
            "num_tokens": self[.tokens],
        ]
    }
}

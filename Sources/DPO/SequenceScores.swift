import GPT2
import PreferenceData

/// Per-row results of a forward pass: summed completion log-probs, completion token counts and
/// the sum of every logit at the completion positions (for TRL's `logits/*` metrics).
public struct SequenceScores: Equatable, Sendable {
    /// Σ log p(token) over each row's completion tokens.
    public var logps: [Double]
    /// Completion tokens per row.
    public var tokens: [Int]
    /// Σ over completion positions and vocabulary of the logits, per row.
    public var logitSums: [Double]

    /// Runs `model` forward on `scoring` and sums per row.
    public init(model: GPT2Model, scoring: ScoringInput) throws {
        let logp = try model.forward(scoring.input)
        let sums = model.logitSums
        logps = [Double](repeating: 0, count: scoring.rows)
        tokens = [Int](repeating: 0, count: scoring.rows)
        logitSums = [Double](repeating: 0, count: scoring.rows)
        for (m, owner) in scoring.owner.enumerated() {
            guard let row = owner else { continue }
            logps[row] += Double(logp[m])
            tokens[row] += 1
            logitSums[row] += Double(sums[m])
        }
    }
}

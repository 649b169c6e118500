import Foundation
import GPT2
import PreferenceData

/// Per-row results of a forward pass: summed completion log-probs, completion token counts, the
/// sum of every logit at the completion positions (for TRL's `logits/*` metrics), and each
/// completion token's log-prob.
public struct SequenceScores: Equatable, Sendable {
    /// Σ log p(token) over each row's completion tokens.
    public var logps: [Double]
    /// Completion tokens per row.
    public var tokens: [Int]
    /// Σ over completion positions and vocabulary of the logits, per row.
    public var logitSums: [Double]
    /// log p of each completion token, per row, in completion order.
    public var tokenLogps: [[Double]]
    /// log Σ_v p_v² at each completion token, per row (WPO's alignment term); empty unless asked for.
    public var logSumSquares: [[Double]]

    /// Runs `model` forward on `scoring` and sums per row; with `wanted`, also computes
    /// log Σ_v p_v² = logsumexp(2·logits) − 2·logsumexp(logits) at every completion token.
    public init(model: GPT2Model, scoring: ScoringInput, logSumSquares wanted: Bool = false) throws {
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
        tokenLogps = tokens.map { [Double](repeating: 0, count: $0) }
        logSumSquares = wanted ? tokenLogps : []
        for (m, owner) in scoring.owner.enumerated() {
            guard let row = owner else { continue }
            tokenLogps[row][scoring.completionIndex[m]] = Double(logp[m])
            if wanted {
                logSumSquares[row][scoring.completionIndex[m]] = Self.logSumOfSquaredProbabilities(model.logits(target: m))
            }
        }
    }

    /// log Σ_v softmax(logits)_v² in float64: logsumexp(2·logits) − 2·logsumexp(logits).
    static func logSumOfSquaredProbabilities(_ logits: UnsafeBufferPointer<Float>) -> Double {
        let top = Double(logits.max() ?? 0)
        var sum = 0.0, squares = 0.0
        for value in logits {
            let e = exp(Double(value) - top)
            sum += e
            squares += e * e
        }
        return log(squares) - 2 * log(sum)
    }
}

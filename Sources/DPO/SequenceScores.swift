import GPT2
import PreferenceData

/// A micro-batch as model input: every completion token is a target, predicted from the
/// position before it, so the vocabulary projection runs only over completion positions.
///
/// Shapes: `input.tokens` [rows × length]; `owner` [M], the row of each of the M targets.
public struct ScoringInput: Sendable {
    /// The forward pass's input.
    public let input: GPT2Input
    /// Row of each target.
    public let owner: [Int]
    /// Number of rows (2 × pairs: chosen rows, then rejected rows).
    public let rows: Int

    /// The targets of `batch`: token t of row r where `completionMask[r·length + t] == 1`, for
    /// the rows in `scoredRows` (all by default; the SFT phase scores only the chosen rows).
    public init(_ batch: MicroBatch, scoredRows: Range<Int>? = nil) {
        var targetRows: [Int32] = [], targets: [Int32] = [], owner: [Int] = []
        for r in scoredRows ?? 0..<batch.rows {
            let base = r * batch.length
            for t in 1..<max(batch.length, 1) where batch.completionMask[base + t] != 0 {
                targetRows.append(Int32(base + t - 1))
                targets.append(batch.tokens[base + t])
                owner.append(r)
            }
        }
        input = GPT2Input(tokens: batch.tokens, batchSize: batch.rows, seqLen: batch.length,
                          targetRows: targetRows, targets: targets)
        self.owner = owner
        rows = batch.rows
    }
}

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
        for (m, row) in scoring.owner.enumerated() {
            logps[row] += Double(logp[m])
            tokens[row] += 1
            logitSums[row] += Double(sums[m])
        }
    }
}

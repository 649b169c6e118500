import GPT2
import PreferenceData

/// A micro-batch scored the way a plain implementation (TRL's `concatenated_forward`) scores it:
/// the vocabulary projection runs at every position of every row, prompt included, and only the
/// completion tokens' log-probs count. The numbers are `PairScoring`'s; only the work differs.
/// `dpo-ddp bench --full-logits` uses it to show what projecting only completion positions saves.
///
/// Shapes: `input` scores all [rows × length] positions; `owner` [rows × length].
public struct FullLogitScoring {
    /// The forward pass's input: position t of each row scores token t + 1.
    public let input: GPT2Input
    /// For each position, the row whose completion token it predicts, or nil.
    let owner: [Int?]
    let rows: Int

    /// Every position of `batch`'s rows as a target.
    public init(_ batch: MicroBatch) {
        let length = batch.length
        input = .allPositions(tokens: batch.tokens, batchSize: batch.rows, seqLen: length)
        owner = (0..<(batch.rows * length)).map { i in
            i % length + 1 < length && batch.completionMask[i + 1] != 0 ? i / length : nil
        }
        rows = batch.rows
    }

    /// Σ log p(token) over each row's completion tokens under `model` (a full forward pass).
    public func logps(_ model: GPT2Model) throws -> [Double] {
        let logp = try model.forward(input)
        var sums = [Double](repeating: 0, count: rows)
        for (m, row) in owner.enumerated() {
            if let row { sums[row] += Double(logp[m]) }
        }
        return sums
    }

    /// One training micro-batch as `PairScoring.run` does it (policy forward, reference
    /// log-probs, the loss of every pair, backward of each pair's derivative times
    /// `gradientScale`), through full logits; a live reference model runs full logits too.
    /// The non-completion positions get a zero derivative but still go through the head's backward.
    public func train(policy: GPT2Model, batch: MicroBatch, loss: DPOLoss, reference: ReferenceLogProbs,
                      gradientScale: Double) throws {
        let scores = try logps(policy)
        let ref: [Double]
        if case let .model(model) = reference {
            ref = try logps(model)
        } else {
            ref = try reference.logps(batch: batch, scoring: ScoringInput(batch))
        }
        var tokens = [Int](repeating: 0, count: rows)
        for row in owner.compactMap({ $0 }) { tokens[row] += 1 }
        let pairs = rows / 2
        var rowGradient = [Double](repeating: 0, count: rows)
        for c in 0..<pairs {
            let r = pairs + c
            let result = loss.pairLoss(PairLogProbs(
                policyChosen: scores[c], policyRejected: scores[r], referenceChosen: ref[c], referenceRejected: ref[r],
                chosenTokens: tokens[c], rejectedTokens: tokens[r]))
            rowGradient[c] = result.dPolicyChosen * gradientScale
            rowGradient[r] = result.dPolicyRejected * gradientScale
        }
        let dlogp = owner.map { $0.map { Float(rowGradient[$0]) } ?? 0 }
        dlogp.withUnsafeBufferPointer { policy.backward(dlogp: $0) }
    }
}

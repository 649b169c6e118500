import Distributed
import GPT2
import PreferenceData

/// Runs one micro-batch through the policy: forward, reference log-probs, the loss of every pair,
/// its statistics and, when training, the backward pass.
///
/// Public so that `dpo-ddp bench` times exactly the trainer's micro-batch work.
public struct PairScoring {
    /// The model being trained (its gradients accumulate).
    public let policy: GPT2Model
    /// How micro-batches are laid out for the forward passes (policy and live reference alike).
    public let options: ScoringOptions

    /// Scoring with `policy`.
    public init(policy: GPT2Model, options: ScoringOptions = ScoringOptions()) {
        self.policy = policy
        self.options = options
    }

    /// Scoring with `policy` laid out as a run's `config` asks (`shared_prompt`).
    public init(policy: GPT2Model, config: TrainingConfig) {
        self.init(policy: policy, options: config.scoringOptions)
    }

    /// Adds the micro-batch's statistics to `stats`. With `gradientScale`, also backpropagates
    /// each pair's loss derivative times the scale (1 / pairs in the global batch), accumulating
    /// into the policy's gradients. Returns the number of scored tokens.
    @discardableResult
    public func run(_ batch: MicroBatch, loss: DPOLoss, reference: ReferenceLogProbs, into stats: inout StepStatistics,
                    gradientScale: Double?, meanChosenTokens: Double?) throws -> Int {
        let pairs = batch.pairIndices.count
        // A loss of the chosen answers alone (SFT) needs no log-probs of the rejected rows.
        let chosenOnly = loss.settings.types == [.sft]
        let scoring = ScoringInput(batch, options: options, scoredRows: chosenOnly ? 0..<pairs : nil)
        let scores = try SequenceScores(model: policy, scoring: scoring)
        let ref = try reference.logps(batch: batch, scoring: scoring)
        let vocab = Double(policy.config.vocabSize)
        var rowGradient = [Double](repeating: 0, count: batch.rows)
        for c in 0..<pairs {
            let r = pairs + c
            let result = loss.pairLoss(PairLogProbs(
                policyChosen: scores.logps[c], policyRejected: scores.logps[r],
                referenceChosen: ref[c], referenceRejected: ref[r],
                chosenTokens: scores.tokens[c], rejectedTokens: scores.tokens[r]), meanChosenTokens: meanChosenTokens)
            stats.add(.pairs, 1)
            stats.add(.loss, result.loss)
            stats.add(.chosenReward, result.chosenReward)
            stats.add(.rejectedReward, result.rejectedReward)
            stats.add(.accuracy, result.chosenReward > result.rejectedReward ? 1 : 0)
            stats.add(.chosenLogps, scores.logps[c])
            stats.add(.rejectedLogps, scores.logps[r])
            stats.add(.chosenLogitSum, scores.logitSums[c])
            stats.add(.chosenLogitCount, Double(scores.tokens[c]) * vocab)
            stats.add(.rejectedLogitSum, scores.logitSums[r])
            stats.add(.rejectedLogitCount, Double(scores.tokens[r]) * vocab)
            stats.add(.tokens, Double(batch.lengths[c] + batch.lengths[r]))
            rowGradient[c] = result.dPolicyChosen
            rowGradient[r] = result.dPolicyRejected
        }
        if let gradientScale {
            let dlogp = scoring.owner.map { $0.map { Float(rowGradient[$0] * gradientScale) } ?? 0 }
            dlogp.withUnsafeBufferPointer { policy.backward(dlogp: $0) }
        }
        return scoring.owner.lazy.filter { $0 != nil }.count
    }

    /// Metrics of the policy over every pair of `dataset` (each rank a share of the
    /// micro-batches, statistics all-reduced), named as TRL names them (without `eval_`).
    func evaluate(_ dataset: PreferenceDataset, loss: DPOLoss, reference: ReferenceLogProbs,
                  microBatchSize: Int, padID: Int32, communicator: any Communicator) throws -> [String: Double] {
        var stats = StepStatistics()
        let n = dataset.pairs.count
        let batches = (n + microBatchSize - 1) / microBatchSize
        for b in stride(from: communicator.rank, to: batches, by: communicator.size) {
            let pairs = Array(dataset.pairs[(b * microBatchSize)..<min(n, (b + 1) * microBatchSize)])
            try run(MicroBatch(pairs: pairs, padID: padID), loss: loss, reference: reference, into: &stats,
                    gradientScale: nil, meanChosenTokens: nil)
        }
        try stats.values.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        return stats.metrics
    }
}

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

    /// The loss inputs of each pair of `batch` (policy forward and reference), and the forward's
    /// scores. The policy's activations stay in place for a following `backward`.
    func pairLogProbs(_ batch: MicroBatch, loss: DPOLoss, reference: ReferenceLogProbs)
        throws -> (pairs: [PairLogProbs], scores: SequenceScores, scoring: ScoringInput) {
        let pairs = batch.pairIndices.count
        // A loss of the chosen answers alone (SFT) needs no log-probs of the rejected rows.
        let chosenOnly = loss.settings.types == [.sft]
        let scoring = ScoringInput(batch, options: options, scoredRows: chosenOnly ? 0..<pairs : nil)
        let scores = try SequenceScores(model: policy, scoring: scoring, logSumSquares: loss.settings.useWeighting)
        let refs = try reference.pairRows(batch: batch, scoring: scoring, tokens: scores.tokens)
        let squares = loss.settings.useWeighting ? scores.logSumSquares : nil
        let logProbs = (0..<pairs).map { c in
            loss.pairLogProbs(policy: TokenRows(chosen: scores.tokenLogps[c], rejected: scores.tokenLogps[pairs + c]),
                              reference: refs[c],
                              logSumSquares: squares.map { TokenRows(chosen: $0[c], rejected: $0[pairs + c]) })
        }
        return (logProbs, scores, scoring)
    }

    /// Adds the micro-batch's statistics to `stats`. With `gradientScale`, also backpropagates
    /// each pair's loss derivative times the scale (1 / pairs in the global batch), accumulating
    /// into the policy's gradients. `batchTerms` gives the batch-level losses' (AOT) share of each
    /// pair, by dataset pair index, computed over the whole global batch; nil when there are none.
    /// Returns the number of scored tokens.
    @discardableResult
    public func run(_ batch: MicroBatch, loss: DPOLoss, reference: ReferenceLogProbs, into stats: inout StepStatistics,
                    gradientScale: Double?, meanChosenTokens: Double?, batchTerms: [Int: PairLoss]? = nil) throws -> Int {
        let pairs = batch.pairIndices.count
        let (logProbs, scores, scoring) = try pairLogProbs(batch, loss: loss, reference: reference)
        let vocab = Double(policy.config.vocabSize)
        var tokenGradient = [[Double]](repeating: [], count: batch.rows)
        for c in 0..<pairs {
            let r = pairs + c
            var result = loss.pairLoss(logProbs[c], meanChosenTokens: meanChosenTokens)
            if let share = batchTerms?[batch.pairIndices[c]] { result.addTerms(of: share) }
            stats.add(.pairs, 1)
            stats.add(.loss, result.loss)
            stats.add(.chosenReward, result.chosenReward)
            stats.add(.rejectedReward, result.rejectedReward)
            stats.add(.accuracy, result.chosenReward > result.rejectedReward ? 1 : 0)
            stats.add(.chosenLogps, logProbs[c].policyChosen)
            stats.add(.rejectedLogps, logProbs[c].policyRejected)
            stats.add(.chosenLogitSum, scores.logitSums[c])
            stats.add(.chosenLogitCount, Double(scores.tokens[c]) * vocab)
            stats.add(.rejectedLogitSum, scores.logitSums[r])
            stats.add(.rejectedLogitCount, Double(scores.tokens[r]) * vocab)
            stats.add(.tokens, Double(batch.lengths[c] + batch.lengths[r]))
            let gradients = loss.tokenGradients(result, chosenTokens: scores.tokens[c], rejectedTokens: scores.tokens[r])
            tokenGradient[c] = gradients.chosen
            tokenGradient[r] = gradients.rejected
        }
        if let gradientScale {
            let dlogp = zip(scoring.owner, scoring.completionIndex).map { owner, t in
                owner.map { Float(tokenGradient[$0][t] * gradientScale) } ?? 0
            }
            dlogp.withUnsafeBufferPointer { policy.backward(dlogp: $0) }
        }
        return scoring.owner.lazy.filter { $0 != nil }.count
    }

    /// The batch-level losses' (AOT) share of every pair of a batch spread over ranks and
    /// micro-batches: this rank scores its `batches` (forward only), the six numbers AOT reads of each
    /// pair are all-reduced into place by `position` (the pair's place in the batch, from its dataset
    /// index), and every rank computes the same terms over the whole batch. Keyed by dataset index.
    func gatheredBatchTerms(_ batches: [MicroBatch], position: [Int: Int], loss: DPOLoss, reference: ReferenceLogProbs,
                            communicator: any Communicator) throws -> [Int: PairLoss] {
        let count = position.count
        var fields = [Double](repeating: 0, count: 6 * count)
        for batch in batches {
            for (pair, index) in zip(try pairLogProbs(batch, loss: loss, reference: reference).pairs, batch.pairIndices) {
                let k = 6 * position[index]!
                fields.replaceSubrange(k..<(k + 6), with: [pair.policyChosen, pair.policyRejected, pair.referenceChosen,
                                                           pair.referenceRejected, Double(pair.chosenTokens),
                                                           Double(pair.rejectedTokens)])
            }
        }
        try fields.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        let pairs = (0..<count).map { k in
            PairLogProbs(policyChosen: fields[6 * k], policyRejected: fields[6 * k + 1], referenceChosen: fields[6 * k + 2],
                         referenceRejected: fields[6 * k + 3], chosenTokens: Int(fields[6 * k + 4]),
                         rejectedTokens: Int(fields[6 * k + 5]))
        }
        let terms = loss.batchTerms(pairs)
        return Dictionary(uniqueKeysWithValues: position.map { ($0.key, terms[$0.value]) })
    }

    /// Metrics of the policy over every pair of `dataset` (each rank a share of the
    /// micro-batches, statistics all-reduced), named as TRL names them (without `eval_`).
    func evaluate(_ dataset: PreferenceDataset, loss: DPOLoss, reference: ReferenceLogProbs,
                  microBatchSize: Int, padID: Int32, communicator: any Communicator) throws -> [String: Double] {
        var stats = StepStatistics()
        let n = dataset.pairs.count
        let batches = (n + microBatchSize - 1) / microBatchSize
        let mine = stride(from: communicator.rank, to: batches, by: communicator.size).map { b in
            MicroBatch(pairs: Array(dataset.pairs[(b * microBatchSize)..<min(n, (b + 1) * microBatchSize)]), padID: padID)
        }
        // AOT sorts over the whole eval set, so the result does not depend on the ranks or micro-batches.
        let batchTerms = loss.settings.isBatchLevel
            ? try gatheredBatchTerms(mine, position: Dictionary(uniqueKeysWithValues: dataset.pairs.indices.map { ($0, $0) }),
                                     loss: loss, reference: reference, communicator: communicator)
            : nil
        for batch in mine {
            try run(batch, loss: loss, reference: reference, into: &stats, gradientScale: nil, meanChosenTokens: nil,
                    batchTerms: batchTerms)
        }
        try stats.values.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        return stats.metrics
    }
}

/// The preference loss under validated `LossSettings`: the weighted sum of the configured loss
/// types, its gradient with respect to the summed (and, for `token_pair`, per-token) policy
/// log-probs, and the rewards TRL logs. Every loss but AOT depends only on its pair (TRL 1.16 keeps
/// no running reward mean); AOT's terms depend on the whole global batch (`batchTerms`), which the
/// trainer gathers across ranks, so no result depends on how a global batch is split.
///
/// The trainer averages `loss` over the pairs of the global batch, and scales the derivatives by
/// 1/(pairs in the global batch) before spreading them over the completion tokens' logits.
public struct DPOLoss: Sendable {
    /// The validated settings.
    public let settings: LossSettings

    /// A loss for `settings`.
    ///
    /// - Throws: `LossSettingsError` when `settings.validate()` refuses them.
    public init(settings: LossSettings) throws {
        try settings.validate()
        self.settings = settings
    }

    /// The loss of one pair from every loss type but the batch-level ones (`aot`, `aot_unpaired`:
    /// add `batchTerms`), each term scaled by the pair's WPO `weight`.
    ///
    /// - Parameters:
    ///   - pair: summed completion log-probs and token counts (and per-token log-probs for `token_pair`).
    ///   - meanChosenTokens: Σ n₊ / pairs over the global batch. `sft` divides the chosen NLL by it, so
    ///     the batch mean of the `sft` term is TRL's token-level mean −Σ log π(y₊) / Σ n₊ over the batch.
    ///     When nil, `sft` divides by this pair's own max(n₊, 1) (the per-pair token mean).
    public func pairLoss(_ pair: PairLogProbs, meanChosenTokens: Double? = nil) -> PairLoss {
        precondition(meanChosenTokens.map { $0 > 0 } ?? true, "meanChosenTokens must be positive")
        let useReference = settings.needsReference
        let chosenRatio = pair.policyChosen - (useReference ? pair.referenceChosen : 0)
        let rejectedRatio = pair.policyRejected - (useReference ? pair.referenceRejected : 0)
        let chosenLength = Double(max(pair.chosenTokens, 1))
        let alpha = settings.fAlphaDivergenceCoef
        let quantities = PairQuantities(
            chosenRatio: chosenRatio, rejectedRatio: rejectedRatio,
            policyChosen: pair.policyChosen, policyRejected: pair.policyRejected,
            chosenLength: chosenLength, rejectedLength: Double(max(pair.rejectedTokens, 1)),
            sftTokens: meanChosenTokens ?? chosenLength,
            chosenScore: settings.fDivergence.score(chosenRatio, alpha: alpha),
            rejectedScore: settings.fDivergence.score(rejectedRatio, alpha: alpha))

        var result = PairLoss(loss: 0, dPolicyChosen: 0, dPolicyRejected: 0,
                              chosenReward: settings.beta * chosenRatio,
                              rejectedReward: settings.beta * rejectedRatio)
        for (type, weight) in zip(settings.types, settings.weights) {
            let scale = weight * pair.weight
            if let term = type.term(quantities, settings) {
                result.loss += scale * term.value
                result.dPolicyChosen += scale * term.dChosen
                result.dPolicyRejected += scale * term.dRejected
            } else if type == .tokenPair {
                guard let tokens = pair.tokens else { preconditionFailure("token_pair needs the pair's per-token log-probs") }
                let term = TokenPairLoss(beta: settings.beta).term(tokens)
                result.loss += scale * term.value
                result.dPolicyChosenTokens = term.dChosen.map { scale * $0 }
                result.dPolicyRejectedTokens = term.dRejected.map { scale * $0 }
            }
        }
        if !useReference && (settings.types.contains(.simpo) || settings.types.contains(.orpo)) {
            result.chosenReward = settings.beta * pair.policyChosen / quantities.chosenLength
            result.rejectedReward = settings.beta * pair.policyRejected / quantities.rejectedLength
        }
        return result
    }

    /// The batch-level losses' (`aot`, `aot_unpaired`) weighted contribution to each pair of the
    /// global batch `pairs` (loss and derivatives; rewards 0), all zero when there are none.
    public func batchTerms(_ pairs: [PairLogProbs]) -> [PairLoss] {
        var result = pairs.map { _ in PairLoss(loss: 0, dPolicyChosen: 0, dPolicyRejected: 0, chosenReward: 0, rejectedReward: 0) }
        for (type, weight) in zip(settings.types, settings.weights) where type.isBatchLevel {
            for (i, term) in AlignedBatchLoss(settings: settings).terms(type, pairs).enumerated() {
                result[i].loss += weight * term.loss
                result[i].dPolicyChosen += weight * term.dPolicyChosen
                result[i].dPolicyRejected += weight * term.dPolicyRejected
            }
        }
        return result
    }

    /// Every pair's loss in the global batch `pairs`: `pairLoss` plus `batchTerms`.
    public func losses(_ pairs: [PairLogProbs], meanChosenTokens: Double? = nil) -> [PairLoss] {
        let batch = settings.isBatchLevel ? batchTerms(pairs) : nil
        return pairs.enumerated().map { i, pair in
            var result = pairLoss(pair, meanChosenTokens: meanChosenTokens)
            if let batch { result.addTerms(of: batch[i]) }
            return result
        }
    }
}

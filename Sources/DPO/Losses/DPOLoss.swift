/// The preference loss of one pair under validated `LossSettings`: the weighted sum of the
/// configured loss types, its gradient with respect to the summed policy log-probs, and the rewards
/// TRL logs. Stateless: every loss, `bco_pair` included, depends only on the pair (TRL 1.16 keeps no
/// running reward mean), so the result never depends on how a global batch is split.
///
/// The trainer averages `loss` over the pairs of the global batch, and scales the two derivatives by
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

    /// The loss of one pair.
    ///
    /// - Parameters:
    ///   - pair: summed completion log-probs and token counts.
    ///   - meanChosenTokens: Σ n₊ / pairs over the global batch. `sft` divides the chosen NLL by it, so
    ///     the batch mean of the `sft` term is TRL's token-level mean −Σ log π(y₊) / Σ n₊ over the batch.
    ///     When nil, `sft` divides by this pair's own max(n₊, 1) (the per-pair token mean).
    public func pairLoss(_ pair: PairLogProbs, meanChosenTokens: Double? = nil) -> PairLoss {
        precondition(meanChosenTokens.map { $0 > 0 } ?? true, "meanChosenTokens must be positive")
        let useReference = settings.needsReference
        let chosenRatio = pair.policyChosen - (useReference ? pair.referenceChosen : 0)
        let rejectedRatio = pair.policyRejected - (useReference ? pair.referenceRejected : 0)
        let chosenLength = Double(max(pair.chosenTokens, 1))
        let quantities = PairQuantities(
            chosenRatio: chosenRatio, rejectedRatio: rejectedRatio,
            policyChosen: pair.policyChosen, policyRejected: pair.policyRejected,
            chosenLength: chosenLength, rejectedLength: Double(max(pair.rejectedTokens, 1)),
            sftTokens: meanChosenTokens ?? chosenLength)

        var result = PairLoss(loss: 0, dPolicyChosen: 0, dPolicyRejected: 0,
                              chosenReward: settings.beta * chosenRatio,
                              rejectedReward: settings.beta * rejectedRatio)
        for (type, weight) in zip(settings.types, settings.weights) {
            let term = type.term(quantities, settings)
            result.loss += weight * term.value
            result.dPolicyChosen += weight * term.dChosen
            result.dPolicyRejected += weight * term.dRejected
        }
        if !useReference && settings.types.contains(.simpo) {
            result.chosenReward = settings.beta * pair.policyChosen / quantities.chosenLength
            result.rejectedReward = settings.beta * pair.policyRejected / quantities.rejectedLength
        }
        return result
    }
}

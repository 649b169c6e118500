/// AOT's losses (TRL 1.16 `aot`, `aot_unpaired`): distributional alignment by sorting. The k-th
/// smallest policy quantity of the batch is compared with the k-th smallest reference (or rejected)
/// quantity, through DPO's label-smoothed logistic loss, so every pair's loss depends on the whole
/// batch. The trainer hands it the log-probs of the global batch, gathered from every rank.
struct AlignedBatchLoss {
    /// β, ε and whether the reference counts.
    let settings: LossSettings

    /// The contribution of `type` (`aot` or `aot_unpaired`) to each pair's loss and derivatives:
    /// term k of the batch is credited to the pair whose policy value (`aot`) or chosen log-ratio
    /// (`aot_unpaired`) sorts k-th. Ties sort by position in `pairs`, as a stable sort does.
    func terms(_ type: LossType, _ pairs: [PairLogProbs]) -> [PairLoss] {
        let useReference = settings.needsReference
        let chosenRatio = pairs.map { $0.policyChosen - (useReference ? $0.referenceChosen : 0) }
        let rejectedRatio = pairs.map { $0.policyRejected - (useReference ? $0.referenceRejected : 0) }
        // aot: policy log π(y₊)/π(y₋) against reference log π_ref(y₊)/π_ref(y₋);
        // aot_unpaired: chosen log-ratios against rejected log-ratios.
        let (upper, lower): ([Double], [Double]) = type == .aot
            ? (pairs.map { $0.policyChosen - $0.policyRejected },
               pairs.map { useReference ? $0.referenceChosen - $0.referenceRejected : 0 })
            : (chosenRatio, rejectedRatio)
        let upperOrder = Self.stableOrder(upper), lowerOrder = Self.stableOrder(lower)
        var result = pairs.map { _ in PairLoss(loss: 0, dPolicyChosen: 0, dPolicyRejected: 0, chosenReward: 0, rejectedReward: 0) }
        let beta = settings.beta, eps = settings.labelSmoothing
        for k in pairs.indices {
            let x = beta * (upper[upperOrder[k]] - lower[lowerOrder[k]])
            let value = -(1 - eps) * logSigmoid(x) - eps * logSigmoid(-x)
            let d = (-(1 - eps) * logistic(-x) + eps * logistic(x)) * beta
            let owner = upperOrder[k]
            result[owner].loss += value
            if type == .aot {
                // Only the policy side moves: d/d logπ(y₊) = d, d/d logπ(y₋) = −d.
                result[owner].dPolicyChosen += d
                result[owner].dPolicyRejected -= d
            } else {
                result[owner].dPolicyChosen += d
                result[lowerOrder[k]].dPolicyRejected -= d
            }
        }
        return result
    }

    /// Indices of `values` in ascending order, equal values in index order.
    static func stableOrder(_ values: [Double]) -> [Int] {
        values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }
}

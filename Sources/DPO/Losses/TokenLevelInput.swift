import Foundation

/// Per-token values of one pair's two completions, in completion order.
public struct TokenRows: Sendable, Equatable {
    /// One value per chosen completion token.
    public var chosen: [Double]
    /// One value per rejected completion token.
    public var rejected: [Double]

    /// The rows of a pair.
    public init(chosen: [Double], rejected: [Double]) {
        self.chosen = chosen
        self.rejected = rejected
    }
}

/// Where a pair's reference log-probs come from: a live reference model gives them per token, a
/// precomputed cache only as (already `ld_alpha`-weighted) sums.
public enum ReferenceRows: Sendable, Equatable {
    /// Per-token reference log-probs.
    case tokens(TokenRows)
    /// Summed reference log-probs.
    case sums(chosen: Double, rejected: Double)
}

extension LossSettings {
    /// LD-DPO's weight of completion token `t` of a pair whose shorter completion has `shared`
    /// tokens: 1 up to `shared`, `ld_alpha` beyond (1 everywhere without `ld_alpha`).
    public func tokenWeight(_ t: Int, shared: Int) -> Double {
        guard let ldAlpha, t >= shared else { return 1 }
        return ldAlpha
    }

    /// Σ_t weight(t)·logps[t], the summed log-prob TRL's `_compute_loss` forms (with `ld_alpha`
    /// when set) from a completion's per-token log-probs.
    public func weightedSum(_ logps: [Double], shared: Int) -> Double {
        logps.enumerated().reduce(0) { $0 + tokenWeight($1.offset, shared: shared) * $1.element }
    }
}

extension DPOLoss {
    /// A pair's `PairLogProbs` from its per-token log-probs: the sums (`ld_alpha`-weighted), WPO's
    /// weight from the policy log-probs and log Σ_v p_v² (`logSumSquares`, needed with
    /// `use_weighting`), and the per-token log-probs for `token_pair`.
    public func pairLogProbs(policy: TokenRows, reference: ReferenceRows, logSumSquares: TokenRows?) -> PairLogProbs {
        let shared = min(policy.chosen.count, policy.rejected.count)
        let refSums: (Double, Double)
        var tokens: TokenLogProbs?
        switch reference {
        case let .tokens(rows):
            refSums = (settings.weightedSum(rows.chosen, shared: shared), settings.weightedSum(rows.rejected, shared: shared))
            if settings.needsTokenLogProbs {
                let scale = settings.needsReference ? 1.0 : 0
                tokens = TokenLogProbs(policyChosen: policy.chosen, policyRejected: policy.rejected,
                                       referenceChosen: rows.chosen.map { scale * $0 },
                                       referenceRejected: rows.rejected.map { scale * $0 })
            }
        case let .sums(chosen, rejected):
            precondition(!settings.needsTokenLogProbs, "token_pair needs per-token reference log-probs")
            refSums = (chosen, rejected)
        }
        var weight = 1.0
        if settings.useWeighting {
            guard let logSumSquares else { preconditionFailure("use_weighting needs log Σ p² of every completion token") }
            weight = Self.wpoWeight(policy.chosen, logSumSquares.chosen) * Self.wpoWeight(policy.rejected, logSumSquares.rejected)
        }
        return PairLogProbs(policyChosen: settings.weightedSum(policy.chosen, shared: shared),
                            policyRejected: settings.weightedSum(policy.rejected, shared: shared),
                            referenceChosen: refSums.0, referenceRejected: refSums.1,
                            chosenTokens: policy.chosen.count, rejectedTokens: policy.rejected.count,
                            weight: weight, tokens: tokens)
    }

    /// WPO's weight of one completion (TRL 1.16): exp of the mean over its tokens of
    /// log p(token) − log Σ_v p_v², the length-normalised probability aligned to the policy's own
    /// sampling distribution (the mean divides by max(n, 1)).
    static func wpoWeight(_ logps: [Double], _ logSumSquares: [Double]) -> Double {
        exp(zip(logps, logSumSquares).reduce(0) { $0 + $1.0 - $1.1 } / Double(max(logps.count, 1)))
    }

    /// ∂loss/∂ log π_θ of each completion token of a pair: the summed-log-prob derivative times
    /// the token's `ld_alpha` weight, plus the per-token losses' own derivative.
    public func tokenGradients(_ result: PairLoss, chosenTokens: Int, rejectedTokens: Int) -> TokenRows {
        let shared = min(chosenTokens, rejectedTokens)
        func row(_ count: Int, _ d: Double, _ extra: [Double]) -> [Double] {
            (0..<count).map { settings.tokenWeight($0, shared: shared) * d + (extra.isEmpty ? 0 : extra[$0]) }
        }
        return TokenRows(chosen: row(chosenTokens, result.dPolicyChosen, result.dPolicyChosenTokens),
                         rejected: row(rejectedTokens, result.dPolicyRejected, result.dPolicyRejectedTokens))
    }
}

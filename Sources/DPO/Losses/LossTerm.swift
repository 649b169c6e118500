import Foundation

/// One loss type's value for a pair and its derivatives with respect to the two summed policy
/// log-probs (the log-ratios c and r move one-for-one with them, the reference being constant).
struct LossTerm {
    var value: Double
    var dChosen: Double
    var dRejected: Double
}

/// What every loss reads from a pair, computed once.
struct PairQuantities {
    /// c = log π_θ(y₊) − log π_ref(y₊) (the reference term is 0 when reference-free).
    var chosenRatio: Double
    /// r = log π_θ(y₋) − log π_ref(y₋).
    var rejectedRatio: Double
    /// log π_θ(y₊), summed.
    var policyChosen: Double
    /// log π_θ(y₋), summed.
    var policyRejected: Double
    /// max(n₊, 1), TRL's `clamp(min=1)`.
    var chosenLength: Double
    /// max(n₋, 1).
    var rejectedLength: Double
    /// The divisor of the chosen NLL in `sft`.
    var sftTokens: Double
    /// f′ of the chosen log-ratio under the configured f-divergence, and its derivative by c.
    var chosenScore: (value: Double, derivative: Double)
    /// f′ of the rejected log-ratio, and its derivative by r.
    var rejectedScore: (value: Double, derivative: Double)
}

extension LossType {
    /// This loss's value and gradient for one pair; formulas as in TRL 1.16's `DPOTrainer._compute_loss`
    /// (`CPOTrainer.cpo_loss` for `simpo`, LLaMA-Factory's `odds_ratio_loss` for `orpo`), derivatives
    /// worked out by hand and checked against finite differences and torch.autograd in the tests.
    /// Nil for the losses that need more than the pair: `aot`, `aot_unpaired` (`AlignedBatchLoss`)
    /// and `token_pair` (`TokenPairLoss`).
    func term(_ q: PairQuantities, _ s: LossSettings) -> LossTerm? {
        let beta = s.beta
        let eps = s.labelSmoothing
        let c = q.chosenRatio, r = q.rejectedRatio
        // The reward-difference losses read the f-divergence scores; the chain rule adds their slopes.
        let sc = q.chosenScore, sr = q.rejectedScore
        func onScores(_ value: Double, _ dc: Double, _ dr: Double) -> LossTerm {
            LossTerm(value: value, dChosen: dc * sc.derivative, dRejected: dr * sr.derivative)
        }
        switch self {
        case .sigmoid:
            let z = sc.value - sr.value
            let d = smoothedSigmoidDerivative(beta * z, eps) * beta
            return onScores(smoothedSigmoidLoss(beta * z, eps), d, -d)
        case .robust:
            let x = beta * (sc.value - sr.value)
            let scale = 1 / (1 - 2 * eps)
            let value = (-(1 - eps) * logSigmoid(x) + eps * logSigmoid(-x)) * scale
            let d = (-(1 - eps) * logistic(-x) - eps * logistic(x)) * scale * beta
            return onScores(value, d, -d)
        case .hinge:
            let margin = 1 - beta * (sc.value - sr.value)
            let d = margin > 0 ? -beta : 0
            return onScores(max(margin, 0), d, -d)
        case .ipo:
            let gap = sc.value / q.chosenLength - sr.value / q.rejectedLength - 1 / (2 * beta)
            return onScores(gap * gap, 2 * gap / q.chosenLength, -2 * gap / q.rejectedLength)
        case .sigmoidNorm:
            let x = beta * (sc.value / q.chosenLength - sr.value / q.rejectedLength)
            let d = -logistic(-x) * beta
            return onScores(-logSigmoid(x), d / q.chosenLength, -d / q.rejectedLength)
        case .exoPair:
            // σ(x)(log σ(x) − log(1−ε)) + σ(−x)(log σ(−x) − log ε); d/dx = σ′(x)·(x − log((1−ε)/ε)).
            let x = beta * (sc.value - sr.value)
            let value = logistic(x) * (logSigmoid(x) - log1p(-eps)) + logistic(-x) * (logSigmoid(-x) - log(eps))
            let d = logisticDerivative(x) * (x - log1p(-eps) + log(eps)) * beta
            return onScores(value, d, -d)
        case .discopop:
            // −log σ(x)·(1 − m) + e^(−x)·m with m = σ(x/τ); e^(−x)·m is formed as exp(−x + log σ(x/τ))
            // so a very negative x gives the exponential loss instead of ∞·0.
            let x = beta * (sc.value - sr.value), tau = s.discopopTau
            let m = logistic(x / tau), dm = logisticDerivative(x / tau) / tau
            let expM = exp(-x + logSigmoid(x / tau))
            let expDm = exp(-x + logSigmoid(x / tau) + logSigmoid(-x / tau)) / tau
            let value = -logSigmoid(x) * (1 - m) + expM
            let d = (-logistic(-x) * (1 - m) + logSigmoid(x) * dm - expM + expDm) * beta
            return onScores(value, d, -d)
        case .orpo:
            // On mean per-token log-probs a = logp/n (< 0): −a₊ + β·(−log σ(L)),
            // L = a₊ − a₋ − log(1 − e^a₊) + log(1 − e^a₋); dL/da = 1/(1 − e^a) = −1/expm1(a).
            let ac = q.policyChosen / q.chosenLength, ar = q.policyRejected / q.rejectedLength
            let odds = ac - ar - log(-expm1(ac)) + log(-expm1(ar))
            let d = -beta * logistic(-odds)
            return LossTerm(value: -ac - beta * logSigmoid(odds),
                            dChosen: (-1 + d * (-1 / expm1(ac))) / q.chosenLength,
                            dRejected: d * (1 / expm1(ar)) / q.rejectedLength)
        case .aot, .aotUnpaired, .tokenPair:
            return nil
        case .sppoHard:
            let winner = c - 0.5 / beta, loser = r + 0.5 / beta
            return LossTerm(value: winner * winner + loser * loser, dChosen: 2 * winner, dRejected: 2 * loser)
        case .ncaPair:
            let xc = beta * c, xr = beta * r
            let value = -logSigmoid(xc) - 0.5 * logSigmoid(-xc) - 0.5 * logSigmoid(-xr)
            return LossTerm(value: value, dChosen: beta * (-logistic(-xc) + 0.5 * logistic(xc)),
                            dRejected: beta * 0.5 * logistic(xr))
        case .bcoPair:
            let xc = beta * c, xr = beta * r
            return LossTerm(value: -logSigmoid(xc) - logSigmoid(-xr), dChosen: -beta * logistic(-xc),
                            dRejected: beta * logistic(xr))
        case .apoZero:
            let xc = beta * c, xr = beta * r
            return LossTerm(value: logistic(-xc) + logistic(xr), dChosen: -beta * logisticDerivative(xc),
                            dRejected: beta * logisticDerivative(xr))
        case .apoDown:
            let xc = beta * c, xz = beta * (c - r)
            let dz = -beta * logisticDerivative(xz)
            return LossTerm(value: logistic(xc) + logistic(-xz), dChosen: beta * logisticDerivative(xc) + dz,
                            dRejected: -dz)
        case .sft:
            return LossTerm(value: -q.policyChosen / q.sftTokens, dChosen: -1 / q.sftTokens, dRejected: 0)
        case .simpo:
            let x = beta * (q.policyChosen / q.chosenLength - q.policyRejected / q.rejectedLength) - s.simpoGamma
            let d = smoothedSigmoidDerivative(x, eps) * beta
            return LossTerm(value: smoothedSigmoidLoss(x, eps), dChosen: d / q.chosenLength,
                            dRejected: -d / q.rejectedLength)
        }
    }
}

/// The conservative (cDPO) logistic loss −(1−ε)·log σ(x) − ε·log σ(−x).
private func smoothedSigmoidLoss(_ x: Double, _ eps: Double) -> Double {
    -(1 - eps) * logSigmoid(x) - eps * logSigmoid(-x)
}

/// d/dx of `smoothedSigmoidLoss`: −(1−ε)·σ(−x) + ε·σ(x).
private func smoothedSigmoidDerivative(_ x: Double, _ eps: Double) -> Double {
    -(1 - eps) * logistic(-x) + eps * logistic(x)
}

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
}

extension LossType {
    /// This loss's value and gradient for one pair; formulas as in TRL 1.16's `DPOTrainer._compute_loss`
    /// (and `CPOTrainer.cpo_loss` for `simpo`), derivatives worked out by hand and checked against
    /// finite differences and torch.autograd in the tests.
    func term(_ q: PairQuantities, _ s: LossSettings) -> LossTerm {
        let beta = s.beta
        let eps = s.labelSmoothing
        let c = q.chosenRatio, r = q.rejectedRatio
        switch self {
        case .sigmoid:
            let z = c - r
            let d = smoothedSigmoidDerivative(beta * z, eps) * beta
            return LossTerm(value: smoothedSigmoidLoss(beta * z, eps), dChosen: d, dRejected: -d)
        case .robust:
            let x = beta * (c - r)
            let scale = 1 / (1 - 2 * eps)
            let value = (-(1 - eps) * logSigmoid(x) + eps * logSigmoid(-x)) * scale
            let d = (-(1 - eps) * logistic(-x) - eps * logistic(x)) * scale * beta
            return LossTerm(value: value, dChosen: d, dRejected: -d)
        case .hinge:
            let margin = 1 - beta * (c - r)
            let d = margin > 0 ? -beta : 0
            return LossTerm(value: max(margin, 0), dChosen: d, dRejected: -d)
        case .ipo:
            let gap = c / q.chosenLength - r / q.rejectedLength - 1 / (2 * beta)
            return LossTerm(value: gap * gap, dChosen: 2 * gap / q.chosenLength,
                            dRejected: -2 * gap / q.rejectedLength)
        case .sigmoidNorm:
            let x = beta * (c / q.chosenLength - r / q.rejectedLength)
            let d = -logistic(-x) * beta
            return LossTerm(value: -logSigmoid(x), dChosen: d / q.chosenLength, dRejected: -d / q.rejectedLength)
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

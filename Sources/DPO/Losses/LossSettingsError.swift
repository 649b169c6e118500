/// Why `LossSettings.validate()` refused a configuration; `description` is a message a user can act on.
public enum LossSettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `loss` was an empty list.
    case noLossTypes
    /// A loss type appears more than once in `loss`.
    case duplicateLossType(LossType)
    /// `loss_weights` does not have one weight per loss type.
    case weightCountMismatch(types: Int, weights: Int)
    /// A loss weight is NaN or infinite.
    case nonFiniteWeight(Double)
    /// `beta` is not a finite number above 0.
    case nonPositiveBeta(Double)
    /// `label_smoothing` is outside [0, 0.5).
    case labelSmoothingOutOfRange(Double)
    /// `label_smoothing` is set but none of the chosen losses uses it.
    case labelSmoothingUnused([LossType])
    /// `simpo_gamma` is negative or not finite.
    case negativeSimpoGamma(Double)
    /// `exo_pair` with `label_smoothing` 0 (EXO's ε must be positive: its loss has log ε).
    case exoNeedsLabelSmoothing
    /// `discopop_tau` is not a finite number above 0.
    case nonPositiveDiscopopTau(Double)
    /// A non-default `f_divergence_type` with a loss that has no f-divergence form.
    case fDivergenceUnsupported(FDivergence, LossType)
    /// `f_alpha_divergence_coef` is not a finite number above 0.
    case nonPositiveAlphaCoefficient(Double)
    /// `ld_alpha` is outside [0, 1].
    case ldAlphaOutOfRange(Double)
    /// `ld_alpha` with `token_pair`, which already uses only the shared positions.
    case ldAlphaWithTokenPair
    /// `use_weighting` with a loss whose per-pair weight is not defined (AOT sorts pairs, `sft` is a batch mean).
    case weightingUnsupported(LossType)

    /// A one-line explanation naming the option and what it accepts.
    public var description: String {
        switch self {
        case .noLossTypes:
            return "loss: give at least one loss type (one of \(LossType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .duplicateLossType(let type):
            return "loss: '\(type.rawValue)' is listed twice; list each loss once and set its weight in loss_weights"
        case .weightCountMismatch(let types, let weights):
            return "loss_weights: \(weights) weight(s) given for \(types) loss type(s); give one weight per loss type"
        case .nonFiniteWeight(let weight):
            return "loss_weights: \(weight) is not a finite number"
        case .nonPositiveBeta(let beta):
            return "beta must be a finite number greater than 0 (got \(beta))"
        case .labelSmoothingOutOfRange(let epsilon):
            return "label_smoothing must lie in [0, 0.5) (got \(epsilon)): it is the probability that a label is flipped"
        case .labelSmoothingUnused(let types):
            return "label_smoothing has no effect on loss \(types.map(\.rawValue).joined(separator: ",")); it applies to "
                + LossType.allCases.filter(\.usesLabelSmoothing).map(\.rawValue).joined(separator: ", ")
                + ". Set it to 0 or choose one of those losses"
        case .negativeSimpoGamma(let gamma):
            return "simpo_gamma must be a finite number >= 0 (got \(gamma))"
        case .exoNeedsLabelSmoothing:
            return "loss exo_pair needs label_smoothing > 0 (EXO's epsilon; its paper recommends 1e-3)"
        case .nonPositiveDiscopopTau(let tau):
            return "discopop_tau must be a finite number greater than 0 (got \(tau))"
        case .fDivergenceUnsupported(let divergence, let type):
            return "f_divergence_type \(divergence.rawValue) does not apply to loss \(type.rawValue); it applies to "
                + LossType.allCases.filter(\.acceptsFDivergence).map(\.rawValue).joined(separator: ", ")
                + ". Use f_divergence_type reverse_kl with \(type.rawValue)"
        case .nonPositiveAlphaCoefficient(let alpha):
            return "f_alpha_divergence_coef must be a finite number greater than 0 (got \(alpha))"
        case .ldAlphaOutOfRange(let alpha):
            return "ld_alpha must lie in [0, 1] (got \(alpha)): 1 weights every token fully, 0 drops the longer completion's extra tokens"
        case .ldAlphaWithTokenPair:
            return "ld_alpha has no effect on loss token_pair, which already uses only the positions both completions have; drop ld_alpha"
        case .weightingUnsupported(let type):
            return "use_weighting does not apply to loss \(type.rawValue): "
                + (type == .sft ? "its batch token mean has no per-pair weight" : "it sorts pairs, so a pair's weight has no term to scale")
        }
    }
}

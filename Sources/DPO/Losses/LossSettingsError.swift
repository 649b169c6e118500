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
            return "label_smoothing has no effect on loss \(types.map(\.rawValue).joined(separator: ",")); "
                + "it applies to sigmoid, robust and simpo. Set it to 0 or choose one of those losses"
        case .negativeSimpoGamma(let gamma):
            return "simpo_gamma must be a finite number >= 0 (got \(gamma))"
        }
    }
}

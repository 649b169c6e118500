import Foundation

/// The f-divergence that regularises the policy against the reference (f-DPO), TRL 1.16's
/// `f_divergence_type`: the losses built on the reward difference use f′(π/π_ref) of each
/// log-ratio in place of the log-ratio itself.
public enum FDivergence: String, CaseIterable, Sendable, Codable {
    /// f′(t) = log t: the log-ratio itself (standard DPO).
    case reverseKL = "reverse_kl"
    /// f′(t) = 1 − 1/t.
    case forwardKL = "forward_kl"
    /// f′(t) = log(2t/(t + 1)) = log 2 + log σ(log t).
    case jsDivergence = "js_divergence"
    /// f′(t) = (t^(α−1) − 1)/(α − 1), with α = `f_alpha_divergence_coef`.
    case alphaDivergence = "alpha_divergence"

    /// The score f′(e^x) of log-ratio x and its derivative d/dx, as TRL's `_compute_loss` computes it:
    /// `alpha_divergence` falls back to the log-ratio when |α − 1| < 1e-6, and clamps (α − 1)·x at 80
    /// before the exponential (TRL's float32 clamp; the score is then constant, its derivative 0).
    func score(_ x: Double, alpha: Double) -> (value: Double, derivative: Double) {
        switch self {
        case .reverseKL:
            return (x, 1)
        case .forwardKL:
            let e = exp(-x)
            return (1 - e, e)
        case .jsDivergence:
            return (log(2) + logSigmoid(x), logistic(-x))
        case .alphaDivergence:
            guard abs(alpha - 1) >= 1e-6 else { return (x, 1) }
            let t = (alpha - 1) * x
            let e = exp(min(t, 80))
            return ((e - 1) / (alpha - 1), t > 80 ? 0 : e)
        }
    }
}

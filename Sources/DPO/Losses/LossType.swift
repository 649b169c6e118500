/// The preference losses, named as TRL 1.16 names them in `DPOConfig.loss_type` (and `simpo` as in
/// `CPOConfig.loss_type`). Formulas and TRL correspondence: docs/training.md, section Losses.
public enum LossType: String, CaseIterable, Sendable, Codable {
    /// DPO: −log σ(β(c − r)); with label smoothing ε, the conservative cDPO form.
    case sigmoid
    /// Robust DPO: the unbiased estimator under labels flipped with probability ε.
    case robust
    /// SLiC: max(0, 1 − β(c − r)).
    case hinge
    /// IPO: (c/n₊ − r/n₋ − 1/(2β))², on per-token (length-normalised) log-ratios.
    case ipo
    /// DPO's sigmoid loss on per-token (length-normalised) log-ratios.
    case sigmoidNorm = "sigmoid_norm"
    /// SPPO with hard labels: (c − 1/(2β))² + (r + 1/(2β))².
    case sppoHard = "sppo_hard"
    /// NCA: −log σ(βc) − ½ log σ(−βc) − ½ log σ(−βr).
    case ncaPair = "nca_pair"
    /// BCO on pairs: −log σ(βc) − log σ(−βr).
    case bcoPair = "bco_pair"
    /// APO-zero: 1 − σ(βc) + σ(βr).
    case apoZero = "apo_zero"
    /// APO-down: σ(βc) + 1 − σ(β(c − r)).
    case apoDown = "apo_down"
    /// Negative log-likelihood of the chosen completion, per token.
    case sft
    /// SimPO: reference-free sigmoid loss on mean per-token log-probs with a target margin γ.
    case simpo

    /// Whether the loss reads reference log-probs (`sft` and `simpo` use the policy alone).
    public var usesReference: Bool {
        switch self {
        case .sft, .simpo: return false
        default: return true
        }
    }

    /// Whether `LossSettings.labelSmoothing` changes this loss.
    public var usesLabelSmoothing: Bool {
        switch self {
        case .sigmoid, .robust, .simpo: return true
        default: return false
        }
    }
}

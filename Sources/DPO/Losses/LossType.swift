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
    /// EXO (pairwise): the reverse KL from softmax(β·(c, r)) to the smoothed labels (1 − ε, ε).
    case exoPair = "exo_pair"
    /// AOT (paired): DPO's loss between the sorted policy log-ratios π(y₊)/π(y₋) and the sorted
    /// reference ones, sorted over the whole global batch.
    case aot
    /// AOT (unpaired): DPO's loss between the sorted chosen and the sorted rejected log-ratios c and r.
    case aotUnpaired = "aot_unpaired"
    /// DiscoPOP: a mix of the logistic and the exponential loss, modulated by σ(β(c − r)/τ).
    case discopop
    /// ORPO (LLaMA-Factory's `pref_loss: orpo`): reference-free NLL of the chosen answer plus β times
    /// the odds-ratio loss, on mean per-token log-probs.
    case orpo
    /// The seed's token-level DPO: the mean over t < min(n₊, n₋) of −log σ(β·x_t), x_t the per-token
    /// log-ratio margin of chosen token t against rejected token t.
    case tokenPair = "token_pair"

    /// Whether the loss reads reference log-probs (`sft`, `simpo` and `orpo` use the policy alone).
    public var usesReference: Bool {
        switch self {
        case .sft, .simpo, .orpo: return false
        default: return true
        }
    }

    /// Whether `LossSettings.labelSmoothing` changes this loss.
    public var usesLabelSmoothing: Bool {
        switch self {
        case .sigmoid, .robust, .simpo, .exoPair, .aot, .aotUnpaired: return true
        default: return false
        }
    }

    /// Whether the loss of a pair depends on the other pairs of the global batch (AOT sorts them).
    public var isBatchLevel: Bool { self == .aot || self == .aotUnpaired }

    /// Whether TRL's `f_divergence_type` may replace the log-ratios of this loss (TRL 1.16's list:
    /// the losses built on the chosen−rejected reward difference, and `sft`, which ignores it).
    public var acceptsFDivergence: Bool {
        switch self {
        case .sigmoid, .sigmoidNorm, .hinge, .ipo, .exoPair, .robust, .discopop, .sft: return true
        default: return false
        }
    }
}

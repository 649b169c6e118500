import Foundation

/// PEFT's `LoraConfig` fields dpo-ddp supports: LoRA on GPT-2's `Conv1D` layers
/// (`fan_in_fan_out=True`), `bias="none"`, one rank and alpha for every layer.
public struct LoRASettings: Equatable, Sendable {
    /// r, the adapter's rank (`--lora-r`, PEFT's `r`; at least 1).
    public var rank: Int
    /// `lora_alpha` (the option's default, 2r, is set where the option is read, not here).
    public var alpha: Double
    /// PEFT's `target_modules`: module names or dotted suffixes of them, e.g. `c_attn`, `c_proj`
    /// (both projections), `mlp.c_fc`, `h.0.attn.c_attn` (one block's).
    public var targets: [String]
    /// `lora_dropout`: the probability, in [0, 1), of zeroing an element of each adapter's input
    /// while training (inverted dropout, as `nn.Dropout`).
    public var dropout: Double
    /// `use_rslora`: scaling alpha / sqrt(r) instead of alpha / r.
    public var useRSLoRA: Bool

    /// Settings as PEFT's `LoraConfig` takes them.
    public init(rank: Int, alpha: Double, targets: [String], dropout: Double = 0, useRSLoRA: Bool = false) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
        self.dropout = dropout
        self.useRSLoRA = useRSLoRA
    }

    /// PEFT's default targets for issue 14: every `Conv1D` of every block.
    public static let defaultTargets = ["c_attn", "c_proj", "c_fc"]

    /// The factor of the adapter's product: alpha / r, or alpha / sqrt(r) with rslora
    /// (`peft/tuners/lora/layer.py`), computed in Double and rounded once, as PyTorch multiplies a
    /// float32 tensor by a Python float.
    public var scaling: Float {
        Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
    }

    /// Checks every field, naming the first bad one: r at least 1, alpha positive, dropout in
    /// [0, 1), at least one target and every target a `Conv1D` layer of GPT-2 (`c_attn`, `c_proj`,
    /// `c_fc`, `attn.c_attn`, `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj`, or a longer suffix of a
    /// module name such as `h.3.attn.c_attn`). Whether a block index exists needs the model's
    /// shape: `LoRALayout` checks it.
    public func validate() throws(LoRAError) {
        guard rank >= 1 else { throw LoRAError("lora_r (PEFT's r) must be at least 1, got \(rank)") }
        guard alpha > 0, alpha.isFinite else { throw LoRAError("lora_alpha must be a positive number, got \(alpha)") }
        guard dropout >= 0, dropout < 1 else { throw LoRAError("lora_dropout must be in [0, 1), got \(dropout)") }
        guard !targets.isEmpty else { throw LoRAError("lora_targets (PEFT's target_modules) is empty: name at least one layer") }
        for target in targets where !Self.namesConv1D(target) {
            throw LoRAError("lora_targets: '\(target)' is not a Conv1D layer of GPT-2 (LoRA adapts c_attn, c_proj "
                + "(both projections), c_fc, or one of them by a longer name: attn.c_attn, attn.c_proj, mlp.c_fc, "
                + "mlp.c_proj, h.0.attn.c_attn, transformer.h.0.mlp.c_proj)")
        }
    }

    /// Whether `target` selects a `Conv1D` layer of some block: of the block it names, if it
    /// names one (written as PEFT's names are, without leading zeros), else of block 0.
    static func namesConv1D(_ target: String) -> Bool {
        let parts = target.split(separator: ".", omittingEmptySubsequences: false)
        var block = 0
        if parts.count >= 3 {
            guard let index = Int(parts[parts.count - 3]), index >= 0, "\(index)" == parts[parts.count - 3] else {
                return false
            }
            block = index
        }
        return AdaptableLayer.allCases.contains { $0.isTargeted(by: target, block: block) }
    }
}

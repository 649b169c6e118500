/// The four `Conv1D` layers of a GPT-2 block, the only layers LoRA adapts here (PEFT's LoRA
/// wraps each as a `lora.Linear` with `fan_in_fan_out=True`). In block order, which is the order
/// of their adapter tensors in `LoRALayout` (and, by name, in PEFT's files).
public enum AdaptableLayer: Int, CaseIterable, Sendable {
    /// `attn.c_attn`: C -> 3C (query, key, value).
    case attnCAttn
    /// `attn.c_proj`: C -> C.
    case attnCProj
    /// `mlp.c_fc`: C -> n_inner.
    case mlpCFc
    /// `mlp.c_proj`: n_inner -> C.
    case mlpCProj

    /// The module path inside a block, as in `transformer.h.0.attn.c_attn`.
    public var modulePath: String {
        switch self {
        case .attnCAttn: "attn.c_attn"
        case .attnCProj: "attn.c_proj"
        case .mlpCFc: "mlp.c_fc"
        case .mlpCProj: "mlp.c_proj"
        }
    }

    /// The full module name in `GPT2LMHeadModel` of this layer in block `block`.
    public func moduleName(block: Int) -> String { "transformer.h.\(block).\(modulePath)" }

    /// Input features (the `Conv1D` weight's first dimension).
    public func inFeatures(_ config: GPT2Config) -> Int { self == .mlpCProj ? config.nInner : config.nEmbd }

    /// Output features (the `Conv1D` weight's second dimension).
    public func outFeatures(_ config: GPT2Config) -> Int {
        switch self {
        case .attnCAttn: 3 * config.nEmbd
        case .attnCProj, .mlpCProj: config.nEmbd
        case .mlpCFc: config.nInner
        }
    }

    /// Whether PEFT's `target_modules` entry `target` selects this layer of block `block`: the
    /// module's full name equals it or ends in `.` + it (`peft/tuners/tuners_utils.py`), so
    /// `c_proj` selects both projections and `h.3.mlp.c_fc` only block 3's MLP input layer.
    public func isTargeted(by target: String, block: Int) -> Bool {
        let name = moduleName(block: block)
        return name == target || name.hasSuffix("." + target)
    }
}

extension GPT2BlockOffsets {
    /// Offset of `layer`'s weight (`[in, out]`) in the model's buffer.
    public func weight(of layer: AdaptableLayer) -> Int {
        switch layer {
        case .attnCAttn: qkvWeight
        case .attnCProj: attnProjWeight
        case .mlpCFc: fcWeight
        case .mlpCProj: fcProjWeight
        }
    }
}

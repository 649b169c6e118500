/// One named tensor inside the flat parameter buffer.
public struct ParameterTensor: Equatable, Sendable {
    /// Hugging Face name without the `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`.
    public let name: String
    /// Shape as stored in Hugging Face checkpoints (`Conv1D` weights are `[in, out]`).
    public let shape: [Int]
    /// Offset of the first element in the flat buffer.
    public let offset: Int
    /// Whether AdamW applies weight decay to it (Hugging Face Trainer's grouping: every weight
    /// matrix and embedding decays; biases and LayerNorm parameters do not).
    public let decays: Bool
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// Offsets of one transformer block's parameters in the flat buffer.
public struct GPT2BlockOffsets: Sendable {
    public let ln1Weight, ln1Bias: Int
    public let qkvWeight, qkvBias: Int
    public let attnProjWeight, attnProjBias: Int
    public let ln2Weight, ln2Bias: Int
    public let fcWeight, fcBias: Int
    public let fcProjWeight, fcProjBias: Int
}

/// Where every GPT-2 parameter lives in the one flat buffer (and, identically, in the gradient
/// and optimiser-state buffers).
///
/// Order: `wte [V, C]`, `wpe [P, C]`, then block 0 ... block L-1 (each: ln_1, attn.c_attn,
/// attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj; weight before bias), then `ln_f`. Block-major order
/// keeps each block contiguous, so gradients can be reduced block by block, last blocks first.
public struct GPT2Layout: Sendable {
    /// Every tensor in buffer order.
    public let tensors: [ParameterTensor]
    /// Offsets of the token and position embeddings.
    public let wte: Int, wpe: Int
    /// Offsets of each block's tensors.
    public let blocks: [GPT2BlockOffsets]
    /// Offsets of the final LayerNorm.
    public let lnfWeight: Int, lnfBias: Int
    /// Total number of parameters.
    public let count: Int

    /// The layout for a configuration.
    public init(_ config: GPT2Config) {
        let c = config.nEmbd, inner = config.nInner
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], decays: Bool) -> Int {
            let tensor = ParameterTensor(name: name, shape: shape, offset: offset, decays: decays)
            tensors.append(tensor)
            offset += tensor.count
            return tensor.offset
        }
        wte = add("wte.weight", [config.vocabSize, c], decays: true)
        wpe = add("wpe.weight", [config.nPositions, c], decays: true)
        var blocks: [GPT2BlockOffsets] = []
        for l in 0..<config.nLayer {
            let p = "h.\(l)."
            blocks.append(GPT2BlockOffsets(
                ln1Weight: add(p + "ln_1.weight", [c], decays: false),
                ln1Bias: add(p + "ln_1.bias", [c], decays: false),
                qkvWeight: add(p + "attn.c_attn.weight", [c, 3 * c], decays: true),
                qkvBias: add(p + "attn.c_attn.bias", [3 * c], decays: false),
                attnProjWeight: add(p + "attn.c_proj.weight", [c, c], decays: true),
                attnProjBias: add(p + "attn.c_proj.bias", [c], decays: false),
                ln2Weight: add(p + "ln_2.weight", [c], decays: false),
                ln2Bias: add(p + "ln_2.bias", [c], decays: false),
                fcWeight: add(p + "mlp.c_fc.weight", [c, inner], decays: true),
                fcBias: add(p + "mlp.c_fc.bias", [inner], decays: false),
                fcProjWeight: add(p + "mlp.c_proj.weight", [inner, c], decays: true),
                fcProjBias: add(p + "mlp.c_proj.bias", [c], decays: false)))
        }
        self.blocks = blocks
        lnfWeight = add("ln_f.weight", [c], decays: false)
        lnfBias = add("ln_f.bias", [c], decays: false)
        self.tensors = tensors
        count = offset
    }

    /// The tensor with a Hugging Face name (without the `transformer.` prefix), if any.
    public func tensor(named name: String) -> ParameterTensor? {
        tensors.first { $0.name == name }
    }
}

/// Where one adapted layer's two tensors live in the adapter's flat buffer.
///
/// Shapes as PEFT stores them: A `[r, in]` (`lora_A`, an `nn.Linear(in, r)`), B `[out, r]`
/// (`lora_B`, an `nn.Linear(r, out)`).
public struct LoRALayerOffsets: Equatable, Sendable {
    /// Which layer of the block.
    public let layer: AdaptableLayer
    /// Offsets of A and B.
    public let a: Int, b: Int
    /// The layer's input and output features.
    public let inFeatures: Int, outFeatures: Int
}

/// One block's adapted layers.
public struct LoRABlockOffsets: Equatable, Sendable {
    /// The adapted layers, in block order (a subset of `AdaptableLayer.allCases`).
    public let layers: [LoRALayerOffsets]
    /// Offset of the block's first adapter tensor (where the next block's start when it has none).
    public let start: Int

    /// The offsets of `layer`, or nil when it is not adapted in this block.
    public subscript(_ layer: AdaptableLayer) -> LoRALayerOffsets? { layers.first { $0.layer == layer } }
}

/// The adapter's tensors in one flat buffer, block-major: block 0's adapted layers in the order
/// `attn.c_attn`, `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj`, each A then B; then block 1, ... So
/// the gradients of the last blocks are final first, as in `GPT2Layout`, and the order is also
/// that of the names in PEFT's file. Tensor names are PEFT's file keys without the
/// `base_model.model.` prefix (`transformer.h.0.attn.c_attn.lora_A.weight`); every tensor
/// decays (Hugging Face Trainer's grouping puts every weight matrix under weight decay).
public struct LoRALayout: ParameterLayout {
    /// The settings the layout was made for.
    public let settings: LoRASettings
    /// Every tensor in buffer order.
    public let tensors: [ParameterTensor]
    /// Each block's adapted layers (a block that no target selects has none).
    public let blocks: [LoRABlockOffsets]
    /// Total number of adapter parameters.
    public let count: Int

    /// The layout of an adapter with `settings` on a model of `config`; refuses invalid settings
    /// and a target that selects no layer of this model (a block index beyond its `n_layer`).
    public init(config: GPT2Config, settings: LoRASettings) throws(LoRAError) {
        try settings.validate()
        for target in settings.targets {
            let selects = (0..<config.nLayer).contains { l in AdaptableLayer.allCases.contains { $0.isTargeted(by: target, block: l) } }
            guard selects else {
                throw LoRAError("lora_targets: '\(target)' selects no layer of a model with \(config.shapeDescription)")
            }
        }
        self.settings = settings
        let r = settings.rank
        var tensors: [ParameterTensor] = []
        var blocks: [LoRABlockOffsets] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            let tensor = ParameterTensor(name: name, shape: shape, offset: offset, decays: true)
            tensors.append(tensor)
            offset += tensor.count
            return tensor.offset
        }
        for l in 0..<config.nLayer {
            let start = offset
            let layers = AdaptableLayer.allCases.filter { layer in settings.targets.contains { layer.isTargeted(by: $0, block: l) } }
                .map { layer in
                    let name = layer.moduleName(block: l), i = layer.inFeatures(config), o = layer.outFeatures(config)
                    return LoRALayerOffsets(layer: layer, a: add(name + ".lora_A.weight", [r, i]),
                                            b: add(name + ".lora_B.weight", [o, r]), inFeatures: i, outFeatures: o)
                }
            blocks.append(LoRABlockOffsets(layers: layers, start: start))
        }
        self.tensors = tensors
        self.blocks = blocks
        count = offset
    }

    /// The tensor with a name (without the `base_model.model.` prefix), if any.
    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// The layers adapted in at least one block, in block order.
    public var adaptedLayers: [AdaptableLayer] {
        AdaptableLayer.allCases.filter { layer in blocks.contains { $0[layer] != nil } }
    }
}

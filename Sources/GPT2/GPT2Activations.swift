import Kernels

/// Activations of one transformer block that its backward pass reads (inputs of every op).
/// The block's input and output live in `GPT2Activations.residuals`.
///
/// Shapes (N = rows): ln1, atty, res2, ln2 [N, C]; qkv [N, 3C]; fch, fchGelu [N, 4C];
/// att [NH, P] (P = probabilities per head, see `AttentionSpans`); ln1Mean, ln1Rstd, ln2Mean, ln2Rstd [N];
/// with a LoRA adapter of rank r, `loraDown[layer]` [N, r] (u = scaling · x̃ Aᵀ of `loraForward`)
/// for every `AdaptableLayer` adapted in some block, nil for the others.
final class BlockActivations {
    let ln1, ln1Mean, ln1Rstd, qkv, att, atty, res2, ln2, ln2Mean, ln2Rstd, fch, fchGelu: FloatBuffer
    let loraDown: [FloatBuffer?]

    init(rows n: Int, attention: Int, config: GPT2Config, adapter: LoRALayout?) {
        let c = config.nEmbd
        ln1 = FloatBuffer(count: n * c)
        ln1Mean = FloatBuffer(count: n)
        ln1Rstd = FloatBuffer(count: n)
        qkv = FloatBuffer(count: n * 3 * c)
        att = FloatBuffer(count: attention)
        atty = FloatBuffer(count: n * c)
        res2 = FloatBuffer(count: n * c)
        ln2 = FloatBuffer(count: n * c)
        ln2Mean = FloatBuffer(count: n)
        ln2Rstd = FloatBuffer(count: n)
        fch = FloatBuffer(count: n * config.nInner)
        fchGelu = FloatBuffer(count: n * config.nInner)
        let adapted = adapter?.adaptedLayers ?? []
        loraDown = AdaptableLayer.allCases.map { adapted.contains($0) ? FloatBuffer(count: n * adapter!.settings.rank) : nil }
    }

    /// Floats of one block's buffers (as `init` allocates them).
    static func floats(rows n: Int, attention: Int, config: GPT2Config, adapter: LoRALayout?) -> Int {
        n * (7 * config.nEmbd + 2 * config.nInner + 4) + attention
            + (adapter.map { $0.adaptedLayers.count * n * $0.settings.rank } ?? 0)
    }
}

/// The backward pass's working buffers (a trainable model only).
///
/// Shapes: dres, dln, datty [N, C]; dqkv [N, 3C]; dfch, dfchGelu [N, 4C]; dselected [M, C];
/// dlogp [M]; datt [NH, P] (attention backward's scratch, at least NH × the largest probability block);
/// with a LoRA adapter of rank r, loraGradient [N, r] (`loraBackward`'s scratch).
final class BackwardBuffers {
    let dres, dln, datty, dqkv, dfch, dfchGelu, dselected, dlogp, datt: FloatBuffer
    let loraGradient: FloatBuffer?

    init(rows n: Int, attention: Int, targets m: Int, config: GPT2Config, adapter: LoRALayout?) {
        let c = config.nEmbd
        dres = FloatBuffer(count: n * c)
        dln = FloatBuffer(count: n * c)
        datty = FloatBuffer(count: n * c)
        dqkv = FloatBuffer(count: n * 3 * c)
        dfch = FloatBuffer(count: n * config.nInner)
        dfchGelu = FloatBuffer(count: n * config.nInner)
        dselected = FloatBuffer(count: m * c)
        dlogp = FloatBuffer(count: m)
        datt = FloatBuffer(count: attention)
        loraGradient = adapter.map { FloatBuffer(count: n * $0.settings.rank) }
    }

    /// Floats of these buffers (as `init` allocates them).
    static func floats(rows n: Int, attention: Int, targets m: Int, config: GPT2Config, adapter: LoRALayout?) -> Int {
        n * (6 * config.nEmbd + 2 * config.nInner) + m * (config.nEmbd + 1) + attention
            + (adapter.map { n * $0.settings.rank } ?? 0)
    }
}

/// Every buffer of one forward and backward pass, sized once for the largest shape seen and
/// reused, so steady-state steps allocate nothing. What is kept depends on the model:
/// - trainable: `residuals` holds every block's input and the last block's output, and `blocks`
///   every block's activations;
/// - trainable with checkpointing: the same `residuals`, but `blocks` is one block that each block
///   fills in turn, in the forward pass and again (recomputed from its input) in the backward pass;
/// - frozen: one residual, which every block reads and overwrites in place, and one block.
///
/// With a LoRA adapter, a trainable model (only the adapter trains) keeps the same activations:
/// the backward pass through the frozen weights reads every one of them (the adapters' inputs
/// ln1, atty, ln2, fchGelu for their A gradients; qkv, att, res2, fch and the LayerNorm statistics
/// for the input gradients), plus each block's `loraDown` and one `loraGradient`; with
/// `lora_dropout` > 0 also `loraInput`, the dropped-out input of one adapter at a time.
///
/// Shapes: residuals, lnf, scratch [N, C]; lnfMean, lnfRstd [N]; selected [M, C]; logits [M, V];
/// lse, logp, logitSums [M]; tokens, positions [N]; targetRows, targets [M]; loraInput [N, the
/// largest adapted layer's input features].
final class GPT2Activations {
    let rowCapacity: Int, attentionCapacity: Int, targetCapacity: Int
    /// The residual stream: block l reads `residual(l)` and writes `residual(l + 1)`; the first
    /// holds the embeddings, the last feeds ln_f.
    let residuals: [FloatBuffer]
    /// Every block's activations, or one block that every block uses (`keepsEveryBlock` false).
    let blocks: [BlockActivations]
    let lnf, lnfMean, lnfRstd, scratch: FloatBuffer
    let selected, logits, lse, logp, logitSums: FloatBuffer
    /// Buffers of the backward pass, nil for a frozen model.
    let backward: BackwardBuffers?
    /// The dropped-out input of an adapter (a trainable model with `lora_dropout` > 0), else nil.
    let loraInput: FloatBuffer?
    /// The adapter dropout's pass counter of the forward pass these activations hold, or nil
    /// when that pass did not drop out.
    var dropoutPass: UInt64?
    var tokens: [Int32] = [], positions: [Int32] = [], targetRows: [Int32] = [], targets: [Int32] = []
    var spans = AttentionSpans()

    init(rows n: Int, attention: Int, targets m: Int, config: GPT2Config, trainable: Bool, checkpointing: Bool,
         adapter: LoRALayout?) {
        rowCapacity = n
        attentionCapacity = attention
        targetCapacity = m
        let c = config.nEmbd
        let shape = Self.counts(config: config, trainable: trainable, checkpointing: checkpointing)
        residuals = (0..<shape.residuals).map { _ in FloatBuffer(count: n * c) }
        blocks = (0..<shape.blocks).map { _ in BlockActivations(rows: n, attention: attention, config: config, adapter: adapter) }
        lnf = FloatBuffer(count: n * c)
        lnfMean = FloatBuffer(count: n)
        lnfRstd = FloatBuffer(count: n)
        scratch = FloatBuffer(count: n * c)
        selected = FloatBuffer(count: m * c)
        logits = FloatBuffer(count: m * config.vocabSize)
        lse = FloatBuffer(count: m)
        logp = FloatBuffer(count: m)
        logitSums = FloatBuffer(count: m)
        backward = trainable ? BackwardBuffers(rows: n, attention: attention, targets: m, config: config, adapter: adapter) : nil
        loraInput = Self.loraInputColumns(config: config, trainable: trainable, adapter: adapter)
            .map { FloatBuffer(count: n * $0) }
    }

    /// Columns of `loraInput`: the largest input of an adapted layer, when a trainable model drops
    /// out its adapters' inputs; nil otherwise.
    static func loraInputColumns(config: GPT2Config, trainable: Bool, adapter: LoRALayout?) -> Int? {
        guard trainable, let adapter, adapter.settings.dropout > 0 else { return nil }
        return adapter.adaptedLayers.map { $0.inFeatures(config) }.max()
    }

    /// How many residual buffers and block activations a model keeps (see the type's comment).
    static func counts(config: GPT2Config, trainable: Bool, checkpointing: Bool) -> (residuals: Int, blocks: Int) {
        (trainable ? config.nLayer + 1 : 1, trainable && !checkpointing ? config.nLayer : 1)
    }

    /// Floats of every buffer `init` allocates for these arguments.
    static func floats(rows n: Int, attention: Int, targets m: Int, config: GPT2Config,
                       trainable: Bool, checkpointing: Bool, adapter: LoRALayout? = nil) -> Int {
        let c = config.nEmbd
        let shape = counts(config: config, trainable: trainable, checkpointing: checkpointing)
        return shape.residuals * n * c
            + shape.blocks * BlockActivations.floats(rows: n, attention: attention, config: config, adapter: adapter)
            + n * (2 * c + 2) + m * (c + config.vocabSize + 3)
            + (trainable ? BackwardBuffers.floats(rows: n, attention: attention, targets: m, config: config, adapter: adapter) : 0)
            + n * (loraInputColumns(config: config, trainable: trainable, adapter: adapter) ?? 0)
    }

    /// Whether `blocks` holds every block's activations; if not, backward recomputes each block's.
    var keepsEveryBlock: Bool { blocks.count == residuals.count - 1 }

    /// The input of block `l` (`l` = nLayer: the last block's output).
    func residual(_ l: Int) -> UnsafeMutablePointer<Float> { residuals[residuals.count == 1 ? 0 : l].base }

    /// Where block `l`'s activations go.
    func block(_ l: Int) -> BlockActivations { blocks[blocks.count == 1 ? 0 : l] }

    /// Floats of every buffer held, found by reflection so that no buffer goes uncounted.
    var allocatedFloats: Int { Self.floats(in: self) }

    private static func floats(in value: Any) -> Int {
        if let buffer = value as? FloatBuffer { return buffer.count }
        return Mirror(reflecting: value).children.reduce(0) { $0 + floats(in: $1.value) }
    }

    func fits(rows n: Int, attention: Int, targets m: Int) -> Bool {
        n <= rowCapacity && attention <= attentionCapacity && m <= targetCapacity
    }
}

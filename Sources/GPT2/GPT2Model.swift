import Kernels

/// GPT-2 (Hugging Face's `GPT2LMHeadModel`, tied embeddings, `gelu_new`) on CPUs: one flat
/// parameter buffer, a forward pass to next-token log-probabilities at selected rows, and the
/// full backward pass into one flat gradient buffer.
///
/// Every matmul goes through `Kernels` (oneDNN or OpenBLAS; float32, or bfloat16 inputs with
/// `bf16`), as do the memory-bound kernels. A model is not thread-safe: one forward/backward at a time.
public final class GPT2Model {
    /// The model's shape.
    public let config: GPT2Config
    /// Where each named tensor lives in `parameters`.
    public let layout: GPT2Layout
    /// The parameters and their bfloat16 copy, shared with other models when this one was made
    /// by `init(sharingWeightsOf:adapter:)`.
    private let weights: ModelWeights
    /// All parameters, in `layout` order (the base model's, when an adapter trains).
    public var parameters: FloatBuffer { weights.parameters }
    /// The LoRA adapter applied to the targeted layers, or nil. When it is set and the model is
    /// trainable, only the adapter trains: `gradients` has the adapter's layout and the base
    /// weights get no gradient at all.
    public let adapter: LoRAAdapter?
    /// Gradients of the trainable parameters (`trainableLayout`: the whole model's, or the
    /// adapter's), or nil for a frozen (reference) model.
    public let gradients: FloatBuffer?
    private var acts: GPT2Activations?

    /// The parameters the optimiser updates: the adapter's when there is one, else the model's.
    public var trainableParameters: FloatBuffer { adapter?.parameters ?? parameters }
    /// The layout of `trainableParameters` and `gradients`.
    public var trainableLayout: any ParameterLayout { adapter?.layout ?? layout }

    /// Called during `backward` each time a suffix of the gradient buffer is final for this pass:
    /// with offset `x`, `gradients[x...]` will not change again (last block first, the
    /// embeddings last with offset 0; with an adapter, each block's adapter tensors, the last 0).
    /// Offsets strictly decrease within a pass. Data-parallel training starts reducing those
    /// gradients while the rest of the backward pass runs.
    public var onGradientsFinal: ((Int) -> Void)?

    /// Debug mode: after every layer of the forward pass, check its output for NaN/Inf and throw
    /// a `NonFiniteValue` naming the layer.
    public var checksFinite = false

    /// Mixed precision as PyTorch's bfloat16 autocast: every matmul (the layers and the LM head,
    /// forward and backward) takes bfloat16 inputs, the weights from a bfloat16 copy of
    /// `parameters` and the activations rounded per product, and accumulates in float32.
    /// Parameters, gradients, layernorm, attention, GELU, softmax and log-probs stay float32.
    /// Models sharing weights share the copy.
    public var bf16 = false {
        didSet { if bf16 != oldValue { weights.useBF16(bf16) } }
    }
    /// Activation checkpointing (TRL's `gradient_checkpointing`): the forward pass keeps only each
    /// block's input ([N, C] per block) and one block's activations, which every block fills in
    /// turn; `backward` recomputes each block's activations from its input, with the same calls,
    /// just before that block's backward. Gradients are bit-identical to a pass without it; the
    /// cost is a second forward pass of every block but its last matmul. Only a trainable model
    /// keeps anything per block: a frozen one always keeps one residual and one block.
    /// Changing it releases the activations (the next `forward` allocates them).
    public var gradientCheckpointing = false {
        didSet { if gradientCheckpointing != oldValue { acts = nil } }
    }

    /// Whether forward passes of a trainable model with an adapter drop out the adapter's input
    /// (`lora_dropout` > 0): PyTorch's training mode. Set it false for evaluation passes
    /// (`model.eval()`); a frozen model never drops.
    public var adapterDropoutEnabled = true
    /// The seed of the adapter dropout's masks (give ranks different seeds for independent masks).
    public var adapterDropoutSeed: UInt64 = 0
    /// Forward passes that dropped out so far: with the seed, the layer and the element, what fixes
    /// each mask (a pure function, so checkpointing's recomputation and the backward pass use the
    /// forward pass's mask). Save and restore it to resume with the same masks.
    public var adapterDropoutPasses: UInt64 = 0

    /// Bytes of the activation buffers `forward` (and `backward`) of a model of `config` allocate
    /// for an input of `rows` rows, `probabilitiesPerHead` attention probabilities per head
    /// (`AttentionSpans.probabilitiesPerHead` of the input's layout) and `targets` scored rows,
    /// for a trainable model (`trainable`, with `checkpointing` as `gradientCheckpointing`) or a
    /// frozen one, with `adapter` (the layout of the model's LoRA adapter) or none. Exactly what
    /// the model allocates (a model keeps the largest shape it has seen).
    public static func activationBytes(config: GPT2Config, rows: Int, probabilitiesPerHead: Int, targets: Int,
                                       trainable: Bool, checkpointing: Bool, adapter: LoRALayout? = nil) -> Int {
        4 * GPT2Activations.floats(rows: rows, attention: config.nHead * probabilitiesPerHead, targets: targets,
                                   config: config, trainable: trainable, checkpointing: checkpointing, adapter: adapter)
    }

    /// Bytes of the activation buffers this model holds now (0 before the first `forward`).
    public var allocatedActivationBytes: Int { 4 * (acts?.allocatedFloats ?? 0) }

    /// A zero-initialised model; call `initializeRandomly(seed:)` or load a checkpoint.
    /// A frozen model (`trainable: false`) allocates no gradient buffer.
    public convenience init(config: GPT2Config, trainable: Bool = true) throws(GPT2ConfigError) {
        try self.init(config: config, trainable: trainable, adapter: nil, sharing: nil)
    }

    /// A model with `adapter` (nil: none), on the parameters of `weights` (nil: its own, zeroed).
    /// With an adapter, a trainable model's gradient buffer is the adapter's size.
    init(config: GPT2Config, trainable: Bool, adapter: LoRAAdapter?, sharing weights: ModelWeights?) throws(GPT2ConfigError) {
        try config.validate()
        self.config = config
        layout = GPT2Layout(config)
        self.weights = weights ?? ModelWeights(count: layout.count)
        self.adapter = adapter
        let trainableCount = adapter?.layout.count ?? layout.count
        gradients = trainable ? FloatBuffer(count: trainableCount, releasable: true) : nil
        gradientsAreZero = trainable
    }

    /// The weights this model runs on, for a model that shares them.
    var sharedWeights: ModelWeights { weights }

    /// Whether every gradient is known to be zero: after `zeroGradients()` or
    /// `gradientsWereCleared()`, until the next `backward`. Only `backward` (and, after it, the
    /// gradient's reduction over ranks) may write `gradients`, or this would be stale. A new
    /// model's gradients are zero (and, untouched, take no memory until backward writes them).
    public private(set) var gradientsAreZero = false

    /// Sets every gradient to zero (call before the first micro-step of an optimiser step). Free
    /// when they are known to be zero already: the trainer's AdamW clears each gradient as it
    /// reads it, which costs nothing in its pass, where a pass of its own took 2% of a step.
    public func zeroGradients() {
        guard !gradientsAreZero else { return }
        gradients?.zero()
        gradientsAreZero = true
    }

    /// Records that every gradient was set to zero by its owner's optimiser.
    public func gradientsWereCleared() { gradientsAreZero = true }

    /// Records that the trainable parameters were written (an optimiser step, a load after the
    /// first forward pass): with `bf16`, the next forward pass rounds them to the bfloat16 copy
    /// again, once. With an adapter the base weights are frozen and keep their copy (the adapter's
    /// products round A and B per product); `baseWeightsChanged()` is for writes into the base.
    public func parametersChanged() {
        if adapter == nil { weights.changed() }
    }

    /// With `bf16` and no adapter, the bfloat16 copy of the trainable parameters, `[parameters.count]`,
    /// for an optimiser that rounds each parameter into it as it updates it (then
    /// `parametersChangedAndRounded()`), saving the next forward pass its own pass over them; else nil.
    public var trainableBF16Copy: UnsafeMutablePointer<UInt16>? {
        bf16 && adapter == nil ? weights.rounded : nil
    }

    /// Records that every trainable parameter was written and rounded into `trainableBF16Copy` by the
    /// writer: the next forward pass uses the copy as it is.
    public func parametersChangedAndRounded() {
        precondition(trainableBF16Copy != nil, "parametersChangedAndRounded: the model has no bfloat16 copy of its trainable parameters")
        weights.changedAndRounded()
    }

    /// Records that `parameters` (the base weights) were written, with or without an adapter.
    public func baseWeightsChanged() { weights.changed() }

    deinit { if bf16 { weights.useBF16(false) } }

    /// The bfloat16 copy of the tensor at `offset` with `bf16`, else nil (float32 matmuls).
    private func weight16(_ offset: Int) -> UnsafePointer<UInt16>? {
        bf16 ? weights.rounded.map { UnsafePointer($0 + offset) } : nil
    }

    /// Runs the forward pass and returns the log-probability of each target, `[M]`.
    ///
    /// The returned buffer, `logits(...)` and `logitSums` stay valid until the next
    /// `forward` or `backward` call.
    @discardableResult
    public func forward(_ input: GPT2Input) throws -> UnsafeBufferPointer<Float> {
        try input.validate(for: config)
        let n = input.rows, m = input.targets.count
        let c = config.nEmbd, v = config.vocabSize
        let a = activations(rows: n, attention: config.nHead * input.spans.probabilitiesPerHead, targets: m)
        a.tokens = input.tokens
        a.positions = input.positions
        a.targetRows = input.targetRows
        a.targets = input.targets
        a.spans = input.spans
        if a.loraInput != nil && adapterDropoutEnabled {
            a.dropoutPass = adapterDropoutPasses
            adapterDropoutPasses += 1
        } else {
            a.dropoutPass = nil
        }
        let p = parameters.base
        if bf16 { weights.roundIfStale() }
        a.tokens.withUnsafeBufferPointer { tok in
            a.positions.withUnsafeBufferPointer { pos in
                embeddingForward(out: a.residual(0), tokens: tok.baseAddress!, positions: pos.baseAddress!,
                                 wte: p + layout.wte, wpe: p + layout.wpe, rows: n, channels: c)
            }
        }
        try check(a.residual(0), n * c, "embedding (wte + wpe)")
        for l in 0..<config.nLayer {
            blockForward(l, a, rows: n)
            try checkBlock(l, a, rows: n)
        }
        layerNormForward(out: a.lnf.base, mean: a.lnfMean.base, rstd: a.lnfRstd.base, inp: a.residual(config.nLayer),
                         weight: p + layout.lnfWeight, bias: p + layout.lnfBias, rows: n, channels: c,
                         epsilon: config.layerNormEpsilon)
        a.targetRows.withUnsafeBufferPointer { rows in
            for (i, row) in rows.enumerated() {
                (a.selected.base + i * c).update(from: a.lnf.base + Int(row) * c, count: c)
            }
        }
        a.targets.withUnsafeBufferPointer { tg in
            logProbHeadForward(logp: a.logp.base, logitSums: a.logitSums.base, logits: a.logits.base,
                               lse: a.lse.base, inp: a.selected.base, wte: p + layout.wte,
                               targets: tg.baseAddress!, rows: m, channels: c, vocab: v, wte16: weight16(layout.wte))
        }
        try check(a.lnf.base, n * c, "ln_f")
        try check(a.logp.base, m, "lm_head log-probs")
        return UnsafeBufferPointer(start: a.logp.base, count: m)
    }

    /// Block `l` of the forward pass: from its input `a.residual(l)`, its activations into
    /// `a.block(l)` and its output into `a.residual(l + 1)` (which may be its input: the input is
    /// last read before the output is written). With `recomputing` (backward, checkpointing), the
    /// same calls stop at `fchGelu`, the last activation backward reads (and the adapter's `u` of
    /// `mlp.c_proj`), and write no output. Each adapted layer adds its adapter's product.
    private func blockForward(_ l: Int, _ a: GPT2Activations, rows n: Int, recomputing: Bool = false) {
        let c = config.nEmbd, nh = config.nHead, inner = config.nInner, eps = config.layerNormEpsilon
        let p = parameters.base, w = layout.blocks[l], s = a.block(l), input = a.residual(l)
        layerNormForward(out: s.ln1.base, mean: s.ln1Mean.base, rstd: s.ln1Rstd.base, inp: input,
                         weight: p + w.ln1Weight, bias: p + w.ln1Bias, rows: n, channels: c, epsilon: eps)
        matmulForward(out: s.qkv.base, inp: s.ln1.base, weight: p + w.qkvWeight, bias: p + w.qkvBias,
                      rows: n, inChannels: c, outChannels: 3 * c, weight16: weight16(w.qkvWeight))
        adapterForward(.attnCAttn, block: l, a, input: s.ln1.base, output: s.qkv.base, rows: n)
        attentionForward(out: s.atty.base, att: s.att.base, qkv: s.qkv.base,
                         spans: a.spans, channels: c, heads: nh)
        matmulForward(out: a.scratch.base, inp: s.atty.base, weight: p + w.attnProjWeight,
                      bias: p + w.attnProjBias, rows: n, inChannels: c, outChannels: c, weight16: weight16(w.attnProjWeight))
        adapterForward(.attnCProj, block: l, a, input: s.atty.base, output: a.scratch.base, rows: n)
        residualForward(out: s.res2.base, a: input, b: a.scratch.base, count: n * c)
        layerNormForward(out: s.ln2.base, mean: s.ln2Mean.base, rstd: s.ln2Rstd.base, inp: s.res2.base,
                         weight: p + w.ln2Weight, bias: p + w.ln2Bias, rows: n, channels: c, epsilon: eps)
        matmulForward(out: s.fch.base, inp: s.ln2.base, weight: p + w.fcWeight, bias: p + w.fcBias,
                      rows: n, inChannels: c, outChannels: inner, weight16: weight16(w.fcWeight))
        adapterForward(.mlpCFc, block: l, a, input: s.ln2.base, output: s.fch.base, rows: n)
        geluForward(out: s.fchGelu.base, inp: s.fch.base, count: n * inner)
        guard !recomputing else {
            adapterForward(.mlpCProj, block: l, a, input: s.fchGelu.base, output: nil, rows: n)
            return
        }
        matmulForward(out: a.scratch.base, inp: s.fchGelu.base, weight: p + w.fcProjWeight,
                      bias: p + w.fcProjBias, rows: n, inChannels: inner, outChannels: c, weight16: weight16(w.fcProjWeight))
        adapterForward(.mlpCProj, block: l, a, input: s.fchGelu.base, output: a.scratch.base, rows: n)
        residualForward(out: a.residual(l + 1), a: s.res2.base, b: a.scratch.base, count: n * c)
    }

    /// The adapter's part of `layer` in block `l`, if adapted: `output += scaling · (x̃ Aᵀ) Bᵀ`
    /// with x̃ the layer's `input` (dropped out into `a.loraInput` in a dropping pass), keeping
    /// u = scaling · x̃ Aᵀ in the block's `loraDown`; a nil `output` computes u alone.
    private func adapterForward(_ layer: AdaptableLayer, block l: Int, _ a: GPT2Activations,
                                input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>?, rows n: Int) {
        guard let adapter, let o = adapter.layout.blocks[l][layer] else { return }
        let q = adapter.parameters.base
        loraForward(out: output, u: a.block(l).loraDown[layer.rawValue]!.base,
                    inp: adapterInput(layer, block: l, a, input: input, rows: n), a: q + o.a, b: q + o.b,
                    scaling: adapter.settings.scaling, rows: n, inChannels: o.inFeatures, outChannels: o.outFeatures,
                    rank: adapter.settings.rank, bf16: bf16)
    }

    /// What the adapter of `layer` in block `l` multiplies: `input`, or in a dropping pass its
    /// dropped-out copy in `a.loraInput` (the same mask in the forward pass, its recomputation and
    /// the backward pass).
    private func adapterInput(_ layer: AdaptableLayer, block l: Int, _ a: GPT2Activations,
                              input: UnsafePointer<Float>, rows n: Int) -> UnsafePointer<Float> {
        guard let pass = a.dropoutPass, let dropped = a.loraInput, let adapter else { return input }
        dropoutForward(out: dropped.base, inp: input, count: n * layer.inFeatures(config),
                       probability: adapter.settings.dropout, seed: adapterDropoutSeed,
                       stream: dropoutStream(pass: pass, block: l, layer: layer))
        return UnsafePointer(dropped.base)
    }

    /// The dropout mask's stream of one layer in one pass.
    private func dropoutStream(pass: UInt64, block l: Int, layer: AdaptableLayer) -> UInt64 {
        pass &* UInt64(4 * config.nLayer) &+ UInt64(4 * l + layer.rawValue)
    }

    /// Backward of `adapterForward` for `layer` in block `l`, if adapted: the gradients of its A
    /// and B (accumulated into `gradients`) and `dinp += ∂/∂input` (through the dropout mask).
    private func adapterBackward(_ layer: AdaptableLayer, block l: Int, _ a: GPT2Activations, dout: UnsafePointer<Float>,
                                 input: UnsafePointer<Float>, dinp: UnsafeMutablePointer<Float>, rows n: Int) {
        guard let adapter, let o = adapter.layout.blocks[l][layer], let g = gradients?.base else { return }
        let q = adapter.parameters.base, du = a.backward!.loraGradient!.base
        let x = adapterInput(layer, block: l, a, input: input, rows: n)
        let dropping = x != input
        loraBackward(dinp: dropping ? a.loraInput!.base : dinp, da: g + o.a, db: g + o.b, du: du, dout: dout, inp: x,
                     u: a.block(l).loraDown[layer.rawValue]!.base, a: q + o.a, b: q + o.b,
                     scaling: adapter.settings.scaling, rows: n, inChannels: o.inFeatures, outChannels: o.outFeatures,
                     rank: adapter.settings.rank, overwritingInput: dropping, bf16: bf16)
        if dropping, let pass = a.dropoutPass {
            dropoutBackward(dinp: dinp, dout: a.loraInput!.base, count: n * o.inFeatures, probability: adapter.settings.dropout,
                            seed: adapterDropoutSeed, stream: dropoutStream(pass: pass, block: l, layer: layer))
        }
    }

    /// Debug mode's checks of block `l` just after its forward pass, in the order its layers ran.
    private func checkBlock(_ l: Int, _ a: GPT2Activations, rows n: Int) throws {
        let s = a.block(l), c = config.nEmbd
        try check(s.qkv.base, n * 3 * c, "h.\(l).attn.c_attn")
        try check(s.atty.base, n * c, "h.\(l).attn (softmax attention)")
        try check(s.res2.base, n * c, "h.\(l).attn.c_proj + residual")
        try check(s.fchGelu.base, n * config.nInner, "h.\(l).mlp.c_fc + gelu")
        try check(a.residual(l + 1), n * c, "h.\(l).mlp.c_proj + residual")
    }

    private func check(_ values: UnsafePointer<Float>, _ count: Int, _ layer: @autoclosure () -> String) throws {
        guard checksFinite else { return }
        if let index = (0..<count).first(where: { !values[$0].isFinite }) {
            throw NonFiniteValue(place: layer(), index: index, value: values[index])
        }
    }

    /// The first parameter tensor whose gradient holds NaN/Inf, or nil (debug mode's check after
    /// a backward pass).
    public func nonFiniteGradient() -> String? {
        guard let g = gradients?.base else { return nil }
        return trainableLayout.tensors.first { t in (t.offset..<(t.offset + t.count)).contains { !g[$0].isFinite } }?.name
    }

    /// Logits of target `m` of the last forward pass, `[V]` (before any backward pass).
    public func logits(target m: Int) -> UnsafeBufferPointer<Float> {
        let a = acts!
        return UnsafeBufferPointer(start: a.logits.base + m * config.vocabSize, count: config.vocabSize)
    }

    /// Σ_v logits[m, v] of each target of the last forward pass, `[M]`.
    public var logitSums: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: acts!.logitSums.base, count: acts!.targets.count)
    }

    /// Backpropagates `dlogp[m] = ∂loss/∂logp[m]` from the last forward pass and *adds* the
    /// gradients of the trainable parameters to `gradients` (so micro-steps accumulate). With an
    /// adapter, the frozen base weights get no gradient (none is computed): the pass computes the
    /// input gradients through them and the adapter's A and B gradients, and stops below the
    /// lowest adapted block.
    public func backward(dlogp: UnsafeBufferPointer<Float>) {
        guard let grads = gradients else { preconditionFailure("backward on a frozen GPT2Model") }
        gradientsAreZero = false
        let a = acts!
        let n = a.tokens.count, m = a.targets.count
        precondition(dlogp.count == m, "backward: \(dlogp.count) gradients for \(m) targets")
        let c = config.nEmbd, nh = config.nHead, inner = config.nInner, v = config.vocabSize
        let p = parameters.base, b = a.backward!
        /// Where the gradient of the base tensor at `offset` goes: nil when the base is frozen.
        let g: (Int) -> UnsafeMutablePointer<Float>? = adapter == nil ? { grads.base + $0 } : { _ in nil }
        var reported = Int.max
        func final(_ offset: Int) {
            guard offset < reported else { return }
            reported = offset
            onGradientsFinal?(offset)
        }
        b.dlogp.base.update(from: dlogp.baseAddress!, count: m)
        b.dselected.base.update(repeating: 0, count: m * c)
        a.targets.withUnsafeBufferPointer { tg in
            logProbHeadBackward(dinp: b.dselected.base, dwte: g(layout.wte), logits: a.logits.base,
                                dlogp: b.dlogp.base, lse: a.lse.base, inp: a.selected.base,
                                wte: p + layout.wte, targets: tg.baseAddress!, rows: m, channels: c, vocab: v,
                                wte16: weight16(layout.wte))
        }
        b.dln.base.update(repeating: 0, count: n * c)
        a.targetRows.withUnsafeBufferPointer { rows in
            for (i, row) in rows.enumerated() {
                accumulate(b.dln.base + Int(row) * c, b.dselected.base + i * c, count: c)
            }
        }
        b.dres.base.update(repeating: 0, count: n * c)
        layerNormBackward(dinp: b.dres.base, dweight: g(layout.lnfWeight), dbias: g(layout.lnfBias),
                          dout: b.dln.base, inp: a.residual(config.nLayer), weight: p + layout.lnfWeight,
                          mean: a.lnfMean.base, rstd: a.lnfRstd.base, rows: n, channels: c)
        if adapter == nil { final(layout.lnfWeight) }
        let lowest = adapter.map { adapter in adapter.layout.blocks.firstIndex { !$0.layers.isEmpty }! } ?? 0
        for (l, w) in layout.blocks.enumerated().reversed() where l >= lowest {
            if !a.keepsEveryBlock { blockForward(l, a, rows: n, recomputing: true) }
            let s = a.block(l), input = a.residual(l)
            // output = res2 + fcProj(gelu(fc(ln2(res2)))): dres holds ∂/∂output and becomes ∂/∂res2.
            matmulBackward(dinp: b.dfchGelu.base, dweight: g(w.fcProjWeight), dbias: g(w.fcProjBias),
                           dout: b.dres.base, inp: s.fchGelu.base, weight: p + w.fcProjWeight,
                           rows: n, inChannels: inner, outChannels: c, overwritingInput: true, weight16: weight16(w.fcProjWeight))
            adapterBackward(.mlpCProj, block: l, a, dout: b.dres.base, input: s.fchGelu.base, dinp: b.dfchGelu.base, rows: n)
            geluBackward(dinp: b.dfch.base, dout: b.dfchGelu.base, inp: s.fch.base, count: n * inner)
            matmulBackward(dinp: b.dln.base, dweight: g(w.fcWeight), dbias: g(w.fcBias),
                           dout: b.dfch.base, inp: s.ln2.base, weight: p + w.fcWeight,
                           rows: n, inChannels: c, outChannels: inner, overwritingInput: true, weight16: weight16(w.fcWeight))
            adapterBackward(.mlpCFc, block: l, a, dout: b.dfch.base, input: s.ln2.base, dinp: b.dln.base, rows: n)
            layerNormBackward(dinp: b.dres.base, dweight: g(w.ln2Weight), dbias: g(w.ln2Bias),
                              dout: b.dln.base, inp: s.res2.base, weight: p + w.ln2Weight,
                              mean: s.ln2Mean.base, rstd: s.ln2Rstd.base, rows: n, channels: c)
            // res2 = input + attnProj(attention(qkv(ln1(input)))): dres becomes ∂/∂input.
            matmulBackward(dinp: b.datty.base, dweight: g(w.attnProjWeight), dbias: g(w.attnProjBias),
                           dout: b.dres.base, inp: s.atty.base, weight: p + w.attnProjWeight,
                           rows: n, inChannels: c, outChannels: c, overwritingInput: true, weight16: weight16(w.attnProjWeight))
            adapterBackward(.attnCProj, block: l, a, dout: b.dres.base, input: s.atty.base, dinp: b.datty.base, rows: n)
            b.dqkv.base.update(repeating: 0, count: n * 3 * c)
            attentionBackward(dqkv: b.dqkv.base, dout: b.datty.base, att: s.att.base, qkv: s.qkv.base,
                              scratch: b.datt.base, spans: a.spans, channels: c, heads: nh)
            matmulBackward(dinp: b.dln.base, dweight: g(w.qkvWeight), dbias: g(w.qkvBias),
                           dout: b.dqkv.base, inp: s.ln1.base, weight: p + w.qkvWeight,
                           rows: n, inChannels: c, outChannels: 3 * c, overwritingInput: true, weight16: weight16(w.qkvWeight))
            adapterBackward(.attnCAttn, block: l, a, dout: b.dqkv.base, input: s.ln1.base, dinp: b.dln.base, rows: n)
            layerNormBackward(dinp: b.dres.base, dweight: g(w.ln1Weight), dbias: g(w.ln1Bias),
                              dout: b.dln.base, inp: input, weight: p + w.ln1Weight,
                              mean: s.ln1Mean.base, rstd: s.ln1Rstd.base, rows: n, channels: c)
            if let adapter {
                final(adapter.layout.blocks[l].start)
            } else {
                // The key bias adds q·b_k to every score of a query, which softmax cancels: its
                // gradient is exactly zero (Σ_j dscore[j] = 0 for each query). Computed, it is rounding
                // noise that AdamW would turn into ±lr steps; it is set to its exact value instead.
                (grads.base + w.qkvBias + c).update(repeating: 0, count: c)
                final(w.ln1Weight)
            }
        }
        if adapter == nil {
            a.tokens.withUnsafeBufferPointer { tok in
                a.positions.withUnsafeBufferPointer { pos in
                    embeddingBackward(dwte: grads.base + layout.wte, dwpe: grads.base + layout.wpe, dout: b.dres.base,
                                      tokens: tok.baseAddress!, positions: pos.baseAddress!, rows: n, channels: c)
                }
            }
        }
        final(0)
    }

    private func activations(rows n: Int, attention: Int, targets m: Int) -> GPT2Activations {
        if let a = acts, a.fits(rows: n, attention: attention, targets: m) { return a }
        let rows = max(n, acts?.rowCapacity ?? 0), att = max(attention, acts?.attentionCapacity ?? 0)
        let targets = max(m, acts?.targetCapacity ?? 0)
        acts = nil  // release the old buffers before allocating the larger ones
        let grown = GPT2Activations(rows: rows, attention: att, targets: targets, config: config,
                                    trainable: gradients != nil, checkpointing: gradientCheckpointing,
                                    adapter: adapter?.layout)
        acts = grown
        return grown
    }
}

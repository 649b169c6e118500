import Kernels

/// Next-token logits for one growing sequence, with a key/value cache: `prefill` runs the prompt
/// once, then each `step` runs only the new token against the cached keys and values of every
/// earlier position, so the prefix is never recomputed.
///
/// The cache holds `capacity` positions (at most the model's `n_positions`); every buffer is
/// allocated by `init`, so steps allocate nothing. The logits returned by `prefill` and `step`
/// stay valid until the next call. The model's parameters are read, never written: a frozen
/// model (`trainable: false`) is enough. Not thread-safe: one call at a time.
public final class GPT2Generator {
    /// The model whose parameters are used (read only).
    public let model: GPT2Model
    /// Positions the cache holds: the longest sequence this generator can run.
    public let capacity: Int
    /// Tokens of the current sequence already in the cache.
    public private(set) var count = 0
    private let buffers: GenerationBuffers

    /// A generator for `model` whose cache holds `capacity` positions (default: `n_positions`).
    public init(model: GPT2Model, capacity: Int? = nil) throws(GenerationError) {
        let limit = model.config.nPositions
        let capacity = capacity ?? limit
        guard capacity >= 1, capacity <= limit else { throw .contextFull(tokens: capacity, capacity: limit) }
        self.model = model
        self.capacity = capacity
        buffers = GenerationBuffers(config: model.config, capacity: capacity)
    }

    /// Starts a new sequence with `tokens` and returns the logits of the token after them, `[V]`.
    public func prefill(_ tokens: [Int32]) throws(GenerationError) -> UnsafeBufferPointer<Float> {
        guard !tokens.isEmpty else { throw .emptyPrompt }
        try check(tokens, after: 0)
        count = 0
        var start = 0
        while start < tokens.count {
            let rows = min(GenerationBuffers.chunkRows, tokens.count - start)
            for i in 0..<rows { buffers.tokens[i] = tokens[start + i] }
            run(rows: rows)
            start += rows
        }
        return logitsOfLastRow(rows: (tokens.count - 1) % GenerationBuffers.chunkRows + 1)
    }

    /// Appends one token to the sequence and returns the logits of the token after it, `[V]`.
    public func step(_ token: Int32) throws(GenerationError) -> UnsafeBufferPointer<Float> {
        try check(CollectionOfOne(token), after: count)
        buffers.tokens[0] = token
        run(rows: 1)
        return logitsOfLastRow(rows: 1)
    }

    private func check(_ tokens: some Collection<Int32>, after cached: Int) throws(GenerationError) {
        let v = model.config.vocabSize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= v }) {
            throw .tokenOutOfVocabulary(id: bad, vocabularySize: v)
        }
        guard cached + tokens.count <= capacity else {
            throw .contextFull(tokens: cached + tokens.count, capacity: capacity)
        }
    }

    /// Runs `rows` new tokens (in `buffers.tokens`) through every block, writing their keys and
    /// values into the cache at positions count..<count+rows; the last block's output is left in `x`.
    private func run(rows n: Int) {
        let b = buffers, p = model.parameters.base, layout = model.layout
        let c = model.config.nEmbd, nh = model.config.nHead, inner = model.config.nInner
        let eps = model.config.layerNormEpsilon
        for i in 0..<n { b.positions[i] = Int32(count + i) }
        embeddingForward(out: b.x.base, tokens: b.tokens, positions: b.positions,
                         wte: p + layout.wte, wpe: p + layout.wpe, rows: n, channels: c)
        for (l, w) in layout.blocks.enumerated() {
            let keys = b.keys.base + l * capacity * c, values = b.values.base + l * capacity * c
            layerNormForward(out: b.ln.base, mean: b.mean.base, rstd: b.rstd.base, inp: b.x.base,
                             weight: p + w.ln1Weight, bias: p + w.ln1Bias, rows: n, channels: c, epsilon: eps)
            linear(out: b.qkv.base, inp: b.ln.base, weight: p + w.qkvWeight, bias: p + w.qkvBias,
                   rows: n, inChannels: c, outChannels: 3 * c)
            for i in 0..<n {
                let row = b.qkv.base + i * 3 * c
                (keys + (count + i) * c).update(from: row + c, count: c)
                (values + (count + i) * c).update(from: row + 2 * c, count: c)
            }
            cachedAttentionForward(out: b.atty.base, scores: b.scores.base, query: b.qkv.base, queryStride: 3 * c,
                                   keys: keys, values: values, start: count, queries: n, channels: c, heads: nh)
            linear(out: b.scratch.base, inp: b.atty.base, weight: p + w.attnProjWeight,
                   bias: p + w.attnProjBias, rows: n, inChannels: c, outChannels: c)
            residualForward(out: b.x.base, a: b.x.base, b: b.scratch.base, count: n * c)
            layerNormForward(out: b.ln.base, mean: b.mean.base, rstd: b.rstd.base, inp: b.x.base,
                             weight: p + w.ln2Weight, bias: p + w.ln2Bias, rows: n, channels: c, epsilon: eps)
            linear(out: b.fch.base, inp: b.ln.base, weight: p + w.fcWeight, bias: p + w.fcBias,
                   rows: n, inChannels: c, outChannels: inner)
            geluForward(out: b.fch.base, inp: b.fch.base, count: n * inner)
            linear(out: b.scratch.base, inp: b.fch.base, weight: p + w.fcProjWeight,
                   bias: p + w.fcProjBias, rows: n, inChannels: inner, outChannels: c)
            residualForward(out: b.x.base, a: b.x.base, b: b.scratch.base, count: n * c)
        }
        count += n
    }

    /// The final LayerNorm and the tied head on the last of the `rows` rows in `x`: logits `[V]`.
    private func logitsOfLastRow(rows n: Int) -> UnsafeBufferPointer<Float> {
        let b = buffers, p = model.parameters.base, layout = model.layout
        let c = model.config.nEmbd, v = model.config.vocabSize
        layerNormForward(out: b.final.base, mean: b.mean.base, rstd: b.rstd.base, inp: b.x.base + (n - 1) * c,
                         weight: p + layout.lnfWeight, bias: p + layout.lnfBias, rows: 1, channels: c,
                         epsilon: model.config.layerNormEpsilon)
        Float.gemv(trans: false, m: v, n: c, alpha: 1, a: p + layout.wte, lda: c, x: b.final.base,
                   beta: 0, y: b.logits.base)
        return UnsafeBufferPointer(start: b.logits.base, count: v)
    }

    /// A fully connected layer: gemv for one row (a step), gemm for a prefill chunk.
    private func linear(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, rows n: Int, inChannels ic: Int, outChannels oc: Int) {
        if n == 1 {
            matvecForward(out: out, inp: inp, weight: weight, bias: bias, inChannels: ic, outChannels: oc)
        } else {
            matmulForward(out: out, inp: inp, weight: weight, bias: bias, rows: n, inChannels: ic, outChannels: oc)
        }
    }
}

import Kernels

/// Saved activations of one transformer block (inputs of every op the backward pass needs).
///
/// Shapes (N = B·T rows): ln1, atty, res2, ln2, res3 [N, C]; qkv [N, 3C]; fch, fchGelu [N, 4C];
/// att [NH, P] (P = probabilities per head, see `AttentionSpans`); ln1Mean, ln1Rstd, ln2Mean, ln2Rstd [N].
final class BlockActivations {
    let ln1, ln1Mean, ln1Rstd, qkv, att, atty, res2, ln2, ln2Mean, ln2Rstd, fch, fchGelu, res3: FloatBuffer

    init(rows n: Int, attention: Int, config: GPT2Config) {
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
        res3 = FloatBuffer(count: n * c)
    }
}

/// Every buffer of one forward and backward pass, sized once for the largest shape seen and
/// reused, so steady-state steps allocate nothing.
///
/// Shapes: encoded, lnf, scratch, dres, dln, datty [N, C]; lnfMean, lnfRstd [N];
/// dqkv [N, 3C]; dfch, dfchGelu [N, 4C]; selected, dselected [M, C]; logits [M, V];
/// lse, logp, logitSums, dlogp [M]; tokens, positions [N]; targetRows, targets [M];
/// datt [NH, P] (attention backward's scratch, at least NH × the largest probability block).
final class GPT2Activations {
    let rowCapacity: Int, attentionCapacity: Int, targetCapacity: Int
    let blocks: [BlockActivations]
    let encoded, lnf, lnfMean, lnfRstd, scratch: FloatBuffer
    let selected, logits, lse, logp, logitSums: FloatBuffer
    let dres, dln, datty, dqkv, dfch, dfchGelu, dselected, dlogp, datt: FloatBuffer
    var tokens: [Int32] = [], positions: [Int32] = [], targetRows: [Int32] = [], targets: [Int32] = []
    var spans = AttentionSpans()

    init(rows n: Int, attention: Int, targets m: Int, config: GPT2Config) {
        rowCapacity = n
        attentionCapacity = attention
        targetCapacity = m
        let c = config.nEmbd
        blocks = (0..<config.nLayer).map { _ in BlockActivations(rows: n, attention: attention, config: config) }
        encoded = FloatBuffer(count: n * c)
        lnf = FloatBuffer(count: n * c)
        lnfMean = FloatBuffer(count: n)
        lnfRstd = FloatBuffer(count: n)
        scratch = FloatBuffer(count: n * c)
        selected = FloatBuffer(count: m * c)
        logits = FloatBuffer(count: m * config.vocabSize)
        lse = FloatBuffer(count: m)
        logp = FloatBuffer(count: m)
        logitSums = FloatBuffer(count: m)
        dres = FloatBuffer(count: n * c)
        dln = FloatBuffer(count: n * c)
        datty = FloatBuffer(count: n * c)
        dqkv = FloatBuffer(count: n * 3 * c)
        dfch = FloatBuffer(count: n * config.nInner)
        dfchGelu = FloatBuffer(count: n * config.nInner)
        dselected = FloatBuffer(count: m * c)
        dlogp = FloatBuffer(count: m)
        datt = FloatBuffer(count: attention)
    }

    func fits(rows n: Int, attention: Int, targets m: Int) -> Bool {
        n <= rowCapacity && attention <= attentionCapacity && m <= targetCapacity
    }

    /// Bytes of every buffer held: the float buffers of the blocks and of the pass (found by
    /// reflection, so a buffer added later counts too) and the Int32 ids of the last input.
    var allocatedBytes: Int {
        func floats(_ object: Any) -> Int {
            Mirror(reflecting: object).children.reduce(0) { sum, child in
                if let buffer = child.value as? FloatBuffer { return sum + buffer.count }
                if let blocks = child.value as? [BlockActivations] { return sum + blocks.reduce(0) { $0 + floats($1) } }
                return sum
            }
        }
        return 4 * floats(self) + 4 * (tokens.count + positions.count + targetRows.count + targets.count)
    }
}

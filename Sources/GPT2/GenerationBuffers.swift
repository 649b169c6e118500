/// The key/value cache and the working buffers of `GPT2Generator`, allocated once.
///
/// Shapes (R = rows per pass, at most `GenerationBuffers.chunkRows`; P = cache capacity):
///   keys, values [L, P, C]  per layer, the keys and values of positions 0..<P
///   x, ln, atty, scratch [R, C]; qkv [R, 3C]; fch [R, 4C]; mean, rstd [R]
///   scores [NH, P]; tokens, positions [R] (Int32); final [C]; logits [V]
final class GenerationBuffers {
    /// Longest slice of a prompt run through the model at once (prefill works in chunks).
    static let chunkRows = 128

    let keys, values: FloatBuffer
    let x, ln, atty, scratch, qkv, fch, mean, rstd, scores, final, logits: FloatBuffer
    let tokens, positions: UnsafeMutablePointer<Int32>

    init(config: GPT2Config, capacity p: Int) {
        let c = config.nEmbd, r = min(p, Self.chunkRows)
        keys = FloatBuffer(count: config.nLayer * p * c)
        values = FloatBuffer(count: config.nLayer * p * c)
        x = FloatBuffer(count: r * c)
        ln = FloatBuffer(count: r * c)
        atty = FloatBuffer(count: r * c)
        scratch = FloatBuffer(count: r * c)
        qkv = FloatBuffer(count: r * 3 * c)
        fch = FloatBuffer(count: r * config.nInner)
        mean = FloatBuffer(count: r)
        rstd = FloatBuffer(count: r)
        scores = FloatBuffer(count: config.nHead * p)
        final = FloatBuffer(count: c)
        logits = FloatBuffer(count: config.vocabSize)
        tokens = .allocate(capacity: r)
        positions = .allocate(capacity: r)
    }

    deinit {
        tokens.deallocate()
        positions.deallocate()
    }
}

import Foundation

/// Picks next tokens from logits under `SamplingSettings`, reproducibly from a seed.
///
/// Sampling follows transformers' order: logits / temperature, then top-k, then softmax and
/// top-p, then one draw. The cut-offs are found by bisection over the values (no sort), so a
/// draw allocates nothing: its scratch is sized once for the vocabulary. Tokens tied exactly at
/// a cut-off are all kept.
public struct TokenSampler {
    /// The settings in use.
    public let settings: SamplingSettings
    private var random: SeededNormal
    private var weights: [Float]

    /// A sampler for logits of `vocabularySize` entries whose draws are fixed by `seed`.
    public init(settings: SamplingSettings, seed: UInt64, vocabularySize: Int) throws(GenerationError) {
        try settings.validate()
        self.settings = settings
        random = SeededNormal(seed: seed)
        weights = [Float](repeating: 0, count: vocabularySize)
    }

    /// The next token for `logits` `[V]`.
    public mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        precondition(logits.count == weights.count, "TokenSampler: \(logits.count) logits for a vocabulary of \(weights.count)")
        if settings.greedy { return Int32(Self.argmax(logits)) }
        let uniform = random.nextUniform(), settings = settings
        return weights.withUnsafeMutableBufferPointer { w in
            Int32(Self.draw(logits, settings, uniform: uniform, scratch: w))
        }
    }

    /// Index of the largest value, the first one on ties.
    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    private static func draw(
        _ logits: UnsafeBufferPointer<Float>, _ s: SamplingSettings, uniform: Double,
        scratch w: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        for i in w.indices { w[i] = logits[i] / s.temperature }
        if s.topK > 0, s.topK < w.count {
            let cut = threshold(w, target: Double(s.topK)) { _ in 1 }
            for i in w.indices where w[i] < cut { w[i] = -.infinity }
        }
        let maxValue = w[argmax(UnsafeBufferPointer(w))]
        var total = 0.0
        for i in w.indices {
            w[i] = expf(w[i] - maxValue)
            total += Double(w[i])
        }
        if s.topP < 1 {
            let cut = threshold(w, target: Double(s.topP) * total) { Double($0) }
            total = 0
            for i in w.indices {
                if w[i] < cut { w[i] = 0 }
                total += Double(w[i])
            }
        }
        let target = uniform * total
        var cumulative = 0.0, last = 0
        for i in w.indices where w[i] > 0 {
            cumulative += Double(w[i])
            if cumulative > target { return i }
            last = i
        }
        return last
    }

    /// The largest τ with Σ_{values[i] ≥ τ} weight(values[i]) ≥ target (the smallest value when
    /// even all of them fall short), by bisection over the floats' order-preserving bit patterns.
    private static func threshold(
        _ values: UnsafeMutableBufferPointer<Float>, target: Double, weight: (Float) -> Double
    ) -> Float {
        var low = key(values.min()!), high = key(values.max()!)
        while low < high {
            let mid = low + (high - low + 1) / 2
            let tau = value(mid)
            var mass = 0.0
            for x in values where x >= tau { mass += weight(x) }
            if mass >= target { low = mid } else { high = mid - 1 }
        }
        return value(low)
    }

    /// Maps floats to unsigned integers in the same order (negative floats reversed below the positive ones).
    private static func key(_ x: Float) -> UInt32 {
        let bits = x.bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// The inverse of `key`.
    private static func value(_ k: UInt32) -> Float {
        k & 0x8000_0000 != 0 ? Float(bitPattern: k & 0x7FFF_FFFF) : Float(bitPattern: ~k)
    }
}

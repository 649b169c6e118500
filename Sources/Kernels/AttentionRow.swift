/// The steps of one query's attention, shared by the packed and the KV-cached attention kernels.
///
/// Shapes: query [hs]; key j at `keys + j·keyStride`, value j at `values + j·valueStride` [hs];
/// scores / probs [count]; out [hs].

/// `scores[j] = q·k_j · scale` for `count` keys; returns the largest score (or `-∞` for none).
@inlinable
func scoreKeys<T: KernelScalar>(
    into scores: UnsafeMutablePointer<T>, query q: UnsafePointer<T>, keys: UnsafePointer<T>, keyStride: Int,
    count n: Int, headSize hs: Int, scale: T
) -> T {
    var maxScore = -T.infinity
    for j in 0..<n {
        let s = T.dot(q, keys + j * keyStride, count: hs) * scale
        scores[j] = s
        if s > maxScore { maxScore = s }
    }
    return maxScore
}

/// Turns `count` scores whose maximum is `maxScore` into softmax probabilities, in place.
@inlinable
func softmaxInPlace<T: KernelScalar>(_ row: UnsafeMutablePointer<T>, count n: Int, maxScore: T) {
    var sum: T = 0
    for j in 0..<n {
        let e = T.exp(row[j] - maxScore)
        row[j] = e
        sum += e
    }
    let inv = 1 / sum
    for j in 0..<n { row[j] *= inv }
}

/// `out += Σ_j probs[j] · v_j` over `count` values.
@inlinable
func accumulateValues<T: KernelScalar>(
    into out: UnsafeMutablePointer<T>, probs: UnsafePointer<T>, values: UnsafePointer<T>, valueStride: Int,
    count n: Int, headSize hs: Int
) {
    for j in 0..<n { T.axpy(probs[j], values + j * valueStride, out, count: hs) }
}

/// One query's causal attention over `count` contiguous keys and values:
/// `probs = softmax(q·k_j · scale)`, `out = Σ_j probs[j] · v_j` (both written).
@inlinable
func attendOneQuery<T: KernelScalar>(
    out y: UnsafeMutablePointer<T>, probs row: UnsafeMutablePointer<T>, query q: UnsafePointer<T>,
    keys: UnsafePointer<T>, keyStride: Int, values: UnsafePointer<T>, valueStride: Int,
    count n: Int, headSize hs: Int, scale: T
) {
    let maxScore = scoreKeys(into: row, query: q, keys: keys, keyStride: keyStride, count: n, headSize: hs, scale: scale)
    softmaxInPlace(row, count: n, maxScore: maxScore)
    y.update(repeating: 0, count: hs)
    accumulateValues(into: y, probs: row, values: values, valueStride: valueStride, count: n, headSize: hs)
}

/// One query's causal attention over `count` keys and values: the step shared by the full and the
/// KV-cached attention kernels.
///
/// Shapes: query [hs]; key j at `keys + j·keyStride`, value j at `values + j·valueStride` [hs];
/// probs [count] (written: softmax of q·k_j · scale); out [hs] (written: Σ_j probs[j] · v_j).
@inlinable
func attendOneQuery<T: KernelScalar>(
    out y: UnsafeMutablePointer<T>, probs row: UnsafeMutablePointer<T>, query q: UnsafePointer<T>,
    keys: UnsafePointer<T>, keyStride: Int, values: UnsafePointer<T>, valueStride: Int,
    count n: Int, headSize hs: Int, scale: T
) {
    var maxScore = -T.infinity
    for j in 0..<n {
        let k = keys + j * keyStride
        var dot: T = 0
        for d in 0..<hs { dot += q[d] * k[d] }
        dot *= scale
        row[j] = dot
        if dot > maxScore { maxScore = dot }
    }
    var sum: T = 0
    for j in 0..<n {
        let e = T.exp(row[j] - maxScore)
        row[j] = e
        sum += e
    }
    let inv = 1 / sum
    for j in 0..<n { row[j] *= inv }
    for d in 0..<hs { y[d] = 0 }
    for j in 0..<n {
        let v = values + j * valueStride
        let a = row[j]
        for d in 0..<hs { y[d] += a * v[d] }
    }
}

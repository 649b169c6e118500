/// Causal multi-head attention of a few new tokens over a key/value cache: the incremental
/// (generation) form of `attentionForward`, for one sequence.
///
/// Shapes (L = start + Q tokens in the sequence so far, hs = C / NH):
///   query  [Q, queryStride]  the new tokens' queries in columns [0, C) of each row (a `qkv`
///                            row [3C] can be passed as is); head h uses columns [h·hs, (h+1)·hs)
///   keys, values [≥ L, C]    cached keys and values of positions 0..<L (the new tokens' rows,
///                            start..<L, already written)
///   scores [NH, ≥ L]         scratch for one query's probabilities per head
///   out    [Q, C]            out[i, h] = Σ_{j ≤ start+i} softmax_j(q[i, h] · k[j, h] / sqrt(hs)) v[j, h]
/// New token i sits at position start + i and sees positions 0...start+i. One query at a time
/// (dot products and `y += p·v`) where `attentionForward` multiplies blocks with BLAS: the same
/// values up to float rounding.
/// Work is split over heads, which write disjoint columns of `out` and rows of `scores`.
@inlinable
public func cachedAttentionForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, scores: UnsafeMutablePointer<T>,
    query: UnsafePointer<T>, queryStride: Int, keys: UnsafePointer<T>, values: UnsafePointer<T>,
    start: Int, queries q: Int, channels c: Int, heads nh: Int
) {
    let hs = c / nh
    let scale = 1 / T.sqrt(T(hs))
    let length = start + q
    parallelRanges(nh) { heads in
        for h in heads {
            let row = scores + h * length
            for i in 0..<q {
                let count = start + i + 1, y = out + i * c + h * hs, qi = query + i * queryStride + h * hs
                for j in 0..<count { row[j] = T.dot(qi, keys + j * c + h * hs, count: hs) * scale }
                causalSoftmaxRow(row, valid: count, width: count)
                y.update(repeating: 0, count: hs)
                for j in 0..<count { T.axpy(row[j], values + j * c + h * hs, y, count: hs) }
            }
        }
    }
}

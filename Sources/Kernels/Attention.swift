/// Causal multi-head self-attention over packed sequences (no padding), each query attending to
/// the key spans `AttentionSpans` gives it: an optional shared prefix, then its own sequence up to
/// and including itself.
///
/// Shapes (N rows, hs = C / NH, K_i = keys of row i, K = Σ_i K_i = spans.totalKeys):
///   qkv [N, 3C]  (query in [0, C), key in [C, 2C), value in [2C, 3C); head h uses
///                 columns [h·hs, (h+1)·hs) of each)
///   att [NH, K]  softmax probabilities, saved for backward: head h, row i at
///                h·K + offsets[i], prefix keys first, then the own span in order
///   out [N, C]   out[i, h] = Σ_j att[h, i, j] · v[key j, h]
/// Scores are q·k / sqrt(hs). Work is split over (head, row) pairs, which write disjoint outputs.
@inlinable
public func attentionForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, att: UnsafeMutablePointer<T>, qkv: UnsafePointer<T>,
    spans: AttentionSpans, channels c: Int, heads nh: Int
) {
    let n = spans.rows, hs = c / nh, c3 = 3 * c, total = spans.totalKeys
    let scale = 1 / T.sqrt(T(hs))
    spans.ownStart.withUnsafeBufferPointer { own in
        spans.prefixStart.withUnsafeBufferPointer { ps in
            spans.prefixEnd.withUnsafeBufferPointer { pe in
                spans.offsets.withUnsafeBufferPointer { offsets in
                    parallelRanges(nh * n) { range in
                        for index in range {
                            let h = index / n, i = index % n
                            let row = att + h * total + offsets[i]
                            let prefix = Int(ps[i])..<Int(pe[i]), start = Int(own[i])
                            let q = qkv + i * c3 + h * hs, keys = qkv + c + h * hs, values = qkv + 2 * c + h * hs
                            let y = out + i * c + h * hs
                            let prefixMax = scoreKeys(into: row, query: q, keys: keys + prefix.lowerBound * c3, keyStride: c3,
                                                      count: prefix.count, headSize: hs, scale: scale)
                            let ownMax = scoreKeys(into: row + prefix.count, query: q, keys: keys + start * c3, keyStride: c3,
                                                   count: i - start + 1, headSize: hs, scale: scale)
                            softmaxInPlace(row, count: prefix.count + i - start + 1, maxScore: max(prefixMax, ownMax))
                            y.update(repeating: 0, count: hs)
                            accumulateValues(into: y, probs: row, values: values + prefix.lowerBound * c3, valueStride: c3,
                                             count: prefix.count, headSize: hs)
                            accumulateValues(into: y, probs: row + prefix.count, values: values + start * c3, valueStride: c3,
                                             count: i - start + 1, headSize: hs)
                        }
                    }
                }
            }
        }
    }
}

/// Backward of `attentionForward`; `dqkv` is accumulated (`+=`).
///
/// Shapes: dout [N, C], att [NH, K], qkv and dqkv [N, 3C]. For query i and each of its keys j:
///   datt[j] = dout[i] · v[j],   dv[j] += att[i, j] · dout[i]
///   dscore[j] = att[i, j] · (datt[j] - Σ_u att[i, u] datt[u])
///   dq[i] += Σ_j dscore[j] k[j] / sqrt(hs),   dk[j] += dscore[j] q[i] / sqrt(hs)
/// Keys are shared between queries (a prompt's rows serve both completions), so work is split by
/// head only: heads write disjoint columns of `dqkv`.
@inlinable
public func attentionBackward<T: KernelScalar>(
    dqkv: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, att: UnsafePointer<T>, qkv: UnsafePointer<T>,
    spans: AttentionSpans, channels c: Int, heads nh: Int
) {
    let n = spans.rows, hs = c / nh, c3 = 3 * c, total = spans.totalKeys
    let scale = 1 / T.sqrt(T(hs))
    let longest = spans.maxKeys
    spans.ownStart.withUnsafeBufferPointer { own in
        spans.prefixStart.withUnsafeBufferPointer { ps in
            spans.prefixEnd.withUnsafeBufferPointer { pe in
                spans.offsets.withUnsafeBufferPointer { offsets in
                    parallelRanges(nh) { heads in
                        withUnsafeTemporaryAllocation(of: T.self, capacity: max(longest, 1)) { dscore in
                            for h in heads {
                                for i in 0..<n {
                                    let row = att + h * total + offsets[i]
                                    let prefix = Int(ps[i])..<Int(pe[i]), start = Int(own[i])
                                    let dy = dout + i * c + h * hs
                                    let q = qkv + i * c3 + h * hs, dq = dqkv + i * c3 + h * hs
                                    // The keys of row i: the prefix rows, then start...i.
                                    func keyRow(_ j: Int) -> Int { j < prefix.count ? prefix.lowerBound + j : start + j - prefix.count }
                                    let count = prefix.count + i - start + 1
                                    var weighted: T = 0
                                    for j in 0..<count {
                                        let r = keyRow(j)
                                        let datt = T.dot(dy, qkv + r * c3 + 2 * c + h * hs, count: hs)
                                        T.axpy(row[j], dy, dqkv + r * c3 + 2 * c + h * hs, count: hs)
                                        dscore.baseAddress![j] = datt
                                        weighted += row[j] * datt
                                    }
                                    for j in 0..<count {
                                        let r = keyRow(j)
                                        let ds = row[j] * (dscore[j] - weighted) * scale
                                        T.axpy(ds, qkv + r * c3 + c + h * hs, dq, count: hs)
                                        T.axpy(ds, q, dqkv + r * c3 + c + h * hs, count: hs)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Causal multi-head self-attention over packed query/key/value projections.
///
/// Shapes:
///   qkv [B, T, 3C]  (query in [0, C), key in [C, 2C), value in [2C, 3C); head h uses
///                    columns [h·hs, (h+1)·hs) of each, hs = C / NH)
///   att [B, NH, T, T]  softmax probabilities, saved for backward (zero above the diagonal)
///   out [B, T, C]      out[b, t, h] = Σ_{t' ≤ t} att[b, h, t, t'] · v[b, t', h]
/// Scores are q·k / sqrt(hs) with a causal mask. With right padding the real tokens never see
/// the padding, so padded rows need no mask of their own (their outputs are simply unused).
@inlinable
public func attentionForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, att: UnsafeMutablePointer<T>, qkv: UnsafePointer<T>,
    batch b: Int, seqLen t: Int, channels c: Int, heads nh: Int
) {
    let hs = c / nh
    let scale = 1 / T.sqrt(T(hs))
    let c3 = 3 * c
    parallelRanges(b * nh) { range in
        for bh in range {
            let bi = bh / nh, h = bh % nh
            let base = qkv + bi * t * c3
            for i in 0..<t {
                let row = att + (bh * t + i) * t
                attendOneQuery(out: out + (bi * t + i) * c + h * hs, probs: row, query: base + i * c3 + h * hs,
                               keys: base + c + h * hs, keyStride: c3, values: base + 2 * c + h * hs, valueStride: c3,
                               count: i + 1, headSize: hs, scale: scale)
                for j in (i + 1)..<t { row[j] = 0 }
            }
        }
    }
}

/// Backward of `attentionForward`; `dqkv` is accumulated (`+=`).
///
/// Shapes: dout [B, T, C], att [B, NH, T, T], qkv and dqkv [B, T, 3C].
///   datt[t'] = dout[t] · v[t'],   dv[t'] += att[t, t'] · dout[t]
///   dscore[t'] = att[t, t'] · (datt[t'] - Σ_u att[t, u] datt[u])
///   dq[t] += Σ_t' dscore[t'] k[t'] / sqrt(hs),   dk[t'] += dscore[t'] q[t] / sqrt(hs)
/// Work is split over (batch, head) pairs, which write disjoint slices of `dqkv`.
@inlinable
public func attentionBackward<T: KernelScalar>(
    dqkv: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, att: UnsafePointer<T>, qkv: UnsafePointer<T>,
    batch b: Int, seqLen t: Int, channels c: Int, heads nh: Int
) {
    let hs = c / nh
    let scale = 1 / T.sqrt(T(hs))
    let c3 = 3 * c
    parallelRanges(b * nh) { range in
        withUnsafeTemporaryAllocation(of: T.self, capacity: t) { dscore in
            for bh in range {
                let bi = bh / nh, h = bh % nh
                let base = qkv + bi * t * c3
                let dbase = dqkv + bi * t * c3
                for i in 0..<t {
                    let row = att + (bh * t + i) * t
                    let dy = dout + (bi * t + i) * c + h * hs
                    var weighted: T = 0
                    for j in 0...i {
                        let v = base + j * c3 + 2 * c + h * hs
                        let dv = dbase + j * c3 + 2 * c + h * hs
                        var datt: T = 0
                        let a = row[j]
                        for d in 0..<hs {
                            datt += dy[d] * v[d]
                            dv[d] += a * dy[d]
                        }
                        dscore[j] = datt
                        weighted += a * datt
                    }
                    let q = base + i * c3 + h * hs
                    let dq = dbase + i * c3 + h * hs
                    for j in 0...i {
                        let ds = row[j] * (dscore[j] - weighted) * scale
                        let k = base + j * c3 + c + h * hs
                        let dk = dbase + j * c3 + c + h * hs
                        for d in 0..<hs {
                            dq[d] += ds * k[d]
                            dk[d] += ds * q[d]
                        }
                    }
                }
            }
        }
    }
}

/// Causal multi-head self-attention over packed sequences (no padding), each segment's queries
/// attending to its shared prefix (if any) and causally to itself (see `AttentionSpans`).
///
/// Shapes (N rows, hs = C / NH; per segment L rows from s, Lp prefix rows from p, W = Lp + L):
///   qkv [N, 3C]  (query in [0, C), key in [C, 2C), value in [2C, 3C); head h uses
///                 columns [h·hs, (h+1)·hs) of each)
///   att [NH, spans.probabilitiesPerHead]  softmax probabilities, saved for backward: head h,
///                 segment g is the dense block [L, W] at h·perHead + g.probabilityOffset,
///                 column j < Lp for prefix row p + j, column Lp + j for row s + j (0 for j > i)
///   out [N, C]   out[s+i, h] = Σ_j att[h, g, i, j] · v[key j, h]
/// Per (head, segment) the scores S = Q·Kᵀ/√hs and the output P·V are BLAS products (one
/// single-threaded call each, the causal block computed whole and masked); the row softmax runs
/// in `T.Lanes`. Work is split over (head, segment) pairs, which write disjoint outputs.
@inlinable
public func attentionForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, att: UnsafeMutablePointer<T>, qkv: UnsafePointer<T>,
    spans: AttentionSpans, channels c: Int, heads nh: Int
) {
    let hs = c / nh, c3 = 3 * c, perHead = spans.probabilitiesPerHead
    let scale = 1 / T.sqrt(T(hs))
    let segments = spans.segments
    parallelRanges(nh * segments.count) { range in
        for index in range {
            let h = index / segments.count, g = segments[index % segments.count]
            let s = g.rows.lowerBound, l = g.rows.count, lp = g.prefix.count, w = g.width
            let probs = att + h * perHead + g.probabilityOffset
            let q = qkv + s * c3 + h * hs
            let prefixKeys = qkv + g.prefix.lowerBound * c3 + c + h * hs, ownKeys = qkv + s * c3 + c + h * hs
            if lp > 0 {
                T.blockGemm(transA: false, transB: true, m: l, n: lp, k: hs, alpha: scale, a: q, lda: c3,
                            b: prefixKeys, ldb: c3, beta: 0, c: probs, ldc: w)
            }
            T.blockGemm(transA: false, transB: true, m: l, n: l, k: hs, alpha: scale, a: q, lda: c3,
                        b: ownKeys, ldb: c3, beta: 0, c: probs + lp, ldc: w)
            for i in 0..<l { causalSoftmaxRow(probs + i * w, valid: lp + i + 1, width: w) }
            let y = out + s * c + h * hs
            if lp > 0 {
                T.blockGemm(transA: false, transB: false, m: l, n: hs, k: lp, alpha: 1, a: probs, lda: w,
                            b: prefixKeys + c, ldb: c3, beta: 0, c: y, ldc: c)
            }
            T.blockGemm(transA: false, transB: false, m: l, n: hs, k: l, alpha: 1, a: probs + lp, lda: w,
                        b: ownKeys + c, ldb: c3, beta: lp > 0 ? 1 : 0, c: y, ldc: c)
        }
    }
}

/// Backward of `attentionForward`; `dqkv` is accumulated (`+=`).
///
/// Shapes: dout [N, C], att [NH, perHead], qkv and dqkv [N, 3C],
/// scratch [NH, spans.largestBlock]. Per (head, segment), with P its probability block:
///   dP = dO·Vᵀ,   dV += Pᵀ·dO
///   dS = P ∘ (dP − rowsum(P ∘ dP)) / √hs
///   dQ += dS·K,   dK += dSᵀ·Q
/// (each product split at the prefix/own boundary of the key columns). A prompt's rows are keys of
/// several segments, so work is split by head only: heads write disjoint columns of `dqkv`.
@inlinable
public func attentionBackward<T: KernelScalar>(
    dqkv: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, att: UnsafePointer<T>, qkv: UnsafePointer<T>,
    scratch: UnsafeMutablePointer<T>, spans: AttentionSpans, channels c: Int, heads nh: Int
) {
    let hs = c / nh, c3 = 3 * c, perHead = spans.probabilitiesPerHead, block = spans.largestBlock
    let scale = 1 / T.sqrt(T(hs))
    let segments = spans.segments
    parallelRanges(nh) { heads in
        for h in heads {
            let dp = scratch + h * block
            for g in segments {
                let s = g.rows.lowerBound, l = g.rows.count, lp = g.prefix.count, w = g.width
                let probs = UnsafePointer(att + h * perHead + g.probabilityOffset)
                let dy = dout + s * c + h * hs
                let q = qkv + s * c3 + h * hs, dq = dqkv + s * c3 + h * hs
                // Key (K) and value (V = K + C) columns of the prefix rows and the own rows.
                let prefixRow = g.prefix.lowerBound * c3 + c + h * hs, ownRow = s * c3 + c + h * hs
                /// Runs `body(first column, key row offset, columns)` for the prefix keys (if any),
                /// then the own keys.
                func keyBlocks(_ body: (_ column: Int, _ keys: Int, _ count: Int) -> Void) {
                    if lp > 0 { body(0, prefixRow, lp) }
                    body(lp, ownRow, l)
                }
                // dP = dO·Vᵀ and dV += Pᵀ·dO, prefix then own columns.
                keyBlocks { column, keys, count in
                    T.blockGemm(transA: false, transB: true, m: l, n: count, k: hs, alpha: 1, a: dy, lda: c,
                                b: qkv + keys + c, ldb: c3, beta: 0, c: dp + column, ldc: w)
                    T.blockGemm(transA: true, transB: false, m: count, n: hs, k: l, alpha: 1, a: probs + column, lda: w,
                                b: dy, ldb: c, beta: 1, c: dqkv + keys + c, ldc: c3)
                }
                for i in 0..<l { softmaxBackwardRow(dp + i * w, probs: probs + i * w, width: w, scale: scale) }
                // dQ += dS·K and dK += dSᵀ·Q, prefix then own columns.
                keyBlocks { column, keys, count in
                    T.blockGemm(transA: false, transB: false, m: l, n: hs, k: count, alpha: 1, a: dp + column, lda: w,
                                b: qkv + keys, ldb: c3, beta: 1, c: dq, ldc: c3)
                    T.blockGemm(transA: true, transB: false, m: count, n: hs, k: l, alpha: 1, a: dp + column, lda: w,
                                b: q, ldb: c3, beta: 1, c: dqkv + keys, ldc: c3)
                }
            }
        }
    }
}

/// The language-model head at selected rows, fused with log-softmax and the gather of the
/// next token's log-probability.
///
/// Shapes:
///   inp [M, C]  (final hidden states of the M rows whose next token is scored)
///   wte [V, C]  (tied output embedding)    targets [M] (Int32 token ids)
///   logits [M, V] = inp · wteᵀ             (kept: backward turns it into its gradient in place)
///   lse [M]   logsumexp of each logits row (saved for backward)
///   logp [M]  = logits[m, targets[m]] - lse[m]
///   logitSums [M] = Σ_v logits[m, v]  (for the mean-logit metrics)
/// Only the M selected rows are ever multiplied by the vocabulary, never the prompt's rows.
@inlinable
public func logProbHeadForward<T: KernelScalar>(
    logp: UnsafeMutablePointer<T>, logitSums: UnsafeMutablePointer<T>,
    logits: UnsafeMutablePointer<T>, lse: UnsafeMutablePointer<T>,
    inp: UnsafePointer<T>, wte: UnsafePointer<T>, targets: UnsafePointer<Int32>,
    rows m: Int, channels c: Int, vocab v: Int
) {
    guard m > 0 else { return }
    T.gemm(transA: false, transB: true, m: m, n: v, k: c,
           alpha: 1, a: inp, lda: c, b: wte, ldb: c, beta: 0, c: logits, ldc: v)
    parallelRanges(m) { range in
        for r in range {
            let row = logits + r * v
            var maxLogit = -T.infinity
            var total: T = 0
            for j in 0..<v {
                if row[j] > maxLogit { maxLogit = row[j] }
                total += row[j]
            }
            var sum: T = 0
            for j in 0..<v { sum += T.exp(row[j] - maxLogit) }
            let l = maxLogit + T.log(sum)
            lse[r] = l
            logp[r] = row[Int(targets[r])] - l
            logitSums[r] = total
        }
    }
}

/// Backward of `logProbHeadForward`. Overwrites `logits` with dlogits, then accumulates.
///
/// Shapes: dlogp [M]; logits [M, V] (in: logits, out: their gradient); lse [M];
///   inp, dinp [M, C]; wte, dwte [V, C].
///   dlogits[m, v] = dlogp[m] · (1[v = target] - softmax(logits[m])[v])
///   dinp += dlogits · wte,   dwte += dlogitsᵀ · inp
@inlinable
public func logProbHeadBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dwte: UnsafeMutablePointer<T>,
    logits: UnsafeMutablePointer<T>, dlogp: UnsafePointer<T>, lse: UnsafePointer<T>,
    inp: UnsafePointer<T>, wte: UnsafePointer<T>, targets: UnsafePointer<Int32>,
    rows m: Int, channels c: Int, vocab v: Int
) {
    guard m > 0 else { return }
    parallelRanges(m) { range in
        for r in range {
            let row = logits + r * v
            let g = dlogp[r]
            let l = lse[r]
            for j in 0..<v { row[j] = -g * T.exp(row[j] - l) }
            row[Int(targets[r])] += g
        }
    }
    T.gemm(transA: false, transB: false, m: m, n: c, k: v,
           alpha: 1, a: logits, lda: v, b: wte, ldb: c, beta: 1, c: dinp, ldc: c)
    T.gemm(transA: true, transB: false, m: v, n: c, k: m,
           alpha: 1, a: logits, lda: v, b: inp, ldb: c, beta: 1, c: dwte, ldc: c)
}

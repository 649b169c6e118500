import Foundation

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
/// Each row's logsumexp and sum come from one vectorised walk over the row (`logSumExpAndSum`).
/// Only the M selected rows are ever multiplied by the vocabulary, never the prompt's rows.
/// With `wte16` (wte's bfloat16 copy) the product takes bfloat16 inputs; the logits, the
/// log-softmax and everything after stay in `T`.
@inlinable
public func logProbHeadForward<T: KernelScalar>(
    logp: UnsafeMutablePointer<T>, logitSums: UnsafeMutablePointer<T>,
    logits: UnsafeMutablePointer<T>, lse: UnsafeMutablePointer<T>,
    inp: UnsafePointer<T>, wte: UnsafePointer<T>, targets: UnsafePointer<Int32>,
    rows m: Int, channels c: Int, vocab v: Int, wte16: UnsafePointer<UInt16>? = nil
) {
    guard m > 0 else { return }
    T.gemm(transA: false, transB: true, m: m, n: v, k: c,
           alpha: 1, a: inp, lda: c, b: wte, ldb: c, beta: 0, c: logits, ldc: v, bf16: wte16.map { BF16Operands(b: $0) })
    parallelRanges(m) { range in
        for r in range {
            let row = logits + r * v
            let stats = logSumExpAndSum(row, count: v)
            lse[r] = T(stats.logSumExp)
            logp[r] = T(Double(row[Int(targets[r])]) - stats.logSumExp)
            logitSums[r] = T(stats.sum)
        }
    }
}

/// logsumexp and sum of one row of `count` values, in one walk over the row (online softmax).
///
/// Shapes: row [count] → (log Σ_j e^row[j], Σ_j row[j]), both in Double.
/// The row is walked in blocks of `logProbBlock` values; each block is read once from memory for
/// its maximum and sum and once more, from L1, for Σ e^(x − running max). When a block raises the
/// maximum, the exponential sum so far is rescaled by e^(old max − new max). Sums run in `T.Lanes`
/// within a block (at most 64 values per Float lane) and in Double across blocks; block boundaries
/// depend only on `count`, so the result is the same for any thread count.
@inlinable
func logSumExpAndSum<T: KernelScalar>(_ row: UnsafePointer<T>, count: Int) -> (logSumExp: Double, sum: Double) {
    var maxValue = -T.infinity
    var expSum = 0.0
    var sum = 0.0
    var start = 0
    while start < count {
        let block = start..<min(count, start + logProbBlock)
        var laneMax = T.Lanes(repeating: -T.infinity)
        var laneSum = T.Lanes(repeating: 0)
        for (i, n) in chunks(of: T.Lanes.self, in: block) {
            laneMax = T.laneMax(laneMax, T.Lanes(loadingFrom: row + i, count: n, padding: -T.infinity))
            laneSum += T.Lanes(loadingFrom: row + i, count: n, padding: 0)
        }
        let blockMax = laneMax.max()
        if blockMax > maxValue {
            expSum *= Foundation.exp(Double(maxValue) - Double(blockMax))
            maxValue = blockMax
        }
        let shift = T.Lanes(repeating: maxValue)
        var laneExp = T.Lanes(repeating: 0)
        for (i, n) in chunks(of: T.Lanes.self, in: block) {
            laneExp += T.exp(T.Lanes(loadingFrom: row + i, count: n, padding: -T.infinity) - shift)
        }
        expSum += Double(laneExp.sum())
        sum += Double(laneSum.sum())
        start = block.upperBound
    }
    return (Double(maxValue) + Foundation.log(expSum), sum)
}

/// Values of a logits row per block of `logSumExpAndSum` (4 KB of Floats: stays in L1 between
/// the block's two reads).
@usableFromInline let logProbBlock = 1024

/// Backward of `logProbHeadForward`. Overwrites `logits` with dlogits, then accumulates.
///
/// Shapes: dlogp [M]; logits [M, V] (in: logits, out: their gradient); lse [M];
///   inp, dinp [M, C]; wte, dwte [V, C].
///   dlogits[m, v] = dlogp[m] · (1[v = target] - softmax(logits[m])[v])
///   dinp += dlogits · wte,   dwte += dlogitsᵀ · inp
/// The softmax is recomputed from `lse`, `T.Lanes` values at a time. With `wte16` both products
/// take bfloat16 inputs (dlogits rounded once for both). A nil `dwte` (a frozen embedding: LoRA)
/// skips its product.
@inlinable
public func logProbHeadBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dwte: UnsafeMutablePointer<T>?,
    logits: UnsafeMutablePointer<T>, dlogp: UnsafePointer<T>, lse: UnsafePointer<T>,
    inp: UnsafePointer<T>, wte: UnsafePointer<T>, targets: UnsafePointer<Int32>,
    rows m: Int, channels c: Int, vocab v: Int, wte16: UnsafePointer<UInt16>? = nil
) {
    guard m > 0 else { return }
    parallelRanges(m) { range in
        for r in range {
            let row = logits + r * v
            let g = dlogp[r]
            let l = T.Lanes(repeating: lse[r])
            for (j, n) in chunks(of: T.Lanes.self, in: 0..<v) {
                let x = T.Lanes(loadingFrom: row + j, count: n, padding: 0)
                (-g * T.exp(x - l)).store(to: row + j, count: n)
            }
            row[Int(targets[r])] += g
        }
    }
    withSharedBF16Operand(logits, count: m * v, rounding: wte16 != nil) { dlogits16 in
        T.gemm(transA: false, transB: false, m: m, n: c, k: v, alpha: 1, a: logits, lda: v, b: wte, ldb: c,
               beta: 1, c: dinp, ldc: c, bf16: wte16.map { BF16Operands(a: dlogits16, b: $0) })
        if let dwte {
            T.gemm(transA: true, transB: false, m: v, n: c, k: m, alpha: 1, a: logits, lda: v, b: inp, ldb: c,
                   beta: 1, c: dwte, ldc: c, bf16: wte16 == nil ? nil : BF16Operands(a: dlogits16))
        }
    }
}

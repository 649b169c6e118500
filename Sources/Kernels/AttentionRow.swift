/// The row operations of attention, in `T.Lanes`.
///
/// Shapes: row, probs, dp [width]; the first `valid` entries of a row are real keys.

/// Softmax of `row[0..<valid]` in place; `row[valid..<width]` (masked keys) set to 0.
@inlinable @inline(__always)
func causalSoftmaxRow<T: KernelScalar>(_ row: UnsafeMutablePointer<T>, valid: Int, width: Int) {
    var laneMax = T.Lanes(repeating: -T.infinity)
    for (j, n) in chunks(of: T.Lanes.self, in: 0..<valid) {
        laneMax = T.laneMax(laneMax, T.Lanes(loadingFrom: row + j, count: n, padding: -T.infinity))
    }
    let maxScore = laneMax.max()
    var sums = T.Lanes()
    for (j, n) in chunks(of: T.Lanes.self, in: 0..<valid) {
        let e = T.exp(T.Lanes(loadingFrom: row + j, count: n, padding: -T.infinity) - maxScore)
        e.store(to: row + j, count: n)
        sums += e
    }
    let inv = 1 / sums.sum()
    for (j, n) in chunks(of: T.Lanes.self, in: 0..<valid) {
        (T.Lanes(loadingFrom: row + j, count: n, padding: 0) * inv).store(to: row + j, count: n)
    }
    (row + valid).update(repeating: 0, count: width - valid)
}

/// Softmax backward of one row in place: `dp ← probs ∘ (dp − Σ_j probs[j]·dp[j]) · scale` (masked
/// keys have probability 0, so they get 0).
@inlinable @inline(__always)
func softmaxBackwardRow<T: KernelScalar>(_ dp: UnsafeMutablePointer<T>, probs: UnsafePointer<T>, width: Int, scale: T) {
    var weighted = T.Lanes()
    for (j, n) in chunks(of: T.Lanes.self, in: 0..<width) {
        weighted += T.Lanes(loadingFrom: probs + j, count: n, padding: 0) * T.Lanes(loadingFrom: dp + j, count: n, padding: 0)
    }
    let total = weighted.sum()
    for (j, n) in chunks(of: T.Lanes.self, in: 0..<width) {
        let p = T.Lanes(loadingFrom: probs + j, count: n, padding: 0)
        (p * (T.Lanes(loadingFrom: dp + j, count: n, padding: 0) - total) * scale).store(to: dp + j, count: n)
    }
}

/// Dot products and `y += a·x` over short contiguous vectors (an attention head's 64 channels),
/// in `T.Lanes`: each lane accumulates its own partial sum and the lanes are added at the end, so
/// they vectorise without fast-math.
///
/// Shapes: x, y [count]. The result depends only on `count` (never on alignment or threads).
extension KernelScalar {
    /// Σ_i x[i] · y[i].
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, count n: Int) -> Self {
        var acc = Lanes()
        for (i, c) in chunks(of: Lanes.self, in: 0..<n) {
            acc += Lanes(loadingFrom: x + i, count: c, padding: 0) * Lanes(loadingFrom: y + i, count: c, padding: 0)
        }
        return acc.sum()
    }

    /// `y[i] += a · x[i]`.
    @inlinable @inline(__always)
    public static func axpy(_ a: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count n: Int) {
        for (i, c) in chunks(of: Lanes.self, in: 0..<n) {
            (a * Lanes(loadingFrom: x + i, count: c, padding: 0)).add(to: y + i, count: c)
        }
    }
}

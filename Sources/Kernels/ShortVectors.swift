/// Dot products and `y += a·x` over short contiguous vectors (an attention head's 64 channels),
/// written with SIMD types so they vectorise without fast-math: each lane accumulates its own
/// partial sum and the lanes are added at the end.
///
/// Shapes: x, y [count]. The result depends only on `count` (never on alignment or threads).
extension Float {
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
        simdDot(x, y, count: n, lanes: SIMD16<Float>.self)
    }

    @inlinable @inline(__always)
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        simdAxpy(a, x, y, count: n, lanes: SIMD16<Float>.self)
    }
}

extension Double {
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, count n: Int) -> Double {
        simdDot(x, y, count: n, lanes: SIMD8<Double>.self)
    }

    @inlinable @inline(__always)
    public static func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count n: Int) {
        simdAxpy(a, x, y, count: n, lanes: SIMD8<Double>.self)
    }
}

/// Σ x[i]·y[i]: whole `V`-wide chunks lane-wise, then the tail in order.
@inlinable @inline(__always)
func simdDot<V: SIMD>(_ x: UnsafePointer<V.Scalar>, _ y: UnsafePointer<V.Scalar>, count n: Int, lanes: V.Type)
    -> V.Scalar where V.Scalar: BinaryFloatingPoint {
    let w = V.scalarCount
    var acc = V()
    var i = 0
    while i + w <= n {
        let a = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
        let b = UnsafeRawPointer(y + i).loadUnaligned(as: V.self)
        acc = acc + a * b
        i += w
    }
    var sum = acc.sum()
    while i < n {
        sum += x[i] * y[i]
        i += 1
    }
    return sum
}

/// y[i] += a·x[i]: whole `V`-wide chunks, then the tail.
@inlinable @inline(__always)
func simdAxpy<V: SIMD>(_ a: V.Scalar, _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>,
                       count n: Int, lanes: V.Type) where V.Scalar: BinaryFloatingPoint {
    let w = V.scalarCount
    let scale = V(repeating: a)
    var i = 0
    while i + w <= n {
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: V.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv + scale * xv, as: V.self)
        i += w
    }
    while i < n {
        y[i] += a * x[i]
        i += 1
    }
}

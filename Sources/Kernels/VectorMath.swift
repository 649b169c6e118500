import CLaneMath

/// e^x and tanh on 16 Float lanes at once, for the memory-bound kernels (GELU, the log-prob head's
/// softmax). Plain `SIMD16<Float>` arithmetic that LLVM turns into vector instructions: no libm
/// call, no branch, no fused multiply-add (the package builds for baseline x86-64, where a fused
/// multiply-add is a libm call per lane).
///
/// Shapes: x, result [16] (lane-wise).
///
/// `vectorExp` follows Cephes' `expf`:
///   n = round(x·log₂e)                 (adding and subtracting 1.5·2²³ rounds to nearest)
///   r = x − n·C1 − n·C2                (C1 + C2 = ln 2; C1 has 9 significant bits, so n·C1 is exact)
///   e^r = 1 + r + r²·P(r)              (P of degree 5, Cephes' minimax coefficients, |r| ≤ ln2/2)
///   e^x = (2·e^r) · 2^(n−1)            (2^(n−1) built in the exponent field; n = 128 still fits)
/// Range: −86.98 ≤ x ≤ 88.72 is computed as above; x < −86.98 (true value < 1.8e-38, next to
/// FLT_MIN) and −∞ give 0, so no subnormal is ever produced; x > 88.7228 and +∞ overflow to +∞
/// in the final product; NaN gives NaN. Measured against Foundation's Double `exp` over 2²⁴
/// evenly spaced points of [−86.98, 88.72] (VectorMathTests): at most 0.99 ulp of float32 from the
/// exact value (relative error ≤ 8.1e-8; correct rounding alone would allow 0.5 ulp).
@inlinable @inline(__always)
public func vectorExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    let lowest = V(repeating: -86.98), highest = V(repeating: 89)
    var xc = x.replacing(with: lowest, where: x .< lowest)
    xc = xc.replacing(with: highest, where: xc .> highest)
    let shift = V(repeating: 12_582_912)  // 1.5·2²³
    let t = xc * V(repeating: 1.442_695_04) + shift
    let n = t - shift
    var r = xc - n * V(repeating: 0.693_359_375)
    r = r - n * V(repeating: -2.121_944_4e-4)
    var p = V(repeating: 1.987_569_15e-4)
    p = p * r + V(repeating: 1.398_199_95e-3)
    p = p * r + V(repeating: 8.333_451_9e-3)
    p = p * r + V(repeating: 4.166_579_59e-2)
    p = p * r + V(repeating: 1.666_666_55e-1)
    p = p * r + V(repeating: 5.000_000_12e-1)
    p = p * (r * r) + r + V(repeating: 1)
    // The low mantissa bits of t hold n (plus a constant the shift by 23 pushes out).
    let scale = (unsafeBitCast(t, to: SIMD16<UInt32>.self) &+ 126) &<< 23
    let y = (p + p) * unsafeBitCast(scale, to: V.self)
    return y.replacing(with: 0, where: x .< lowest)
}

/// tanh on 16 Float lanes, odd-symmetric, from `vectorExp`, as Cephes' `tanhf`:
///   |x| < 0.625:  x + x³·Q(x²)  (Q of degree 4, Cephes' coefficients: full relative accuracy near 0,
///                 where 1 − e^(−2|x|) would cancel)
///   |x| ≥ 0.625:  sign(x) · (1 − e)/(1 + e),  e = e^(−2|x|) ≤ 0.29 (no cancellation; ±∞ → ±1)
/// Measured against Foundation's Double `tanh` over 2²⁴ evenly spaced points of [−10, 10]
/// (VectorMathTests): at most 1.51 ulp of float32 from the exact value, absolute error ≤ 9.0e-8
/// (what GELU's 0.5·x·(1 + tanh u) feels), relative error ≤ 1.5e-7 also near 0.
@inlinable @inline(__always)
public func vectorTanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    let signBit = SIMD16<UInt32>(repeating: 0x8000_0000)
    let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
    let a = unsafeBitCast(bits & ~signBit, to: V.self)
    let e = vectorExp(V(repeating: -2) * a)
    let large = (V(repeating: 1) - e) / (V(repeating: 1) + e)
    let z = a * a
    var q = V(repeating: -5.704_988_72e-3)
    q = q * z + V(repeating: 2.063_908_88e-2)
    q = q * z + V(repeating: -5.373_971_55e-2)
    q = q * z + V(repeating: 1.333_144_22e-1)
    q = q * z + V(repeating: -3.333_328_19e-1)
    let small = q * z * a + a
    let magnitude = large.replacing(with: small, where: a .< V(repeating: 0.625))
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) | (bits & signBit), to: V.self)
}

/// The square root of every lane as one vector instruction, correctly rounded as the scalar
/// `squareRoot()` is (the standard library's `SIMD16<Float>.squareRoot()` takes one scalar root
/// and a libm fallback per lane: AdamW spent most of its time there).
@inlinable @inline(__always)
public func vectorSquareRoot(_ x: SIMD16<Float>) -> SIMD16<Float> { dpo_lane_sqrt16(x) }

import CBLAS
import Foundation

/// The floating-point types the kernels run on: `Float` for training, `Double` for the
/// finite-difference gradient checks in the tests.
///
/// Each conforming type supplies the few transcendental functions the kernels need, on one value
/// and on `Lanes` (the vector the memory-bound kernels are written over), and routes general
/// matrix multiplication and matrix-vector products: `Float` products to oneDNN or OpenBLAS
/// (`FloatMatmul`), `Double` ones to `cblas_dgemm`, matrix-vector products to `cblas_sgemv` / `cblas_dgemv`.
public protocol KernelScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    /// The values GELU, layernorm and the log-prob head process at once: `SIMD16<Float>` (vector
    /// instructions, with `vectorExp` / `vectorTanh`), `SIMD4<Double>` (libm per lane; Double only
    /// serves the float64 checks in the tests).
    associatedtype Lanes: SIMD where Lanes.Scalar == Self
    /// e^x.
    static func exp(_ x: Self) -> Self
    /// Natural logarithm.
    static func log(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func tanh(_ x: Self) -> Self
    /// Square root.
    static func sqrt(_ x: Self) -> Self
    /// e^x in every lane.
    static func exp(_ x: Lanes) -> Lanes
    /// Hyperbolic tangent in every lane.
    static func tanh(_ x: Lanes) -> Lanes
    /// The larger of `a` and `b` in every lane (`a` where `b` is NaN). A requirement rather than
    /// generic code because only a comparison of the concrete vector type becomes one instruction.
    static func laneMax(_ a: Lanes, _ b: Lanes) -> Lanes
    /// Row-major `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n]` as one
    /// single-threaded BLAS call on the calling thread (for blocks that are already one thread's work).
    ///
    /// `transA` / `transB` say whether `A` / `B` are stored transposed; `lda`, `ldb`, `ldc` are
    /// the row strides of the matrices as stored.
    static func blockGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Row-major `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n]` on the kernel
    /// threads, by the best matmul library for the problem (see `FloatMatmul`).
    ///
    /// With `bf16` the product runs as PyTorch's autocast runs it: `A` and `B` rounded to bfloat16
    /// (taken from `bf16`'s pre-rounded copies where given), products accumulated in float32 and
    /// `C` in float32. Only `Float` supports `bf16`, with `alpha` 1 and `beta` 0 or 1.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, bf16: BF16Operands?)
    /// Row-major `y = alpha * op(A) x + beta * y` for `A` stored `[m, n]` with row stride `lda`
    /// (`y` has m entries, or n when `trans`); `x` and `y` are contiguous.
    static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
}

extension KernelScalar {
    /// `gemm` in the input precision (no bfloat16 rounding).
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c, ldc: ldc, bf16: nil)
    }

    /// `blockGemm`'s product (OpenBLAS) with C split into blocks across `KernelThreads` (see `splitGemm`).
    @inlinable
    public static func blasGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) {
        splitGemm(transA: transA, transB: transB, m: m, n: n, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc) { m, n, a, b, c in
            blockGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c, ldc: ldc)
        }
    }
}

@inlinable
func blasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: KernelScalar {
    @inlinable public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inlinable public static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
    @inlinable public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
    public typealias Lanes = SIMD16<Float>
    @inlinable @inline(__always) public static func exp(_ x: Lanes) -> Lanes { vectorExp(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Lanes) -> Lanes { vectorTanh(x) }
    @inlinable @inline(__always) public static func laneMax(_ a: Lanes, _ b: Lanes) -> Lanes { a.replacing(with: b, where: b .> a) }
    @inlinable
    public static func blockGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, blasTranspose(transA), blasTranspose(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bf16: BF16Operands?
    ) {
        FloatMatmul.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                         beta: beta, c: c, ldc: ldc, bf16: bf16)
    }
    @inlinable
    public static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, blasTranspose(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}

extension Double: KernelScalar {
    @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inlinable public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    public typealias Lanes = SIMD4<Double>
    @inlinable public static func exp(_ x: Lanes) -> Lanes { eachLane(x, Foundation.exp) }
    @inlinable public static func tanh(_ x: Lanes) -> Lanes { eachLane(x, Foundation.tanh) }
    @inlinable @inline(__always) public static func laneMax(_ a: Lanes, _ b: Lanes) -> Lanes { a.replacing(with: b, where: b .> a) }
    @inlinable
    public static func blockGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, blasTranspose(transA), blasTranspose(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, bf16: BF16Operands?
    ) {
        precondition(bf16 == nil, "bfloat16 products are Float only")
        blasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c, ldc: ldc)
    }
    @inlinable
    public static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(CblasRowMajor, blasTranspose(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}

/// `f` applied to every lane of `x`, one call at a time.
@inlinable
func eachLane<L: SIMD>(_ x: L, _ f: (L.Scalar) -> L.Scalar) -> L {
    var y = x
    for i in y.indices { y[i] = f(x[i]) }
    return y
}

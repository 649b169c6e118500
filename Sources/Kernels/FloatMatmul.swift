/// Pre-rounded bfloat16 copies of a product's operands; passing one (even empty) runs the product
/// with bfloat16 inputs. An operand without a copy here is rounded on the fly.
public struct BF16Operands: Equatable {
    /// `A` rounded to bfloat16, stored as `A` is (same transposition and row stride), or nil.
    public var a: UnsafePointer<UInt16>?
    /// `B` rounded to bfloat16, stored as `B` is, or nil (a model passes its weights' copy here).
    public var b: UnsafePointer<UInt16>?

    /// Copies of `A` and / or `B`; both nil rounds both operands per product.
    public init(a: UnsafePointer<UInt16>? = nil, b: UnsafePointer<UInt16>? = nil) {
        self.a = a
        self.b = b
    }
}

/// `Float` matrix products: oneDNN (`OneDNNMatmul`, its own CPU dispatch) for every bfloat16
/// product it implements and for float32 ones unless OpenBLAS runs AVX-512 kernels
/// (`MatmulBackends.oneDNNFloat32`), which then keep the float32 products whose B is not stored
/// transposed or that are narrower than `MatmulBackends.transposedBMinimum`; OpenBLAS (split over
/// the kernel threads) otherwise: for `alpha` other than 1,
/// `beta` other than 0 and 1, empty products, and problems oneDNN turns down. bfloat16 products
/// oneDNN turns down run as OpenBLAS sgemm on the rounded operands widened back to float32, which
/// is exact: the same inputs, float32 accumulation.
enum FloatMatmul {
    /// See `KernelScalar.gemm`.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bf16: BF16Operands?
    ) {
        guard m > 0, n > 0 else { return }
        let oneDNN = !MatmulBackends.openBLASOnly
            && (bf16 != nil || MatmulBackends.oneDNNFloat32 || transB && min(n, k) >= MatmulBackends.transposedBMinimum)
            && alpha == 1 && (beta == 0 || beta == 1) && k > 0
        let problem = OneDNNMatmul.Problem(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                                           bf16: bf16 != nil, accumulate: beta == 1, threads: KernelThreads.count)
        guard let bf16 else {
            if oneDNN && OneDNNMatmul.run(problem, a: a, b: b, c: c) { return }
            MatmulBackends.openBLASRan = true
            Float.blasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                           beta: beta, c: c, ldc: ldc)
            return
        }
        precondition(alpha == 1 && (beta == 0 || beta == 1), "bfloat16 products take alpha 1 and beta 0 or 1")
        let aSpan = span(rows: transA ? k : m, columns: transA ? m : k, stride: lda)
        let bSpan = span(rows: transB ? n : k, columns: transB ? k : n, stride: ldb)
        BF16Scratch.shared.withOperands(a: a, aRounded: bf16.a, aCount: aSpan, b: b, bRounded: bf16.b, bCount: bSpan) { a16, b16 in
            if oneDNN && OneDNNMatmul.run(problem, a: a16, b: b16, c: c) { return }
            MatmulBackends.openBLASRan = true
            BF16Scratch.shared.withWidened(a16, count: aSpan, b16, count: bSpan) { a32, b32 in
                Float.blasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a32, lda: lda, b: b32,
                               ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// Elements from the first to the last of a `[rows, columns]` matrix with row stride `stride`.
    static func span(rows: Int, columns: Int, stride: Int) -> Int {
        rows == 0 || columns == 0 ? 0 : (rows - 1) * stride + columns
    }
}

/// The switch between the matmul libraries, for measurements and tests only.
public enum MatmulBackends {
    /// Runs every `Float` product on OpenBLAS, bfloat16 ones on their widened operands (the
    /// comparison of `dpo-ddp bench-matmul` and the tests of the fallback set it; nothing else does).
    nonisolated(unsafe) public static var openBLASOnly = false

    /// Whether every float32 product goes to oneDNN: unless OpenBLAS runs its AVX-512 kernels
    /// (`SkylakeX`, `Cooperlake`, `SapphireRapids`), which beat oneDNN's float32 kernels on the
    /// GPT-2 products whose B is stored as is (forward, weight gradients: `bench-matmul`, 2 threads,
    /// 168-187 against 84-170 GFLOP/s), so only those whose B is stored transposed (input
    /// gradients, the LM head's forward: 163-172 against 190-213) still go to oneDNN then, when
    /// both their `n` and `k` are at least `transposedBMinimum`. Its `Haswell` kernels (what
    /// `OPENBLAS_CORETYPE` often forces) reach about half of oneDNN's. Tests and `bench-matmul` set
    /// it to compare.
    nonisolated(unsafe) public static var oneDNNFloat32 =
        !["skylakex", "cooperlake", "sapphirerapids"].contains(BLASCore.current.lowercased())

    /// The smallest `n` and `k` of a float32 product with B stored transposed that goes to oneDNN
    /// while `oneDNNFloat32` is off: GPT-2's input gradients and LM head (widths of 768 and up) were
    /// measured; LoRA's rank-r products and the tiny test models' stay on OpenBLAS, where a new
    /// shape costs no primitive (~15 ms to create).
    public static let transposedBMinimum = 256

    /// Whether this CPU runs bfloat16 products natively (AVX512_BF16 or AMX, as oneDNN sees it);
    /// without, oneDNN (or OpenBLAS) emulates them, slower than float32 products.
    public static var nativeBFloat16: Bool { OneDNNMatmul.nativeBFloat16 }

    /// How many oneDNN primitives (one per distinct product piece) were created so far.
    public static var oneDNNPrimitivesCreated: Int { OneDNNMatmul.created }

    /// Whether a `Float` product ran on OpenBLAS (set by `FloatMatmul.gemm`, for `kernelsInUse`).
    nonisolated(unsafe) static var openBLASRan = false

    /// The kernels of the `Float` products run so far (for `dpo-ddp bench`): oneDNN's as `f32 NAME` /
    /// `bf16 NAME`, sorted, then `OpenBLAS CORE` when any product ran on OpenBLAS.
    public static var kernelsInUse: [String] {
        OneDNNMatmul.implementations + (openBLASRan ? ["OpenBLAS \(BLASCore.current)"] : [])
    }
}

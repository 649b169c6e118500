/// One product a model runs: row-major `C[m, n] (+)= op(A)[m, k] · op(B)[k, n]`.
public struct MatmulShape: Sendable {
    /// What the product is, e.g. `h.*.mlp.c_fc forward`.
    public var name: String
    public var transA: Bool, transB: Bool
    public var m: Int, n: Int, k: Int
    /// `C += ...` (a gradient accumulated) rather than `C = ...`.
    public var accumulate: Bool

    /// A product of contiguous operands.
    public init(_ name: String, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, accumulate: Bool = false) {
        self.name = name
        self.transA = transA
        self.transB = transB
        self.m = m
        self.n = n
        self.k = k
        self.accumulate = accumulate
    }

    /// Floating-point operations of one product.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// GFLOP/s of one shape in each backend, and the kernels that ran.
public struct MatmulTiming: Sendable {
    public var shape: MatmulShape
    /// OpenBLAS sgemm split over the kernel threads.
    public var openBLAS: Double
    /// oneDNN float32, and its implementation name (nil when oneDNN has none: OpenBLAS ran).
    public var oneDNN: Double
    public var oneDNNImplementation: String?
    /// oneDNN with bfloat16 inputs (operands pre-rounded, as the model's weights are), and its
    /// implementation name (nil: OpenBLAS on the widened operands ran).
    public var bf16: Double
    public var bf16Implementation: String?
}

/// Times the matmul backends on given shapes with the threads in use (`dpo-ddp bench-matmul`,
/// `dpo-ddp bench`'s ceilings). Each round runs every backend once, interleaved, so that load from
/// other processes hits them alike; the best round is kept.
public enum MatmulBenchmark {
    /// Every shape in every backend, best of `repeats` rounds after one warm-up round.
    public static func measure(_ shapes: [MatmulShape], repeats: Int = 5) -> [MatmulTiming] {
        shapes.map { shape in
            let operands = Operands(shape)
            defer { operands.deallocate() }
            var best = [Double](repeating: .infinity, count: 3)
            for round in 0...repeats {
                for backend in 0..<3 {
                    let seconds = operands.time(backend: backend)
                    if round > 0 { best[backend] = min(best[backend], seconds) }
                }
            }
            return MatmulTiming(shape: shape, openBLAS: shape.flops / best[0] / 1e9,
                                oneDNN: shape.flops / best[1] / 1e9, oneDNNImplementation: implementation(shape, bf16: false),
                                bf16: shape.flops / best[2] / 1e9, bf16Implementation: implementation(shape, bf16: true))
        }
    }

    /// GFLOP/s of the backend the model uses on a `size`³ product, float32 or bfloat16 inputs
    /// (pre-rounded), best of `repeats` after one warm-up: the ceiling a model's step is measured against.
    public static func ceiling(size: Int = 2048, bf16: Bool, repeats: Int = 5) -> Double {
        let shape = MatmulShape("ceiling", m: size, n: size, k: size)
        let operands = Operands(shape)
        defer { operands.deallocate() }
        var best = Double.infinity
        for round in 0...repeats {
            let seconds = operands.time(backend: bf16 ? 2 : MatmulBackends.oneDNNFloat32 ? 1 : 0)
            if round > 0 { best = min(best, seconds) }
        }
        return shape.flops / best / 1e9
    }

    /// oneDNN's implementation name for `shape` with the threads in use, or nil when it has none.
    public static func implementation(_ shape: MatmulShape, bf16: Bool) -> String? {
        OneDNNMatmul.implementation(of: problem(shape, bf16: bf16))
    }

    static func problem(_ s: MatmulShape, bf16: Bool) -> OneDNNMatmul.Problem {
        OneDNNMatmul.Problem(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                             lda: s.transA ? s.m : s.k, ldb: s.transB ? s.k : s.n, ldc: s.n,
                             bf16: bf16, accumulate: s.accumulate, threads: KernelThreads.count)
    }

    /// A shape's operands (small nonzero values, float32 and bfloat16) and output.
    final class Operands {
        let shape: MatmulShape
        let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>
        let a16: UnsafeMutablePointer<UInt16>, b16: UnsafeMutablePointer<UInt16>

        init(_ shape: MatmulShape) {
            self.shape = shape
            let aCount = shape.m * shape.k, bCount = shape.k * shape.n
            a = .allocate(capacity: aCount)
            b = .allocate(capacity: bCount)
            c = .allocate(capacity: shape.m * shape.n)
            a16 = .allocate(capacity: aCount)
            b16 = .allocate(capacity: bCount)
            for i in 0..<aCount { a[i] = Float(i % 7 - 3) * 1e-3 }
            for i in 0..<bCount { b[i] = Float(i % 5 - 2) * 1e-3 }
            c.initialize(repeating: 0, count: shape.m * shape.n)
            BFloat16.round(a, into: a16, count: aCount)
            BFloat16.round(b, into: b16, count: bCount)
        }

        func deallocate() {
            for p in [a, b, c] { p.deallocate() }
            a16.deallocate()
            b16.deallocate()
        }

        /// Seconds of one product: backend 0 OpenBLAS, 1 oneDNN float32, 2 oneDNN bfloat16.
        func time(backend: Int) -> Double {
            let s = shape
            let oneDNNFloat32 = MatmulBackends.oneDNNFloat32
            MatmulBackends.openBLASOnly = backend == 0
            MatmulBackends.oneDNNFloat32 = backend == 1
            defer {
                MatmulBackends.openBLASOnly = false
                MatmulBackends.oneDNNFloat32 = oneDNNFloat32
            }
            let start = ContinuousClock.now
            Float.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1,
                       a: a, lda: s.transA ? s.m : s.k, b: b, ldb: s.transB ? s.k : s.n,
                       beta: s.accumulate ? 1 : 0, c: c, ldc: s.n, bf16: backend == 2 ? BF16Operands(a: a16, b: b16) : nil)
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }
}

import CDNNL
import Foundation

/// Matrix products by oneDNN's matmul primitive: float32, or bfloat16 inputs with float32
/// accumulation and output. oneDNN picks its kernels from the CPU at run time (AVX2, AVX-512,
/// AVX512_BF16, AMX), whatever `OPENBLAS_CORETYPE` says.
///
/// A primitive is created once per problem (shape, strides, transpositions, precision,
/// accumulation, thread count) and cached; creating one costs far more than a small product.
/// oneDNN runs each product on its own OpenMP threads, as many as `KernelThreads.count`.
/// Calls are serialised by a lock (the cached memory objects are reused); the model runs one
/// product at a time anyway.
enum OneDNNMatmul {
    /// One product's description: the cache key.
    struct Problem: Hashable {
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int
        var lda: Int, ldb: Int, ldc: Int
        /// Inputs in bfloat16 (else float32); the output is float32 either way.
        var bf16: Bool
        /// `C += A·B` (oneDNN's sum post-op) rather than `C = A·B`.
        var accumulate: Bool
        var threads: Int
    }

    /// A part of a product: its problem, and where its `A`, `B` and `C` start (in elements) in the whole one's.
    struct Piece: Equatable {
        var problem: Problem
        var a: Int, b: Int, c: Int
    }

    /// A created primitive with the memory objects its executions reuse.
    final class Primitive {
        let primitive: dnnl_primitive_t
        let a: dnnl_memory_t, b: dnnl_memory_t, c: dnnl_memory_t
        /// oneDNN's name for the kernel it chose, e.g. `brg:avx512_core_amx`.
        let implementation: String

        init(primitive: dnnl_primitive_t, a: dnnl_memory_t, b: dnnl_memory_t, c: dnnl_memory_t, implementation: String) {
            self.primitive = primitive
            self.a = a
            self.b = b
            self.c = c
            self.implementation = implementation
        }
    }

    /// The CPU engine and its stream, or nil when oneDNN cannot make them (then every product
    /// falls back to OpenBLAS).
    private static let device: (engine: dnnl_engine_t, stream: dnnl_stream_t)? = {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success,
              let stream else { return nil }
        return (engine, stream)
    }()

    /// Whether oneDNN's effective instruction set includes AVX512_BF16 (AMX includes it).
    static var nativeBFloat16: Bool {
        let isa = dnnl_get_effective_cpu_isa().rawValue, bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return isa & bf16 == bf16
    }

    private static let lock = NSLock()
    /// Created primitives by problem; nil records a problem oneDNN does not implement.
    nonisolated(unsafe) private static var cache: [Problem: Primitive?] = [:]
    /// How many primitives were created (each distinct problem once).
    nonisolated(unsafe) private(set) static var created = 0

    /// Runs `C (+)= op(A)·op(B)` (row-major, strides as stored) and returns true, or returns false
    /// when oneDNN has no implementation for the problem (nothing is written then).
    /// With `bf16`, `a` and `b` point to bfloat16 bit patterns (`UInt16`), else to `Float`.
    ///
    /// The rows (`m`) and the depth (`k`) run in at most two pieces each: the largest multiple of
    /// `shapeQuantum`, then the rest (the depth's second piece accumulates onto the first). Batches of
    /// varying lengths then need at most (longest / quantum + quantum) primitives per layer product,
    /// not one per length: creating one costs ~15 ms (its kernels are generated code), and a run on
    /// data of varying lengths met a new length at almost every step.
    static func run(_ problem: Problem, a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutablePointer<Float>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let device else { return false }
        var runs: [(Primitive, a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutablePointer<Float>)] = []
        let size = problem.bf16 ? MemoryLayout<UInt16>.stride : MemoryLayout<Float>.stride
        for piece in problem.pieces {
            guard let primitive = primitive(for: piece.problem, engine: device.engine) else { return false }
            runs.append((primitive, a + piece.a * size, b + piece.b * size, c + piece.c))
        }
        _ = dpo_omp_set_num_threads(Int32(problem.threads))
        for (primitive, a, b, c) in runs {
            dnnl_memory_set_data_handle(primitive.a, UnsafeMutableRawPointer(mutating: a))
            dnnl_memory_set_data_handle(primitive.b, UnsafeMutableRawPointer(mutating: b))
            dnnl_memory_set_data_handle(primitive.c, UnsafeMutableRawPointer(c))
            let args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: primitive.a),
                        dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: primitive.b),
                        dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: primitive.c)]
            let status = dnnl_primitive_execute(primitive.primitive, device.stream, Int32(args.count), args)
            precondition(status == dnnl_success, "oneDNN matmul failed (status \(status.rawValue)) for \(problem)")
            dnnl_stream_wait(device.stream)
        }
        return true
    }

    /// The granularity of the rows and depths primitives are created for (see `run`).
    static let shapeQuantum = 64

    /// The distinct implementations of the created primitives, as `f32 NAME` / `bf16 NAME`, sorted.
    static var implementations: [String] {
        lock.lock()
        defer { lock.unlock() }
        return Set(cache.compactMap { problem, primitive in
            primitive.map { (problem.bf16 ? "bf16 " : "f32 ") + $0.implementation }
        }).sorted()
    }

    /// The implementation oneDNN chose for `problem` (creating its primitive if needed), or nil
    /// when it has none.
    static func implementation(of problem: Problem) -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard let device else { return nil }
        return primitive(for: problem, engine: device.engine)?.implementation
    }

    /// The cached primitive of `problem`, created on first use. Call with `lock` held.
    private static func primitive(for problem: Problem, engine: dnnl_engine_t) -> Primitive? {
        if let known = cache[problem] { return known }
        let made = create(problem, engine: engine)
        cache[problem] = made
        created += 1
        return made
    }

    private static func create(_ p: Problem, engine: dnnl_engine_t) -> Primitive? {
        let input = p.bf16 ? dnnl_bf16 : dnnl_f32
        var aDesc = matrix(rows: p.m, columns: p.k, transposed: p.transA, stride: p.lda, type: input)
        var bDesc = matrix(rows: p.k, columns: p.n, transposed: p.transB, stride: p.ldb, type: input)
        var cDesc = matrix(rows: p.m, columns: p.n, transposed: false, stride: p.ldc, type: dnnl_f32)
        var desc = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&desc, &aDesc, &bDesc, nil, &cDesc) == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?
        dnnl_primitive_attr_create(&attr)
        defer { dnnl_primitive_attr_destroy(attr) }
        if p.accumulate {
            var ops: dnnl_post_ops_t?
            dnnl_post_ops_create(&ops)
            dnnl_post_ops_append_sum(ops, 1)
            dnnl_primitive_attr_set_post_ops(attr, ops)
            dnnl_post_ops_destroy(ops)
        }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        var primitive: dnnl_primitive_t?
        var a: dnnl_memory_t?, b: dnnl_memory_t?, c: dnnl_memory_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive,
              dnnl_memory_create(&a, &aDesc, engine, nil) == dnnl_success, let a,
              dnnl_memory_create(&b, &bDesc, engine, nil) == dnnl_success, let b,
              dnnl_memory_create(&c, &cDesc, engine, nil) == dnnl_success, let c
        else { return nil }
        return Primitive(primitive: primitive, a: a, b: b, c: c, implementation: name.map { String(cString: $0) } ?? "?")
    }

    /// A `[rows, columns]` matrix stored row-major with row stride `stride`, or stored transposed
    /// (`[columns, rows]` with row stride `stride`).
    private static func matrix(rows: Int, columns: Int, transposed: Bool, stride: Int, type: dnnl_data_type_t) -> dnnl_memory_desc_t {
        var desc = dnnl_memory_desc_t()
        let dims: [dnnl_dim_t] = [dnnl_dim_t(rows), dnnl_dim_t(columns)]
        let strides: [dnnl_dim_t] = transposed ? [1, dnnl_dim_t(stride)] : [dnnl_dim_t(stride), 1]
        dnnl_memory_desc_init_by_strides(&desc, 2, dims, type, strides)
        return desc
    }
}

extension OneDNNMatmul.Problem {
    /// `0..<count` as the largest multiple of `quantum` and the rest (one piece when either is empty).
    static func split(_ count: Int, _ quantum: Int) -> [(start: Int, count: Int)] {
        let whole = count / quantum * quantum
        return whole == 0 || whole == count ? [(0, count)] : [(0, whole), (whole, count - whole)]
    }

    /// This product as the products of `OneDNNMatmul.run`'s pieces, in the order they run: rows
    /// split at a multiple of `shapeQuantum`, and within each row piece the depth, whose second piece
    /// accumulates onto the first. Together they compute exactly the rows and sums of the whole.
    ///
    /// Rows of an `A` stored transposed stay whole: oneDNN 2.6's brgemm takes such an `A` only when
    /// its stride equals the rows read (else it picks `gemm:jit`, at 250 against 380 GFLOP/s for the
    /// LM head's 50,257 x 256 x 768 weight gradient), and those rows are a model dimension (input
    /// channels, the vocabulary) that never varies between batches.
    var pieces: [OneDNNMatmul.Piece] {
        let quantum = OneDNNMatmul.shapeQuantum
        var pieces: [OneDNNMatmul.Piece] = []
        for rows in transA ? [(start: 0, count: m)] : Self.split(m, quantum) {
            for (index, depth) in Self.split(k, quantum).enumerated() {
                var piece = self
                piece.m = rows.count
                piece.k = depth.count
                piece.accumulate = accumulate || index > 0
                pieces.append(OneDNNMatmul.Piece(
                    problem: piece,
                    a: transA ? depth.start * lda + rows.start : rows.start * lda + depth.start,
                    b: transB ? depth.start : depth.start * ldb,
                    c: rows.start * ldc))
            }
        }
        return pieces
    }
}

import CDNNL
import Foundation

/// Matrix products by oneDNN's matmul primitive: float32, or bfloat16 inputs with float32
/// accumulation and output. oneDNN picks its kernels from the CPU at run time (AVX2, AVX-512,
/// AVX512_BF16, AMX), whatever `OPENBLAS_CORETYPE` says.
///
/// A primitive is created once per problem (shape, strides, transpositions, precision,
/// accumulation, thread count) and cached; creating one costs far more than a small product.
/// A layer's product runs as one single-threaded primitive per kernel thread, each on its own
/// rows (see `Problem.rowParts`); the rest run on oneDNN's OpenMP threads, as many as
/// `KernelThreads.count`. Calls are serialised by a lock (the cache and the execution slots are
/// shared); the model runs one product at a time anyway.
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

    /// A created primitive, with the memory objects (A, B, C, scratchpad) each execution slot reuses.
    final class Primitive {
        let primitive: dnnl_primitive_t
        /// The descriptions of A, B, C and the scratchpad, in that order.
        let descriptions: [dnnl_memory_desc_t]
        /// Bytes of scratchpad an execution needs (the caller provides it: user scratchpad mode).
        let scratchpadBytes: Int
        /// oneDNN's name for the kernel it chose, e.g. `brg:avx512_core_amx`.
        let implementation: String
        private var memories: [[dnnl_memory_t]] = []

        init(primitive: dnnl_primitive_t, descriptions: [dnnl_memory_desc_t], scratchpadBytes: Int, implementation: String) {
            self.primitive = primitive
            self.descriptions = descriptions
            self.scratchpadBytes = scratchpadBytes
            self.implementation = implementation
        }

        /// The memory objects of execution slot `slot`, made on first use. Call with `lock` held.
        func memories(slot: Int, engine: dnnl_engine_t) -> [dnnl_memory_t]? {
            while memories.count <= slot {
                var made: [dnnl_memory_t] = []
                for var description in descriptions {
                    var memory: dnnl_memory_t?
                    guard dnnl_memory_create(&memory, &description, engine, nil) == dnnl_success, let memory else { return nil }
                    made.append(memory)
                }
                memories.append(made)
            }
            return memories[slot]
        }
    }

    /// What one thread running products needs of its own: a stream, and scratchpad memory as large
    /// as the largest its primitives asked for.
    final class Slot {
        let stream: dnnl_stream_t
        private(set) var scratchpad: UnsafeMutableRawPointer?
        private var capacity = 0

        init(stream: dnnl_stream_t) { self.stream = stream }

        /// Grows the scratchpad to at least `bytes`. Call with `lock` held, before any execution.
        func reserve(_ bytes: Int) {
            guard bytes > capacity else { return }
            scratchpad?.deallocate()
            scratchpad = .allocate(byteCount: bytes, alignment: 64)
            capacity = bytes
        }
    }

    /// One primitive execution: its primitive, its slot's memory objects and the operands' addresses.
    struct Execution {
        var primitive: Primitive
        var memories: [dnnl_memory_t]
        var a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutablePointer<Float>
    }

    /// The CPU engine, or nil when oneDNN cannot make one (then every product falls back to OpenBLAS).
    private static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success else { return nil }
        return engine
    }()

    /// Execution slots by index (slot `i` serves row part `i`; slot 0 also every whole product).
    nonisolated(unsafe) private static var slots: [Slot] = []

    /// Slot `index`, made on first use. Call with `lock` held.
    private static func slot(_ index: Int, engine: dnnl_engine_t) -> Slot? {
        while slots.count <= index {
            var stream: dnnl_stream_t?
            guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success,
                  let stream else { return nil }
            slots.append(Slot(stream: stream))
        }
        return slots[index]
    }

    /// Whether the kernel threads are an OpenMP team (libdnnl's runtime), on which single-threaded
    /// primitives can run side by side; else every product runs whole.
    private static let onTeam = dpo_omp().pointee.parallel != nil

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
    /// The token dimension (the rows of an `A` stored as is, the depth of one stored transposed) runs
    /// in at most two pieces: the largest multiple of `shapeQuantum`, then the rest (see
    /// `Problem.pieces`). Batches of varying lengths then need at most (longest / quantum + quantum)
    /// primitives per layer product, not one per length: creating one costs ~15 ms (its kernels are
    /// generated code), and a run on data of varying lengths met a new length at almost every step.
    static func run(_ problem: Problem, a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutablePointer<Float>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let engine else { return false }
        let parts = onTeam ? problem.rowParts : [(start: 0, count: problem.m)]
        let size = problem.bf16 ? MemoryLayout<UInt16>.stride : MemoryLayout<Float>.stride
        var work: [(Slot, [Execution])] = []
        for (index, part) in parts.enumerated() {
            var rows = problem
            rows.m = part.count
            if parts.count > 1 { rows.threads = 1 }
            guard let slot = slot(index, engine: engine) else { return false }
            var executions: [Execution] = []
            for piece in rows.pieces {
                guard let primitive = primitive(for: piece.problem, engine: engine),
                      let memories = primitive.memories(slot: index, engine: engine) else { return false }
                slot.reserve(primitive.scratchpadBytes)
                executions.append(Execution(primitive: primitive, memories: memories,
                                            a: a + (part.start * problem.lda + piece.a) * size,
                                            b: b + piece.b * size, c: c + part.start * problem.ldc + piece.c))
            }
            work.append((slot, executions))
        }
        if work.count == 1 {
            _ = dpo_omp_set_num_threads(Int32(problem.threads))
            execute(work[0].1, on: work[0].0, problem: problem)
        } else {
            parallelRanges(work.count) { range in
                for part in range { execute(work[part].1, on: work[part].0, problem: problem) }
            }
        }
        return true
    }

    /// Runs `executions` in order on `slot`'s stream and scratchpad.
    private static func execute(_ executions: [Execution], on slot: Slot, problem: Problem) {
        for run in executions {
            let memories = run.memories
            dnnl_memory_set_data_handle(memories[0], UnsafeMutableRawPointer(mutating: run.a))
            dnnl_memory_set_data_handle(memories[1], UnsafeMutableRawPointer(mutating: run.b))
            dnnl_memory_set_data_handle(memories[2], UnsafeMutableRawPointer(run.c))
            dnnl_memory_set_data_handle(memories[3], slot.scratchpad)
            let args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: memories[0]),
                        dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: memories[1]),
                        dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: memories[2]),
                        dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memories[3])]
            let status = dnnl_primitive_execute(run.primitive.primitive, slot.stream, Int32(args.count), args)
            precondition(status == dnnl_success, "oneDNN matmul failed (status \(status.rawValue)) for \(problem)")
            dnnl_stream_wait(slot.stream)
        }
    }

    /// The granularity of the rows and depths primitives are created for (see `run`).
    static let shapeQuantum = 64

    /// The most elements of B a product splits its rows over the kernel threads with (see `Problem.rowParts`):
    /// every GPT-2 size's layer weights (gpt2-xl's largest: 10.2M), not the LM head (38.6M and up).
    static let rowSplitLimit = 1 << 24

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
        guard let engine else { return nil }
        return primitive(for: problem, engine: engine)?.implementation
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
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)
        if p.accumulate {
            var ops: dnnl_post_ops_t?
            dnnl_post_ops_create(&ops)
            dnnl_post_ops_append_sum(ops, 1)
            dnnl_primitive_attr_set_post_ops(attr, ops)
            dnnl_post_ops_destroy(ops)
        }
        // oneDNN plans its split of the work for the calling thread's team size at creation.
        _ = dpo_omp_set_num_threads(Int32(p.threads))
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        guard let scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)?.pointee else { return nil }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else { return nil }
        var scratchpadDesc = scratchpad
        return Primitive(primitive: primitive, descriptions: [aDesc, bDesc, cDesc, scratchpad],
                         scratchpadBytes: dnnl_memory_desc_get_size(&scratchpadDesc),
                         implementation: name.map { String(cString: $0) } ?? "?")
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
    /// The rows each kernel thread computes with a single-threaded primitive, or all rows in one
    /// part (run on oneDNN's threads). Parts start at multiples of `shapeQuantum`; the last takes
    /// the rest.
    ///
    /// oneDNN 2.6's own split of a GPT-2 layer product over two threads left one thread idle for
    /// part of it: 384-row products with a depth of 768 or 2,304 ran 1.28-1.33x faster as two
    /// single-threaded halves of the rows (1.0x at a depth of 3,072; a C program alternating both,
    /// AMX bf16). Each part reads all of B, so a B larger than `rowSplitLimit` elements (the LM
    /// head's vocabulary: 0.88x) stays whole, and so does an `A` stored transposed (see `pieces`).
    var rowParts: [(start: Int, count: Int)] {
        let quantum = OneDNNMatmul.shapeQuantum
        let parts = min(threads, m / quantum)
        guard parts > 1, tokensAreRows, k * n <= OneDNNMatmul.rowSplitLimit else { return [(0, m)] }
        let blocks = m / quantum
        return (0..<parts).map { part in
            let start = part * blocks / parts * quantum
            let end = part == parts - 1 ? m : (part + 1) * blocks / parts * quantum
            return (start, end - start)
        }
    }

    /// Whether the dimension of `A` that varies between batches (its tokens) is the rows (`A` stored
    /// as is: forward products, input gradients), else the depth (`A` stored transposed: weight
    /// gradients). Only that dimension is ever cut (`pieces`, `rowParts`): the other is a model
    /// dimension, and oneDNN's brgemm wants `A`'s stride equal to it.
    var tokensAreRows: Bool { !transA }

    /// `0..<count` as the largest multiple of `quantum` and the rest (one piece when either is empty).
    static func split(_ count: Int, _ quantum: Int) -> [(start: Int, count: Int)] {
        let whole = count / quantum * quantum
        return whole == 0 || whole == count ? [(0, count)] : [(0, whole), (whole, count - whole)]
    }

    /// This product as the products of `OneDNNMatmul.run`'s pieces, in the order they run: the
    /// dimension of `A` that varies between batches (its tokens) split at a multiple of
    /// `shapeQuantum`, which is the rows of an `A` stored as is and the depth of one stored
    /// transposed (a weight gradient), whose second piece accumulates onto the first. Together they
    /// compute exactly the rows and sums of the whole.
    ///
    /// The other dimension of `A` stays whole: it is a model dimension (channels, the vocabulary)
    /// that never varies, and oneDNN 2.6's brgemm takes `A` only when its stride equals that
    /// dimension (else it picks `gemm:jit`: 250 against 380 GFLOP/s for the LM head's 50,257 x 256
    /// x 768 weight gradient with its rows split; the LM head's input gradient, a depth of 50,257
    /// split as 50,240 + 17, ran two `gemm:jit` primitives).
    var pieces: [OneDNNMatmul.Piece] {
        let quantum = OneDNNMatmul.shapeQuantum
        var pieces: [OneDNNMatmul.Piece] = []
        for rows in tokensAreRows ? Self.split(m, quantum) : [(start: 0, count: m)] {
            for (index, depth) in (tokensAreRows ? [(start: 0, count: k)] : Self.split(k, quantum)).enumerated() {
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

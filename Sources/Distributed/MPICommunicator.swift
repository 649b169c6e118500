import Foundation
import MPIShim

/// The processes of `MPI_COMM_WORLD`, started by `mpirun`, `srun` or another MPI launcher.
///
/// Creating one initializes MPI (`MPI_Init_thread` with `MPI_THREAD_FUNNELED`) unless it is
/// initialized already, and makes MPI return errors as codes (`MPI_ERRORS_RETURN`), which every
/// method turns into a thrown `MPIError`. Call `finalize()` once training is done; MPI cannot be
/// initialized again in the same process after that.
///
/// Buffers longer than `maxChunkCount` elements (bytes, for `broadcast`) are sent in several
/// collective calls, because MPI counts elements with a 32-bit `int`. Non-blocking operations
/// (`startAllReduceSum`, `startReduceSum`) are kept as MPI requests until `waitAll()`.
///
/// Every collective is started non-blocking and waited for on the calling thread by testing it,
/// so that a wait longer than `collectiveTimeout` ends the job with a message instead of hanging
/// (see `MPICommunicator+Watchdog.swift`).
public final class MPICommunicator: Communicator {
    /// The largest element count MPI accepts in one call: `Int32.max`.
    public static let defaultMaxChunkCount = Int(Int32.max)

    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int

    /// The number of processes in `MPI_COMM_WORLD`.
    public let size: Int

    /// The most elements (bytes, for `broadcast`) passed to one MPI call.
    public let maxChunkCount: Int

    let world: MPI_Comm

    /// The requests of the operations started since the last `waitAll()`.
    var pending: [MPI_Request?] = []

    /// The MPI name of the last operation in `pending`, for the watchdog's message.
    var pendingOperation = ""

    /// The bfloat16 copies of `pending` operations sent as `.bf16`, and the buffer each result is
    /// widened into (nil on a rank that does not receive it).
    var staged: [(copy: UnsafeMutableBufferPointer<UInt16>, destination: UnsafeMutablePointer<Float>?)] = []

    /// Bytes sent in all-reduces, reductions and all-gathers so far, as ring algorithms send them.
    public internal(set) var bytesSent = 0

    /// Seconds a rank may wait in one collective for the others before it aborts the job, or nil
    /// to wait forever. Default 30 minutes.
    public var collectiveTimeout: Double? = 1800

    /// What this rank is doing ("start-up", "step 12"), named when a collective times out.
    public var activity = "start-up"

    /// Collectives started so far. Every rank starts the same ones in the same order, so equal
    /// counts mean the same collective; the watchdog compares them across ranks.
    var collectivesStarted = 0

    /// A duplicate of `world` for the watchdog's questions and answers, so that they can never
    /// match a message of the training itself.
    let watchdogChannel: MPI_Comm

    /// Open MPI's non-blocking collectives allocate a temporary copy of each bucket they reduce
    /// (tens of MB) and free it afterwards. glibc returns such blocks to the kernel (mmap/munmap),
    /// so every step faulted ~150 MB of fresh zeroed pages back in (38,000 page faults per step at
    /// np=2, 0.05 s). Served from the heap and never trimmed, the same memory is reused: 0 faults.
    static func keepFreedMemoryMapped() { dpo_keep_freed_memory_mapped() }

    /// Makes Open MPI all-reduce non-blocking buckets with its ring algorithm (reduce-scatter,
    /// then all-gather: each rank sends and receives 2·(p−1)/p of a bucket, and every rank ends
    /// with the same bits), unless the user chose one (`--mca coll_libnbc_iallreduce_algorithm`,
    /// which mpirun passes as this variable). Its default at np=2 exchanged whole buckets: GPT-2
    /// 124M spent 7.2-8.0% of a step blocked in communication with it, 5.1-5.4% with the ring.
    /// Read by MPI_Init only; other MPI libraries ignore it.
    public static func preferRingAllReduce() { setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0) }

    /// Initializes MPI and reads this process's rank and the world size.
    ///
    /// - Parameter maxChunkCount: the most elements per MPI call, in `1...Int32.max`; tests pass
    ///   small values to exercise chunking.
    /// - Throws: `MPIError` when MPI was finalized already or fails to initialize.
    public init(maxChunkCount: Int = MPICommunicator.defaultMaxChunkCount) throws {
        precondition((1...Self.defaultMaxChunkCount).contains(maxChunkCount),
                     "maxChunkCount must be in 1...\(Self.defaultMaxChunkCount), got \(maxChunkCount)")
        guard dpo_mpi_is_finalized() == 0 else {
            throw MPIError(operation: "MPI_Init_thread", code: nil,
                           message: "MPI was finalized in this process and cannot be initialized again")
        }
        Self.preferRingAllReduce()
        try Self.check(dpo_mpi_init(), "MPI_Init_thread")
        Self.keepFreedMemoryMapped()
        let world: MPI_Comm = dpo_mpi_comm_world()
        var rank: Int32 = 0
        var size: Int32 = 0
        try Self.check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(world, &size), "MPI_Comm_size")
        var channel: MPI_Comm?
        try Self.check(MPI_Comm_dup(world, &channel), "MPI_Comm_dup")
        self.watchdogChannel = channel!
        self.world = world
        self.rank = Int(rank)
        self.size = Int(size)
        self.maxChunkCount = maxChunkCount
    }

    /// Sums `buffer` over all ranks, in place (`MPI_Iallreduce` with `MPI_SUM`, waited for).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(buffer, dpo_mpi_float(), dpo_mpi_sum())
    }

    /// Sums `buffer` over all ranks, in place (`MPI_Iallreduce` with `MPI_SUM`, waited for).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allReduce(buffer, dpo_mpi_double(), dpo_mpi_sum())
    }

    /// Sums `buffer` over all ranks, in place (`MPI_Iallreduce` with `MPI_SUM`, waited for).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {
        try allReduce(buffer, dpo_mpi_int64(), dpo_mpi_sum())
    }

    /// Takes the elementwise maximum of `buffer` over all ranks, in place (`MPI_MAX`).
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(buffer, dpo_mpi_float(), dpo_mpi_max())
    }

    /// Takes the elementwise maximum of `buffer` over all ranks, in place (`MPI_MAX`).
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allReduce(buffer, dpo_mpi_double(), dpo_mpi_max())
    }

    /// Takes the elementwise maximum of `buffer` over all ranks, in place (`MPI_MAX`).
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {
        try allReduce(buffer, dpo_mpi_int64(), dpo_mpi_max())
    }

    /// Copies `root`'s bytes to every other rank (`MPI_Ibcast`, then waiting for it).
    ///
    /// MPI itself checks `root`, so an invalid one comes back as MPI's `MPI_ERR_ROOT` error.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try requireActive("MPI_Ibcast")
        guard let base = buffer.baseAddress else { return }
        let mpiRoot = Int32(clamping: root)
        try forEachChunk(buffer.count) { start, count in
            try collective("MPI_Ibcast") { MPI_Ibcast(base + start, count, dpo_mpi_byte(), mpiRoot, world, &$0) }
        }
    }

    /// Returns once every rank has reached it (`MPI_Ibarrier`, then waiting for it).
    public func barrier() throws {
        try requireActive("MPI_Ibarrier")
        try collective("MPI_Ibarrier") { MPI_Ibarrier(world, &$0) }
    }

    /// Finalizes MPI (`MPI_Finalize`); does nothing when MPI is finalized already.
    public func finalize() throws {
        guard dpo_mpi_is_finalized() == 0 else { return }
        try Self.check(dpo_mpi_finalize(), "MPI_Finalize")
    }

    /// Prints `rank R: message` to standard error, then ends every rank (`MPI_Abort`), or only
    /// this process when MPI is finalized already.
    public func abort(message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message)\n".utf8))
        guard dpo_mpi_is_finalized() == 0 else { exit(code) }
        dpo_mpi_abort(code)
    }

    /// `MPI_Iallreduce` in place, then waiting for it, in chunks of at most `maxChunkCount` elements.
    private func allReduce<Element>(
        _ buffer: UnsafeMutableBufferPointer<Element>, _ datatype: MPI_Datatype, _ operation: MPI_Op
    ) throws {
        try requireActive("MPI_Iallreduce")
        guard let base = buffer.baseAddress else { return }
        try forEachChunk(buffer.count) { start, count in
            try collective("MPI_Iallreduce") {
                MPI_Iallreduce(dpo_mpi_in_place(), base + start, count, datatype, operation, world, &$0)
            }
            countSent(Int(count) * MemoryLayout<Element>.size, allReduced: true)
        }
    }

    /// Calls `body` with the start and length of each chunk of at most `maxChunkCount` of
    /// `count` elements, in order.
    func forEachChunk(_ count: Int, _ body: (_ start: Int, _ count: Int32) throws -> Void) rethrows {
        for start in stride(from: 0, to: count, by: maxChunkCount) {
            try body(start, Int32(min(maxChunkCount, count - start)))
        }
    }

    /// Throws instead of letting Open MPI abort the job on a call after `MPI_Finalize`.
    func requireActive(_ operation: String) throws {
        guard dpo_mpi_is_finalized() == 0 else {
            throw MPIError(operation: operation, code: nil, message: "MPI was finalized already")
        }
    }

    /// Turns an MPI return code into an `MPIError` carrying MPI's own description of it.
    static func check(_ code: Int32, _ operation: String) throws {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: 512)  // Open MPI's MPI_MAX_ERROR_STRING is 256
        dpo_mpi_error_string(code, &text, Int32(text.count))
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        throw MPIError(operation: operation, code: code, message: String(decoding: bytes, as: UTF8.self))
    }
}

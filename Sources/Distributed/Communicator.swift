/// A group of cooperating processes ("ranks") that can combine and share buffers.
///
/// Every rank of the group must make the same sequence of collective calls (`allReduceSum`,
/// `allReduceMax`, `startAllReduceSum`, `startReduceSum`, `allGather`, `gather`, `broadcast`,
/// `barrier`, `finalize`) with buffers of the same length, as in MPI.
/// A communicator is used from one thread only: MPI is initialized with
/// `MPI_THREAD_FUNNELED`, so conforming types are deliberately not `Sendable`.
public protocol Communicator: AnyObject {
    /// This process's index in the group, in `0..<size`.
    var rank: Int { get }

    /// The number of processes in the group.
    var size: Int { get }

    /// Seconds a rank may wait in one collective for the others before it ends the job with a
    /// message naming the ranks that did not arrive; nil waits forever.
    var collectiveTimeout: Double? { get set }

    /// What this rank is doing ("start-up", "step 12"), named in the watchdog's message.
    var activity: String { get set }

    /// Replaces every element with its sum over all ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws

    /// Replaces every element with its sum over all ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws

    /// Replaces every element with its sum over all ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Int64>) throws

    /// Replaces every element with its maximum over all ranks, in place.
    func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws

    /// Replaces every element with its maximum over all ranks, in place.
    func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws

    /// Replaces every element with its maximum over all ranks, in place.
    func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws

    /// Starts replacing every element of `buffer` with its sum over all ranks, in place, sent as
    /// `wire`, and returns at once. `buffer` must stay allocated and unchanged until `waitAll()`
    /// returns.
    func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, as wire: WireFormat) throws

    /// Starts replacing every element of `root`'s `buffer` with its sum over all ranks, sent as
    /// `wire`, and returns at once; the other ranks' buffers keep their values. `buffer` must stay
    /// allocated and unchanged until `waitAll()` returns.
    ///
    /// - Throws: `MPIError` when `root` is not in `0..<size` or the operation cannot start.
    func startReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int, as wire: WireFormat) throws

    /// Bytes this rank has sent in all-reduces, reductions and all-gathers so far, counted as ring
    /// algorithms send them: 2·(p−1)/p of an all-reduced buffer, (p−1)/p of a reduced or gathered one.
    var bytesSent: Int { get }

    /// Advances the operations started since the last `waitAll()` without blocking, and returns
    /// whether all of them have completed. An implementation without a progress thread (Open MPI)
    /// moves non-blocking operations only inside calls like this one.
    @discardableResult
    func progress() throws -> Bool

    /// Returns once every operation started since the last `waitAll()` has completed.
    func waitAll() throws

    /// Copies each rank's part of `buffer` into every other rank's `buffer`: rank `r` contributes
    /// `buffer[shards[r]]`. `shards` has one range per rank, the same on every rank.
    ///
    /// - Throws: `MPIError` when `shards` does not fit the group or the buffer, or the transfer fails.
    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws

    /// Copies each rank's `shard` (`shards[rank].count` elements) into `root`'s `whole` at
    /// `shards[rank]`. `whole` is only written on `root`; other ranks may pass an empty buffer.
    ///
    /// - Throws: `MPIError` when `root` is not in `0..<size`, `shards` does not fit, or the
    ///   transfer fails.
    func gather(_ shard: UnsafeBufferPointer<Float>, into whole: UnsafeMutableBufferPointer<Float>,
                shards: [Range<Int>], root: Int) throws

    /// Copies `root`'s bytes into `buffer` on every other rank.
    ///
    /// - Throws: `MPIError` when `root` is not in `0..<size` or the transfer fails.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws

    /// Returns once every rank has called `barrier()`.
    func barrier() throws

    /// Ends this process's part in the group; no collective call may follow.
    /// Calling it again does nothing.
    func finalize() throws

    /// Prints `rank R: message` to standard error and ends the whole job (every rank) with `code`.
    func abort(message: String, code: Int32) -> Never
}

extension Communicator {
    /// `startAllReduceSum(_:as:)` in float32.
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try startAllReduceSum(buffer, as: .fp32)
    }

    /// `startReduceSum(_:root:as:)` in float32.
    public func startReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        try startReduceSum(buffer, root: root, as: .fp32)
    }

    /// Copies `root`'s elements into `buffer` on every other rank.
    ///
    /// - Throws: `MPIError` when `root` is not in `0..<size` or the transfer fails.
    public func broadcast<Element: BitwiseCopyable>(
        _ buffer: UnsafeMutableBufferPointer<Element>, root: Int
    ) throws {
        try broadcast(UnsafeMutableRawBufferPointer(buffer), root: root)
    }
}

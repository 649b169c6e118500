/// A group of cooperating processes ("ranks") that can combine and share buffers.
///
/// Every rank of the group must make the same sequence of collective calls (`allReduceSum`,
/// `allReduceMax`, `broadcast`, `barrier`, `finalize`) with buffers of the same length, as in MPI.
/// A communicator is used from one thread only: MPI is initialized with
/// `MPI_THREAD_FUNNELED`, so conforming types are deliberately not `Sendable`.
public protocol Communicator: AnyObject {
    /// This process's index in the group, in `0..<size`.
    var rank: Int { get }

    /// The number of processes in the group.
    var size: Int { get }

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
    /// Copies `root`'s elements into `buffer` on every other rank.
    ///
    /// - Throws: `MPIError` when `root` is not in `0..<size` or the transfer fails.
    public func broadcast<Element: BitwiseCopyable>(
        _ buffer: UnsafeMutableBufferPointer<Element>, root: Int
    ) throws {
        try broadcast(UnsafeMutableRawBufferPointer(buffer), root: root)
    }
}

import Foundation

/// A world of one process: every collective is a no-op, and MPI is never touched.
///
/// This is what `dpo-ddp` uses when it is not started by an MPI launcher.
public final class LocalCommunicator: Communicator {
    /// Always 0.
    public let rank = 0

    /// Always 1.
    public let size = 1

    /// Creates the world of one.
    public init() {}

    /// Leaves `buffer` as it is: the sum over one rank.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}

    /// Leaves `buffer` as it is: the sum over one rank.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}

    /// Leaves `buffer` as it is: the sum over one rank.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {}

    /// Leaves `buffer` as it is: the maximum over one rank.
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}

    /// Leaves `buffer` as it is: the maximum over one rank.
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}

    /// Leaves `buffer` as it is: the maximum over one rank.
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {}

    /// Leaves `buffer` as it is when `root` is 0.
    ///
    /// - Throws: `MPIError` when `root` is not 0, the only rank.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard root == 0 else {
            throw MPIError(
                operation: "broadcast", code: nil,
                message: "root \(root) is not a rank of a world of size 1 (the only rank is 0)")
        }
    }

    /// Returns at once.
    public func barrier() throws {}

    /// Does nothing.
    public func finalize() throws {}

    /// Prints `rank 0: message` to standard error and exits with `code`.
    public func abort(message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message)\n".utf8))
        exit(code)
    }
}

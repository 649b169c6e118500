import Foundation

/// A world of one process: every collective is a no-op, and MPI is never touched.
///
/// This is what `dpo-ddp` uses when it is not started by an MPI launcher.
public final class LocalCommunicator: Communicator {
    /// Always 0.
    public let rank = 0

    /// Always 1.
    public let size = 1

    /// Kept for the protocol: a world of one never waits for another rank.
    public var collectiveTimeout: Double?

    /// Kept for the protocol: a world of one never waits for another rank.
    public var activity = ""

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

    /// Leaves `buffer` as it is: the sum over one rank, complete at once (nothing is sent, so
    /// nothing is rounded to `wire`).
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, as wire: WireFormat) throws {}

    /// Leaves `buffer` as it is when `root` is 0: the sum over one rank, complete at once.
    ///
    /// - Throws: `MPIError` when `root` is not 0, the only rank.
    public func startReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int, as wire: WireFormat) throws {
        try requireRootZero(root, "reduce")
    }

    /// Always 0: a world of one sends nothing.
    public let bytesSent = 0

    /// Returns true: nothing is ever in flight.
    @discardableResult
    public func progress() throws -> Bool { true }

    /// Returns at once.
    public func waitAll() throws {}

    /// Leaves `buffer` as it is: the only rank holds every shard.
    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {}

    /// Copies `shard` into `whole` at `shards[0]`.
    ///
    /// - Throws: `MPIError` when `root` is not 0 or `shard` does not fit `shards[0]` of `whole`.
    public func gather(_ shard: UnsafeBufferPointer<Float>, into whole: UnsafeMutableBufferPointer<Float>,
                       shards: [Range<Int>], root: Int) throws {
        try requireRootZero(root, "gather")
        guard shards.count == 1, shard.count == shards[0].count, shards[0].upperBound <= whole.count else {
            throw MPIError(operation: "gather", code: nil,
                           message: "\(shard.count) elements do not fit shards \(shards) of \(whole.count) in a world of size 1")
        }
        guard let source = shard.baseAddress else { return }
        (whole.baseAddress! + shards[0].lowerBound).update(from: source, count: shard.count)
    }

    /// Leaves `buffer` as it is when `root` is 0.
    ///
    /// - Throws: `MPIError` when `root` is not 0, the only rank.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try requireRootZero(root, "broadcast")
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

    private func requireRootZero(_ root: Int, _ operation: String) throws {
        guard root == 0 else {
            throw MPIError(
                operation: operation, code: nil,
                message: "root \(root) is not a rank of a world of size 1 (the only rank is 0)")
        }
    }
}

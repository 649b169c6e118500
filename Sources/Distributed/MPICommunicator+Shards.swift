import MPIShim

extension MPICommunicator {
    /// `MPI_Iallgatherv` in place and waiting for it, in rounds of at most `maxChunkCount` elements per rank.
    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        try requireActive("MPI_Iallgatherv")
        try forEachRound(of: shards, within: buffer.count, "MPI_Iallgatherv") { offset, counts, displacements in
            try collective("MPI_Iallgatherv") {
                MPI_Iallgatherv(dpo_mpi_in_place(), 0, dpo_mpi_float(), buffer.baseAddress! + offset,
                                counts, displacements, dpo_mpi_float(), world, &$0)
            }
            countSent(counts.reduce(0) { $0 + Int($1) } * MemoryLayout<Float>.size, allReduced: false)
        }
    }

    /// `MPI_Igatherv` to `root` and waiting for it, in rounds of at most `maxChunkCount` elements per rank.
    public func gather(_ shard: UnsafeBufferPointer<Float>, into whole: UnsafeMutableBufferPointer<Float>,
                       shards: [Range<Int>], root: Int) throws {
        try requireActive("MPI_Igatherv")
        guard (0..<size).contains(root) else {
            throw MPIError(operation: "MPI_Igatherv", code: nil, message: "root \(root) is not a rank in 0..<\(size)")
        }
        guard shards.count == size, shard.count == shards[rank].count else {
            throw MPIError(operation: "MPI_Igatherv", code: nil,
                           message: "\(shard.count) elements for shard \(shards.count == size ? "\(shards[rank])" : "?") "
                               + "of \(shards.count) shards over \(size) ranks")
        }
        let isRoot = rank == root
        try forEachRound(of: shards, within: isRoot ? whole.count : nil, "MPI_Igatherv") { offset, counts, displacements in
            let send = shard.baseAddress.map { UnsafeRawPointer($0 + min(offset, shard.count)) }
            try collective("MPI_Igatherv") {
                MPI_Igatherv(send, counts[rank], dpo_mpi_float(), isRoot ? whole.baseAddress! + offset : nil,
                             counts, displacements, dpo_mpi_float(), Int32(root), world, &$0)
            }
        }
    }

    /// Splits a gather of `shards` (one range per rank, inside `0..<bound` when a bound is given)
    /// into rounds in which every rank sends at most `maxChunkCount` elements, and calls `body`
    /// with each round's offset from the buffer's start and the per-rank counts and
    /// displacements: in round k rank r sends elements `shards[r].lowerBound + k·chunk` onwards.
    ///
    /// - Throws: `MPIError` when the shards do not fit, or a shard starts beyond MPI's `int`.
    private func forEachRound(of shards: [Range<Int>], within bound: Int?, _ operation: String,
                              _ body: (_ offset: Int, _ counts: [Int32], _ displacements: [Int32]) throws -> Void) throws {
        guard shards.count == size, shards.allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= (bound ?? .max) }) else {
            throw MPIError(operation: operation, code: nil,
                           message: "shards \(shards) do not give one range per rank (\(size)) inside the buffer")
        }
        guard let farthest = shards.map(\.lowerBound).max(), farthest <= Int(Int32.max) else {
            throw MPIError(operation: operation, code: nil, message: "a shard starts beyond element \(Int32.max)")
        }
        let displacements = shards.map { Int32($0.lowerBound) }
        let longest = shards.map(\.count).max()!
        for offset in stride(from: 0, to: longest, by: maxChunkCount) {
            try body(offset, shards.map { Int32(min(maxChunkCount, max(0, $0.count - offset))) }, displacements)
        }
    }
}

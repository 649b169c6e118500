import ArgumentParser
import Distributed
import FileErrors

/// `dpo-ddp mpi-check`: a hidden self-test of the communicator, to run under `mpirun` or `srun`.
///
/// Every rank all-reduces rank-dependent buffers (sum and max of `Float`, `Double` and `Int64`,
/// longer than the chunk size so that chunking is exercised), runs a non-blocking all-reduce and a
/// reduce to the last rank side by side, all-gathers and gathers shards of a buffer, receives a
/// broadcast from the last rank, checks that an invalid broadcast root is rejected with an error,
/// and waits at a barrier.
/// Each result is compared with its closed form; a rank that finds a mismatch aborts the job with
/// a message saying where. Without a launcher it checks the local world of one.
struct MPICheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-check",
        abstract: "Check all-reduce, reduce, gathers, broadcast and barrier across the ranks of this launch.",
        shouldDisplay: false)

    @Option(help: "The most elements per MPI call; the test buffers hold 3 chunks and 1 element.")
    var chunkCount = 1000

    @Option(help: "A rank that adds 1 to what it contributes, to see the check fail.")
    var faultyRank: Int?

    /// Keeps the test buffers (3 chunks and 1 element) small enough to allocate at once.
    func validate() throws {
        guard (1...1_000_000).contains(chunkCount) else {
            throw ValidationError("--chunk-count must be in 1...1000000")
        }
    }

    func run() throws {
        let communicator = try CommunicatorFactory.make(maxChunkCount: chunkCount)
        do {
            try check(communicator)
            try communicator.finalize()
        } catch {
            communicator.abort(message: "mpi-check: " + FileError.message(for: error), code: 1)
        }
    }

    private func check(_ communicator: any Communicator) throws {
        let rank = communicator.rank, size = communicator.size
        let count = 3 * chunkCount + 1
        let fault = faultyRank == rank ? 1 : 0
        let ranksSum = size * (size + 1) / 2  // sum of rank + 1 over ranks
        let prefix = "rank \(rank)/\(size):"

        func expect<T: Equatable>(_ name: String, _ actual: [T], _ expected: (Int) -> T) {
            guard let i = actual.indices.first(where: { actual[$0] != expected($0) }) else { return }
            communicator.abort(
                message: "mpi-check: \(name) is \(actual[i]) at index \(i), expected \(expected(i))",
                code: 1)
        }

        var floatSum = (0..<count).map { Float($0 % 1000 + rank + 1 + fault) }
        try floatSum.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        expect("Float sum", floatSum) { Float(size * ($0 % 1000) + ranksSum) }

        var doubleSum = (0..<count).map { Double($0 * (rank + 1) + fault) }
        try doubleSum.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        expect("Double sum", doubleSum) { Double($0 * ranksSum) }

        var intSum = (0..<count).map { Int64($0) << 33 + Int64(rank + fault) }
        try intSum.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        expect("Int64 sum", intSum) { Int64(size * $0) << 33 + Int64(ranksSum - size) }

        // Every rank holds the maximum at some indices: (rank + i) % size runs over all ranks.
        var floatMax = (0..<count).map { Float($0 * size + ($0 + rank) % size + fault) }
        try floatMax.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        expect("Float max", floatMax) { Float($0 * size + size - 1) }

        var doubleMax = (0..<count).map { Double(($0 + rank) % size + fault - $0 * size) }
        try doubleMax.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        expect("Double max", doubleMax) { Double(size - 1 - $0 * size) }

        var intMax = (0..<count).map { Int64(($0 + rank) % size + fault) - Int64($0) << 40 }
        try intMax.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        expect("Int64 max", intMax) { Int64(size - 1) - Int64($0) << 40 }
        print(prefix, "allreduce ok (sum and max of Float, Double, Int64; \(count) elements, chunks of \(chunkCount))")

        let root = size - 1
        var allReduced = (0..<count).map { Float($0 % 1000 + rank + 1 + fault) }
        var reduced = allReduced
        try allReduced.withUnsafeMutableBufferPointer { allReduced in
            try reduced.withUnsafeMutableBufferPointer { reduced in
                try communicator.startAllReduceSum(allReduced)
                try communicator.startReduceSum(reduced, root: root)
                while try !communicator.progress() {}
                try communicator.waitAll()
            }
        }
        expect("non-blocking Float sum", allReduced) { Float(size * ($0 % 1000) + ranksSum) }
        expect("Float sum reduced to rank \(root)", reduced) {
            rank == root ? Float(size * ($0 % 1000) + ranksSum) : Float($0 % 1000 + rank + 1)
        }
        print(prefix, "non-blocking allreduce and reduce ok (\(count) elements, chunks of \(chunkCount))")

        // bfloat16 on the wire (8 significant bits): 1 + 2^-10 rounds down to 1, the ties 1 + 2^-8
        // and 1 + 3·2^-8 to the even neighbours 1 and 1 + 2^-6, and 1 + 2^-5 stays. Up to 4 ranks,
        // every partial sum of these is exact in bf16, so the result is size x the rounded value.
        // (A world of one sends nothing, so it rounds nothing.)
        if (2...4).contains(size) {
            let inputs: [Float] = [1 + 0x1p-10, 1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-5]
            let rounded: [Float] = [1, 1, 1 + 0x1p-6, 1 + 0x1p-5]
            var bf16AllReduced = (0..<count).map { inputs[$0 % 4] + Float(fault) }
            var bf16Reduced = bf16AllReduced
            try bf16AllReduced.withUnsafeMutableBufferPointer { allReduced in
                try bf16Reduced.withUnsafeMutableBufferPointer { reduced in
                    try communicator.startAllReduceSum(allReduced, as: .bf16)
                    try communicator.startReduceSum(reduced, root: root, as: .bf16)
                    try communicator.waitAll()
                }
            }
            expect("bfloat16 sum", bf16AllReduced) { Float(size) * rounded[$0 % 4] }
            expect("bfloat16 sum reduced to rank \(root)", bf16Reduced) {
                rank == root ? Float(size) * rounded[$0 % 4] : inputs[$0 % 4]
            }
            print(prefix, "bfloat16 allreduce and reduce ok (rounded to nearest even, \(count) elements)")
        }

        let shards = evenShards(count: count, parts: size)
        func value(_ i: Int) -> Float { Float(i % 1000) * 2 + 1 }
        var gathered = (0..<count).map { shards[rank].contains($0) ? value($0) + Float(fault) : -1 }
        try gathered.withUnsafeMutableBufferPointer { try communicator.allGather($0, shards: shards) }
        expect("all-gathered Float", gathered, value)
        let shard = shards[rank].map { value($0) + Float(fault) }
        var whole = [Float](repeating: -1, count: rank == root ? count : 0)
        try shard.withUnsafeBufferPointer { shard in
            try whole.withUnsafeMutableBufferPointer { try communicator.gather(shard, into: $0, shards: shards, root: root) }
        }
        expect("Float gathered on rank \(root)", whole, value)
        print(prefix, "allgather and gather ok (shards \(shards.map(\.count)))")

        func pattern(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        var bytes = (0..<count).map { rank == root ? pattern($0) : 0xAA }
        try bytes.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: root) }
        expect("broadcast byte", bytes, pattern)
        print(prefix, "broadcast ok (\(count) bytes from root \(root))")

        do {
            try bytes.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: size) }
            communicator.abort(message: "mpi-check: broadcast from root \(size) did not fail", code: 1)
        } catch let error as MPIError {
            print(prefix, "invalid root rejected: \(error)")
        }

        try communicator.barrier()
        print(prefix, "barrier ok")
    }
}

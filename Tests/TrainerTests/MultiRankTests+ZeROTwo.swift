import DPO
import Foundation
import XCTest

/// ZeRO-2 and sharded checkpoints under `mpirun`: neither may change the numbers, and a
/// checkpoint is used only when every rank's part of it is there.
extension MultiRankTests {
    /// ZeRO-2 with gradient accumulation (8 pairs per step in micro-batches of 1: 8, 4 and 2 per
    /// rank) and buckets of 0.01 MiB (many per step, crossing the shard boundaries) on 1, 2 and 4
    /// ranks trains what one rank without ZeRO trains: each micro-batch's reduction into the
    /// owner's shard adds up to the sum, in another order only.
    func testZeROTwoOnOneTwoAndFourRanksEqualsThePlainRun() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "8", "--micro-batch-size", "1", "--max-steps", "3", "--bucket-cap-mb", "0.01"] + decay
        let plain = try trained(run, ranks: 1, output: "plain", common)
        for ranks in [1, 2, 4] {
            try assertSameRun(try trained(run, ranks: ranks, output: "zero2-np\(ranks)", common + ["--zero", "2"]), plain, run)
        }
    }

    /// The names of the optimiser files in `checkpoint`.
    func optimizerFiles(_ checkpoint: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: checkpoint.path).filter { $0.hasPrefix("optimizer") }.sorted()
    }

    /// `checkpoint-3` of `saved` copied into a new run directory `name`, resumed there with `extra`.
    func resumed(_ run: TinyRun, from saved: String, as name: String, ranks: Int, _ extra: [String])
        throws -> (records: [[String: Any]], weights: [Float]) {
        let output = run.directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: run.directory.appendingPathComponent("\(saved)/checkpoint-3"),
                                         to: output.appendingPathComponent("checkpoint-3"))
        return try trained(run, ranks: ranks, output: name, extra + ["--resume", "latest"])
    }

    /// A ZeRO-2 run on 3 ranks (uneven shards cutting through tensors) saves one optimiser file
    /// per rank and no whole one. Resumed on 3 ranks with ZeRO-2 it continues exactly (the same
    /// numbers bit for bit); on 2 ranks with ZeRO-1 (each new shard read from two files) and on
    /// 1 rank without ZeRO (the whole state from three) as the uninterrupted run, within the
    /// tolerance of a different summation order.
    func testShardedCheckpointsResumeOnTheSameAndOtherRankCounts() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "6", "--micro-batch-size", "1", "--max-steps", "5", "--save-steps", "3"] + decay
        let whole = try trained(run, ranks: 3, output: "saved", common + ["--zero", "2"])
        XCTAssertEqual(try optimizerFiles(run.directory.appendingPathComponent("saved/checkpoint-3")),
                       (0..<3).map { OptimizerCheckpoint.shardFileName(rank: $0, of: 3) })
        let after = (Array(whole.records.suffix(2)), whole.weights)
        let same = try resumed(run, from: "saved", as: "same", ranks: 3, common + ["--zero", "2"])
        XCTAssertEqual(same.records.map { $0["step"] as? Int }, [4, 5])
        assertSameMetrics(same.records, after.0, tolerance: 0)
        XCTAssertEqual(same.weights, whole.weights)
        for (ranks, zero) in [(2, "1"), (1, "0")] {
            let other = try resumed(run, from: "saved", as: "np\(ranks)", ranks: ranks, common + ["--zero", zero])
            XCTAssertEqual(other.records.map { $0["step"] as? Int }, [4, 5])
            try assertSameRun(other, after, run)
        }
    }

    /// A checkpoint whose marker is missing is not among the steps nor the latest, and resuming
    /// it is refused naming the marker; one missing a shard file, or with a truncated one, is
    /// refused naming that file.
    func testACheckpointWithoutItsMarkerOrAShardIsNotUsed() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("sharded")
        _ = try trained(run, ranks: 2, output: "sharded", ["--batch-size", "4", "--max-steps", "4", "--save-steps", "2", "--zero", "1"])
        let store = CheckpointStore(directory: output)
        XCTAssertEqual(store.steps(), [2, 4])
        try FileManager.default.removeItem(at: store.url(step: 4).appendingPathComponent(CheckpointMarker.fileName))
        XCTAssertEqual(store.steps(), [2])
        XCTAssertEqual(store.latest(), store.url(step: 2))
        XCTAssertThrowsError(try CheckpointStore.load(store.url(step: 4))) {
            XCTAssertTrue("\($0)".contains("marker \(CheckpointMarker.fileName) is missing"), "\($0)")
        }
        XCTAssertNoThrow(try CheckpointStore.load(store.url(step: 2)))

        let shard = store.url(step: 2).appendingPathComponent(OptimizerCheckpoint.shardFileName(rank: 1, of: 2))
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count - 4).write(to: shard)
        XCTAssertThrowsError(try CheckpointStore.load(store.url(step: 2))) {
            XCTAssertTrue("\($0)".contains(shard.path), "\($0)")
        }
        try FileManager.default.removeItem(at: shard)
        XCTAssertThrowsError(try CheckpointStore.load(store.url(step: 2))) {
            XCTAssertTrue("\($0)".contains("\(shard.path) is missing"), "\($0)")
        }
    }
}

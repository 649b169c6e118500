import DPO
import Distributed
import Foundation
import GPT2
import XCTest

/// Rank 0's side of a sharded checkpoint, with rank 1 played at the barriers: the marker comes
/// only after every rank's shard, and without one the save fails and leaves nothing.
final class ShardedCheckpointTests: XCTestCase {
    let model = try! GPT2Model(config: GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 40))
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-\(UUID().uuidString)")

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Rank `rank`'s optimiser of 2, with moments that differ at every parameter.
    func shard(_ rank: Int) -> AdamW {
        let range = evenShards(count: model.layout.count, parts: 2)[rank]
        let optimizer = AdamW(layout: model.layout, settings: AdamWSettings(), range: range)
        for (k, i) in range.enumerated() {
            optimizer.m.base[k] = Float(i)
            optimizer.v.base[k] = Float(2 * i + 1)
        }
        return optimizer
    }

    /// Saves step 7 as rank 0 of 2; `rankOne` runs at each barrier (numbered from 1).
    func save(rankOne: @escaping (_ barrier: Int, _ partial: URL) throws -> Void) throws -> URL? {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let communicator = GradientReducerTests.RecordingCommunicator(size: 2, base: model.parameters.base)
        var barriers = 0
        communicator.onBarrier = { [directory] in
            barriers += 1
            try rankOne(barriers, directory.appendingPathComponent(".checkpoint-7.partial"))
        }
        var state = TrainerState(config: TrainingConfig(), worldSize: 2)
        state.step = 7
        let contents = CheckpointStore.Contents(model: model, optimizer: nil, reference: nil, state: state, tokenizerFiles: [])
        return try CheckpointStore(directory: directory).saveSharded(contents, step: 7, shard: shard(0), parameterCount: model.layout.count,
                                                                     communicator: communicator, keep: nil)
    }

    /// Rank 1 writes its shard just as it reaches the second barrier: rank 0 has not written the
    /// marker by then, and afterwards the checkpoint is whole and holds both shards' moments.
    func testTheMarkerFollowsTheBarrierAfterEveryShard() throws {
        let count = model.layout.count
        let url = try save { [model] barrier, partial in
            guard barrier == 2 else { return }
            XCTAssertFalse(FileManager.default.fileExists(atPath: partial.appendingPathComponent(CheckpointMarker.fileName).path))
            XCTAssertFalse(FileManager.default.fileExists(atPath: self.directory.appendingPathComponent("checkpoint-7").path))
            try OptimizerCheckpoint.write(self.shard(1), parameterCount: model.layout.count,
                                          to: partial.appendingPathComponent(OptimizerCheckpoint.shardFileName(rank: 1, of: 2)))
        }
        let store = CheckpointStore(directory: directory)
        XCTAssertEqual(url?.path, store.url(step: 7).path)
        XCTAssertEqual(store.steps(), [7])
        let loaded = try CheckpointStore.load(store.url(step: 7)).optimizer
        let moments = try loaded.moments(of: 0..<count)
        XCTAssertEqual(moments.m, (0..<count).map(Float.init))
        XCTAssertEqual(moments.v, (0..<count).map { Float(2 * $0 + 1) })
    }

    /// A rank that never writes its shard: rank 0 refuses to finish the checkpoint, naming the
    /// shard, and leaves no checkpoint and no partial directory.
    func testAMissingShardLeavesNoCheckpoint() throws {
        XCTAssertThrowsError(try save { _, _ in }) {
            XCTAssertTrue("\($0)".contains(OptimizerCheckpoint.shardFileName(rank: 1, of: 2) + " is missing"), "\($0)")
        }
        XCTAssertEqual(CheckpointStore(directory: directory).steps(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }
}

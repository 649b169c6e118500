import DPO
import Distributed
import Foundation
import GPT2
import XCTest

/// Which ranges of the gradient a `GradientReducer` starts reducing, and when.
final class GradientReducerTests: XCTestCase {
    /// Records the ranges (as offsets into `base`) every non-blocking operation is started on.
    final class RecordingCommunicator: Communicator {
        let rank = 0, size: Int, base: UnsafeMutablePointer<Float>
        /// Each start: the range, the root (nil for an all-reduce), and `finalFrom` at that moment.
        var started: [(range: Range<Int>, root: Int?, finalFrom: Int)] = []
        var finalFrom = Int.max
        var waits = 0, progressCalls = 0
        var collectiveTimeout: Double?
        var activity = ""

        init(size: Int, base: UnsafeMutablePointer<Float>) {
            self.size = size
            self.base = base
        }

        func record(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int?) {
            let start = buffer.baseAddress! - base
            started.append((start..<(start + buffer.count), root, finalFrom))
        }

        func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, as wire: WireFormat) throws { record(buffer, root: nil) }
        func startReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int, as wire: WireFormat) throws { record(buffer, root: root) }
        let bytesSent = 0
        func progress() throws -> Bool {
            progressCalls += 1
            return false
        }
        func waitAll() throws { waits += 1 }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {}
        func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
        func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
        func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {}
        func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {}
        func gather(_ shard: UnsafeBufferPointer<Float>, into whole: UnsafeMutableBufferPointer<Float>,
                    shards: [Range<Int>], root: Int) throws {}
        func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
        /// Called at each `barrier()`: where a test plays the other ranks.
        var onBarrier: () throws -> Void = {}
        func barrier() throws { try onBarrier() }
        func finalize() throws {}
        func abort(message: String, code: Int32) -> Never { fatalError(message) }
    }

    let model = try! GPT2Model(config: GPT2Config(nLayer: 3, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 40))

    /// The offsets `backward` reports, in its order: after ln_f, after each block from the last, 0.
    var reportedOffsets: [Int] { [model.layout.lnfWeight] + model.layout.blocks.reversed().map(\.ln1Weight) + [0] }

    /// Runs a simulated last backward pass under `reducer` (reporting `offsets`), then `finish()`.
    func step(_ reducer: GradientReducer, _ communicator: RecordingCommunicator, offsets: [Int]) throws {
        reducer.overlapping(model) {
            for offset in offsets {
                communicator.finalFrom = offset
                model.onGradientsFinal?(offset)
            }
        }
        XCTAssertNil(model.onGradientsFinal, "the hook is removed after the micro-batch")
        communicator.finalFrom = 0
        _ = try reducer.finish()
    }

    /// Buckets cover the gradient once, last first, each at most a bucket, none before its
    /// gradients are final; most start during the backward pass, and one wait ends the step.
    func testBucketsCoverTheGradientOnceAndStartOnlyWhenFinal() throws {
        let count = model.layout.count, blockSize = model.layout.blocks[1].ln1Weight - model.layout.blocks[0].ln1Weight
        for bucket in [1, 37, blockSize, 3 * blockSize, count, count + 5] {
            let communicator = RecordingCommunicator(size: 2, base: model.gradients!.base)
            let reducer = GradientReducer(gradients: model.gradients!, communicator: communicator, bucketElements: bucket, owners: nil)
            try step(reducer, communicator, offsets: reportedOffsets)
            let ranges = communicator.started.map(\.range)
            XCTAssertEqual(ranges.first?.upperBound, count)
            XCTAssertEqual(ranges.last?.lowerBound, 0)
            for (later, earlier) in zip(ranges.dropFirst(), ranges) { XCTAssertEqual(later.upperBound, earlier.lowerBound) }
            XCTAssertTrue(ranges.allSatisfy { !$0.isEmpty && $0.count <= bucket }, "bucket \(bucket): \(ranges)")
            for start in communicator.started {
                XCTAssertGreaterThanOrEqual(start.range.lowerBound, start.finalFrom, "bucket \(bucket) started early")
                XCTAssertNil(start.root)
            }
            XCTAssertEqual(communicator.waits, 1)
            XCTAssertEqual(communicator.progressCalls, reportedOffsets.count)
            if bucket <= blockSize {
                XCTAssertTrue(communicator.started.contains { $0.finalFrom > 0 }, "buckets start during backward")
            }
        }
    }

    /// With owners (ZeRO-1) every part of a bucket goes to the rank owning it, parts never cross
    /// a shard boundary, and together they cover the gradient once.
    func testWithOwnersEachPartIsReducedToItsOwner() throws {
        let count = model.layout.count
        let owners = evenShards(count: count, parts: 3)
        let communicator = RecordingCommunicator(size: 3, base: model.gradients!.base)
        let reducer = GradientReducer(gradients: model.gradients!, communicator: communicator, bucketElements: 50, owners: owners)
        try step(reducer, communicator, offsets: reportedOffsets)
        for start in communicator.started {
            let root = try XCTUnwrap(start.root)
            XCTAssertEqual(start.range.clamped(to: owners[root]), start.range, "\(start.range) is not inside rank \(root)'s shard")
        }
        XCTAssertEqual(communicator.started.map(\.range.count).reduce(0, +), count)
        XCTAssertEqual(Set(communicator.started.map(\.range.lowerBound)).count, communicator.started.count)
    }

    /// Without buckets the whole gradient goes in one reduction once backward has finished; without
    /// a backward pass under the reducer (`finish` alone) everything is started by `finish`.
    func testOneBucketAndNoBackwardPass() throws {
        let count = model.layout.count
        let communicator = RecordingCommunicator(size: 2, base: model.gradients!.base)
        let single = GradientReducer(gradients: model.gradients!, communicator: communicator, bucketElements: nil, owners: nil)
        try step(single, communicator, offsets: reportedOffsets)
        XCTAssertEqual(communicator.started.map(\.range), [0..<count])
        XCTAssertEqual(communicator.started[0].finalFrom, 0)

        communicator.started = []
        let bucketed = GradientReducer(gradients: model.gradients!, communicator: communicator, bucketElements: 100, owners: nil)
        _ = try bucketed.finish()
        XCTAssertEqual(communicator.started.map(\.range.count).reduce(0, +), count)
        communicator.started = []
        try step(bucketed, communicator, offsets: reportedOffsets)  // ready for the next step
        XCTAssertEqual(communicator.started.map(\.range.count).reduce(0, +), count)
    }

    /// A second backward pass in the reduced micro-batch would change gradients already in flight.
    func testASecondBackwardPassIsAnError() throws {
        let communicator = RecordingCommunicator(size: 2, base: model.gradients!.base)
        let reducer = GradientReducer(gradients: model.gradients!, communicator: communicator, bucketElements: 100, owners: nil)
        XCTAssertThrowsError(try step(reducer, communicator, offsets: reportedOffsets + reportedOffsets)) {
            XCTAssertTrue("\($0)".contains("exactly one backward pass"), "\($0)")
        }
    }

    func testBucketSizeInMegabytes() {
        XCTAssertEqual(GradientReducer.bucketElements(megabytes: 25), 25 * 1024 * 1024 / 4)
        XCTAssertEqual(GradientReducer.bucketElements(megabytes: 1e-9), 1)
        XCTAssertNil(GradientReducer.bucketElements(megabytes: 0))
    }
}

/// ZeRO-2: every micro-batch's gradient is reduced to its owners and the rest released.
extension GradientReducerTests {
    /// Sets every gradient to 1, as a backward pass that wrote all of them.
    func fillGradients() {
        model.gradients!.base.update(repeating: 1, count: model.layout.count)
    }

    /// Elements outside `own` that are not zero.
    func foreignNonZero(_ own: Range<Int>) -> [Int] {
        (0..<model.layout.count).filter { !own.contains($0) && model.gradients!.base[$0] != 0 }
    }

    /// During a simulated backward pass (rank 0 of 3, buckets of 50), after each report no
    /// gradient outside rank 0's shard that a bucket started at an earlier report holds is still
    /// non-zero (only the buckets started at this report are in flight); after `finish` none is,
    /// and rank 0's shard is untouched.
    func testReleasingKeepsOnlyTheShardAndTheBucketsInFlight() throws {
        let count = model.layout.count, owners = evenShards(count: count, parts: 3)
        let communicator = RecordingCommunicator(size: 3, base: model.gradients!.base)
        let reducer = GradientReducer(gradients: model.gradients!, communicator: communicator, bucketElements: 50, owners: owners,
                                      releasing: true)
        fillGradients()
        reducer.overlapping(model) {
            for offset in reportedOffsets {
                communicator.finalFrom = offset
                model.onGradientsFinal?(offset)
                let reduced = communicator.started.filter { $0.finalFrom > offset }.map(\.range)
                let held = foreignNonZero(owners[0]).filter { i in reduced.contains { $0.contains(i) } }
                XCTAssertEqual(held, [], "reduced before report \(offset) but still held by rank 0")
            }
        }
        XCTAssertGreaterThan(communicator.waits, 1, "buckets are waited for during backward")
        _ = try reducer.finish()
        XCTAssertEqual(foreignNonZero(owners[0]), [])
        XCTAssertTrue((owners[0]).allSatisfy { model.gradients!.base[$0] == 1 }, "the shard keeps its sum")
        XCTAssertEqual(communicator.started.map(\.range.count).reduce(0, +), count)
    }

    /// With ZeRO-2 a micro-batch before the last is reduced and released like the last one;
    /// with ZeRO-1 it starts no communication and keeps every gradient. After the step, every
    /// gradient is zero and the model knows it.
    func testZeROTwoReducesEveryMicroBatch() throws {
        let count = model.layout.count, owners = evenShards(count: count, parts: 2)
        for zero in [1, 2] {
            let communicator = RecordingCommunicator(size: 2, base: model.gradients!.base)
            let optimizer = DataParallelOptimizer(model: model, settings: AdamWSettings(), communicator: communicator, zero: zero,
                                                  bucketElements: 50)
            let backward = { [self] in
                fillGradients()
                for offset in reportedOffsets { model.onGradientsFinal?(offset) }
            }
            try optimizer.accumulatingGradients(backward)
            XCTAssertEqual(communicator.started.map(\.range.count).reduce(0, +), zero == 2 ? count : 0, "ZeRO-\(zero)")
            XCTAssertEqual(foreignNonZero(owners[0]).count, zero == 2 ? 0 : count - owners[0].count, "ZeRO-\(zero)")
            optimizer.reducingGradients(backward)
            var statistics = StepStatistics()
            _ = try optimizer.finishStep(statistics: &statistics, maxGradNorm: 0, learningRate: 1e-3)
            XCTAssertTrue(model.gradients!.array.allSatisfy { $0 == 0 }, "ZeRO-\(zero)")
            XCTAssertTrue(model.gradientsAreZero)
        }
    }
}

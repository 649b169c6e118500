import DPO
import Foundation
import GPT2
import XCTest

/// A run resumed from a checkpoint taken inside an epoch continues that epoch's shuffled order
/// at its position, then shuffles the next epochs as the uninterrupted run does.
///
/// 24 pairs in steps of 5: an epoch is 4 steps and leaves 4 pairs out, so step 2's checkpoint is
/// in the middle of epoch 0, step 4's at its end (the remainder still to skip) and step 6's in the
/// middle of epoch 1 (whose order only the saved epoch number gives).
final class ResumeMidEpochTests: XCTestCase {
    /// Copies `checkpoint-<step>` of `whole` alone into a new run directory `output`.
    static func startFrom(_ run: TinyRun, checkpoint step: Int, of whole: String, into output: String) throws {
        let directory = run.directory.appendingPathComponent(output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: run.directory.appendingPathComponent("\(whole)/checkpoint-\(step)"),
                                         to: directory.appendingPathComponent("checkpoint-\(step)"))
    }

    /// The same process, the same split: every logged metric and every weight bit-identical.
    func testResumingInsideAnEpochIsExact() throws {
        let run = try TinyRun()
        let config = { (output: String) in run.config(output: output) { $0.batchSize = 5; $0.maxSteps = 9; $0.saveSteps = 2 } }
        let whole = try run.train(config("whole"))
        XCTAssertEqual(whole.records.map { $0["step"] as? Int }, Array(1...9))
        for step in [2, 4, 6] {
            try Self.startFrom(run, checkpoint: step, of: "whole", into: "from\(step)")
            let resumed = try run.train(config("from\(step)"), resume: "latest")
            XCTAssertEqual(resumed.records.map { $0["step"] as? Int }, Array((step + 1)...9), "from step \(step)")
            assertSameMetrics(Array(whole.records.dropFirst(step)), resumed.records, tolerance: 0)
            XCTAssertEqual(whole.weights, resumed.weights, "from step \(step)")
        }
    }
}

extension MultiRankTests {
    /// A 1-rank checkpoint taken in the middle of epoch 1 (24 pairs in steps of 10: 2 steps an
    /// epoch, 4 pairs left out) resumed on 2 ranks: the rest of that epoch and the next match the
    /// uninterrupted 1-rank run up to float32 summation order (`trajectoryTolerance`, as between splits).
    func testResumingInsideAnEpochOnAnotherNumberOfRanks() throws {
        let run = try TinyRun()
        let whole = try run.train(run.config(output: "whole") { $0.batchSize = 10; $0.maxSteps = 5; $0.saveSteps = 3 })
        try ResumeMidEpochTests.startFrom(run, checkpoint: 3, of: "whole", into: "resumed")
        let outcome = try train(run, ranks: 2, output: "resumed", ["--batch-size", "10", "--max-steps", "5", "--save-steps", "3",
                                                                  "--resume", "latest"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let records = try TinyRun.records(run.directory.appendingPathComponent("resumed"))
        XCTAssertEqual(records.map { $0["step"] as? Int }, [4, 5])
        assertSameMetrics(Array(whole.records.suffix(2)), records, tolerance: trajectoryTolerance)
        XCTAssertLessThanOrEqual(maxTensorRelativeError(try finalWeights(run, "resumed"), whole.weights, layout: try layout(run)), weightTolerance)
    }
}

import DPO
import Foundation
import XCTest

/// The options of the further objectives (docs/losses.md): refused before any work when out of
/// range or combined with something that cannot work, and TR-DPO's reference update survives a
/// checkpoint exactly.
final class ObjectiveOptionTests: XCTestCase {
    func assertRefused(_ change: (inout TrainingConfig) -> Void, _ fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TinyRun()
        XCTAssertThrowsError(try run.config(output: "x", change).validate(worldSize: 1), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(fragment), "«\($0)» should contain «\(fragment)»", file: file, line: line)
        }
    }

    func testInvalidObjectiveOptionsAreRefusedBeforeAnyWork() throws {
        try assertRefused({ $0.loss = ["exo_pair"] }, "loss exo_pair needs label_smoothing > 0")
        try assertRefused({ $0.loss = ["discopop"]; $0.discopopTau = 0 }, "discopop_tau must be a finite number greater than 0")
        try assertRefused({ $0.loss = ["bco_pair"]; $0.fDivergenceType = .forwardKL }, "f_divergence_type forward_kl does not apply to loss bco_pair")
        try assertRefused({ $0.fDivergenceType = .alphaDivergence; $0.fAlphaDivergenceCoef = -1 }, "f_alpha_divergence_coef must be")
        try assertRefused({ $0.ldAlpha = 2 }, "ld_alpha must lie in [0, 1]")
        try assertRefused({ $0.loss = ["aot"]; $0.useWeighting = true }, "use_weighting does not apply to loss aot")
        try assertRefused({ $0.loss = ["token_pair"]; $0.precomputeRef = true }, "precompute_ref cannot serve loss token_pair")
        try assertRefused({ $0.precomputeRefBatchSize = 0; $0.precomputeRef = true }, "precompute_ref_batch_size must be >= 1")
        try assertRefused({ $0.precomputeRefBatchSize = 4 }, "precompute_ref_batch_size 4 has no effect without precompute_ref")
        try assertRefused({ $0.syncRefModel = true; $0.precomputeRef = true }, "sync_ref_model and precompute_ref conflict")
        try assertRefused({ $0.syncRefModel = true; $0.loss = ["orpo"] }, "sync_ref_model has nothing to update")
        try assertRefused({ $0.syncRefModel = true; $0.refModelMixupAlpha = 1.5 }, "ref_model_mixup_alpha must lie in [0, 1]")
        try assertRefused({ $0.syncRefModel = true; $0.refModelSyncSteps = 0 }, "ref_model_sync_steps must be >= 1")
    }

    /// TR-DPO every 2 steps, checkpoints every 3: resuming from step 3 (the reference updated once,
    /// at step 2) must continue bit for bit, which needs the updated reference from the checkpoint.
    func testTRDPOResumesExactly() throws {
        let run = try TinyRun()
        let config = { (output: String) in
            run.config(output: output) {
                $0.batchSize = 4; $0.maxSteps = 6; $0.saveSteps = 3; $0.learningRate = 0.01
                $0.syncRefModel = true; $0.refModelSyncSteps = 2; $0.refModelMixupAlpha = 0.6
            }
        }
        let whole = try run.train(config("whole"))
        try ResumeMidEpochTests.startFrom(run, checkpoint: 3, of: "whole", into: "resumed")
        let resumed = try run.train(config("resumed"), resume: "latest")
        XCTAssertEqual(resumed.records.map { $0["step"] as? Int }, [4, 5, 6])
        assertSameMetrics(Array(whole.records.dropFirst(3)), resumed.records, tolerance: 0)
        XCTAssertEqual(whole.weights, resumed.weights)
        // The update changed the run: without it, step 4 onwards differ.
        let fixed = try run.train(run.config(output: "fixed") { $0.batchSize = 4; $0.maxSteps = 6; $0.learningRate = 0.01 })
        XCTAssertNotEqual(fixed.records[3]["rewards/chosen"] as? Double, whole.records[3]["rewards/chosen"] as? Double)
    }

    /// `ld_alpha` weights the reference's tokens too: a run reading them from `precompute_ref`'s cache
    /// (computed in forward passes of 3 pairs, `precompute_ref_batch_size`) logs what the run with a
    /// live reference logs, up to float32 summation order (`trajectoryTolerance`, as between splits).
    func testLengthDesensitisedCacheEqualsTheLiveReference() throws {
        let run = try TinyRun()
        let config = { (output: String, change: (inout TrainingConfig) -> Void) in
            run.config(output: output) {
                $0.batchSize = 4; $0.maxSteps = 3; $0.learningRate = 0.01; $0.loss = ["sigmoid"]; $0.ldAlpha = 0.3
                change(&$0)
            }
        }
        let live = try run.train(config("live") { _ in })
        try FileManager.default.createDirectory(at: run.directory.appendingPathComponent("cache"), withIntermediateDirectories: true)
        let cached = try run.train(config("cached") {
            $0.precomputeRef = true; $0.precomputeRefBatchSize = 3
            $0.refCacheDir = run.directory.appendingPathComponent("cache").path
        })
        assertSameMetrics(live.records, cached.records, tolerance: trajectoryTolerance)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.directory.appendingPathComponent("cache").path)
        XCTAssertEqual(files.count, 1, "one cache file: \(files)")
    }
}

import DPO
import Foundation
import GPT2
import XCTest

final class TrainingLoopTests: XCTestCase {
    /// The loss of a step is the mean over its pairs however they are split: 8 pairs in one
    /// micro-batch or in 4 micro-batches of 2 give the same metrics and weights up to float
    /// summation order (`trajectoryTolerance`, `weightTolerance`; a mis-scaled accumulation is
    /// off by a factor of 4).
    func testGradientAccumulationEqualsFullBatch() throws {
        let run = try TinyRun()
        let full = try run.train(run.config(output: "full"))
        let accumulated = try run.train(run.config(output: "accumulated") { $0.microBatchSize = 2 })
        assertSameMetrics(full.records, accumulated.records, tolerance: trajectoryTolerance)
        let layout = GPT2Layout(try HFConfigFile.read(run.modelDirectory.appendingPathComponent("config.json")))
        XCTAssertLessThanOrEqual(maxTensorRelativeError(accumulated.weights, full.weights, layout: layout), weightTolerance)
        XCTAssertEqual(full.records.count, 6)
        let first = try XCTUnwrap(full.records.first?["loss"] as? Double)
        // Policy and reference run the same float32 forward at step 1: every margin is exactly 0,
        // so the loss is log 2 up to Double rounding.
        XCTAssertEqual(first, log(2), accuracy: 1e-15, "policy == reference at step 1")
        let last = try XCTUnwrap(full.records.last?["loss"] as? Double)
        XCTAssertLessThan(last, first, "training must lower the loss")
    }

    /// A run stopped after a checkpoint and resumed logs exactly what an uninterrupted run logs
    /// and ends with bit-identical weights.
    func testStopAndResumeEqualsUninterruptedRun() throws {
        let run = try TinyRun()
        let whole = try run.train(run.config(output: "whole") { $0.saveSteps = 3; $0.loggingSteps = 2 })
        // The "stopped" run: only what existed after step 3's checkpoint.
        let stopped = run.directory.appendingPathComponent("stopped")
        try FileManager.default.createDirectory(at: stopped, withIntermediateDirectories: true)
        let wholeDir = run.directory.appendingPathComponent("whole")
        try FileManager.default.copyItem(at: wholeDir.appendingPathComponent("checkpoint-3"),
                                         to: stopped.appendingPathComponent("checkpoint-3"))
        let lines = try String(contentsOf: wholeDir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(1)
        try (lines.joined(separator: "\n") + "\n").write(to: stopped.appendingPathComponent("metrics.jsonl"),
                                                        atomically: true, encoding: .utf8)
        let resumed = try run.train(run.config(output: "stopped") { $0.saveSteps = 3; $0.loggingSteps = 2 }, resume: "latest")
        assertSameMetrics(whole.records, resumed.records, tolerance: 0)
        XCTAssertEqual(whole.weights, resumed.weights)
    }

    func testResumeRefusesChangedTrainingSettings() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "a") { $0.maxSteps = 2; $0.saveSteps = 1 })
        let changed = run.config(output: "a") { $0.maxSteps = 2; $0.beta = 0.5 }
        XCTAssertThrowsError(try run.train(changed, resume: "latest")) {
            XCTAssertTrue("\($0)".contains("beta (0.1 -> 0.5)"), "\($0)")
        }
    }

    /// Precomputed reference log-probs give the live reference's metrics, and a second run reads
    /// the cache instead of recomputing it (shown by planting different values in the file).
    func testPrecomputedReferenceMatchesLiveAndIsReused() throws {
        let run = try TinyRun()
        let live = try run.train(run.config(output: "live"))
        let cached = try run.train(run.config(output: "cached") { $0.precomputeRef = true })
        // At step 1 the policy is the reference: live, every margin is exactly 0 (no pair counts
        // as won); the cache was scored in another layout, so its margins are rounding noise
        // around 0 and which side of 0 each falls on, `rewards/accuracies`, is noise too.
        XCTAssertEqual(try XCTUnwrap(live.records.first?["rewards/accuracies"] as? Double), 0)
        var cachedRecords = cached.records, liveRecords = live.records
        cachedRecords[0]["rewards/accuracies"] = nil
        liveRecords[0]["rewards/accuracies"] = nil
        assertSameMetrics(liveRecords, cachedRecords, tolerance: trajectoryTolerance)
        let caches = try FileManager.default.contentsOfDirectory(atPath: run.directory.path).filter { $0.contains(".ref-logps-") }
        XCTAssertEqual(caches.count, 1)
        let url = run.directory.appendingPathComponent(caches[0])
        var planted = try JSONDecoder().decode(ReferenceCache.self, from: Data(contentsOf: url))
        planted.chosen = planted.chosen.map { $0 - 10 }
        try JSONEncoder().encode(planted).write(to: url)
        let reused = try run.train(run.config(output: "reused") { $0.precomputeRef = true; $0.maxSteps = 1 })
        // With every reference chosen log-prob 10 lower, the chosen reward starts at β·10 = 1.
        XCTAssertEqual(try XCTUnwrap(reused.records.first?["rewards/chosen"] as? Double), 1.0, accuracy: 1e-6)
    }

    func testCheckpointsRotateAndFinalModelIsWritten() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "rot") { $0.saveSteps = 1; $0.saveTotalLimit = 2 })
        let output = run.directory.appendingPathComponent("rot")
        XCTAssertEqual(CheckpointStore(directory: output).steps(), [5, 6])
        let final = try HFCheckpoint.load(from: output.appendingPathComponent("final"))
        let checkpoint = try HFCheckpoint.load(from: output.appendingPathComponent("checkpoint-6"))
        XCTAssertEqual(final.parameters.array, checkpoint.parameters.array)
        for file in ["vocab.json", "merges.txt", "optimizer.safetensors", "trainer_state.json", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("checkpoint-6/\(file)").path), file)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("resolved_config.yaml").path))
    }

    func testPartialCheckpointIsNeverTheLatest() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "p") { $0.maxSteps = 2; $0.saveSteps = 1 })
        let output = run.directory.appendingPathComponent("p")
        // What a kill in the middle of writing step 3 leaves behind.
        let partial = output.appendingPathComponent(".checkpoint-3.partial")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: partial.appendingPathComponent("model.safetensors"))
        let store = CheckpointStore(directory: output)
        XCTAssertEqual(store.latest()?.lastPathComponent, "checkpoint-2")
        XCTAssertNoThrow(try CheckpointStore.load(try XCTUnwrap(store.latest())))
    }

    /// A checkpoint from a build that predates a setting (here `zero`, `bucket_cap_mb` and
    /// `shared_prompt`) resumes with that setting's default and continues like the original.
    func testCheckpointWithoutNewerSettingsResumes() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "old") { $0.maxSteps = 2; $0.saveSteps = 1 })
        let checkpoint = run.directory.appendingPathComponent("old/checkpoint-1")
        let url = checkpoint.appendingPathComponent("trainer_state.json")
        var state = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var config = try XCTUnwrap(state["config"] as? [String: Any])
        for key in ["zero", "bucket_cap_mb", "shared_prompt"] { XCTAssertNotNil(config.removeValue(forKey: key), key) }
        state["config"] = config
        try JSONSerialization.data(withJSONObject: state).write(to: url)
        let loaded = try CheckpointStore.load(checkpoint).state
        XCTAssertEqual(loaded.config.zero, TrainingConfig().zero)
        XCTAssertEqual(loaded.config.sharedPrompt, true)
        XCTAssertEqual(loaded.step, 1)
        config["learning_rate"] = "fast"
        state["config"] = config
        try JSONSerialization.data(withJSONObject: state).write(to: url)
        XCTAssertThrowsError(try CheckpointStore.load(checkpoint), "a mistyped value is still refused")
    }

    func testIncompleteCheckpointIsRefusedWithTheReason() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "c") { $0.maxSteps = 1 })
        let checkpoint = run.directory.appendingPathComponent("c/checkpoint-1")
        try FileManager.default.removeItem(at: checkpoint.appendingPathComponent("trainer_state.json"))
        XCTAssertThrowsError(try CheckpointStore.load(checkpoint)) {
            XCTAssertTrue("\($0)".contains("trainer_state.json is missing"), "\($0)")
        }
    }

    func testSFTPhaseThenDPOAgainstTheSFTModel() throws {
        let run = try TinyRun()
        let result = try run.train(run.config(output: "sft") { $0.sftSteps = 3; $0.maxSteps = 3 })
        let phases = result.records.map { $0["phase"] as? String }
        XCTAssertEqual(phases, ["sft", "sft", "sft", "dpo", "dpo", "dpo"])
        // The first DPO step starts from the SFT model as its own reference: loss log 2.
        XCTAssertEqual(try XCTUnwrap(result.records[3]["loss"] as? Double), log(2), accuracy: 1e-15)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.directory.appendingPathComponent("sft/sft/model.safetensors").path))
    }
}

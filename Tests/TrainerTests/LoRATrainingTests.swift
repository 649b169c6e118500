import DPO
import Distributed
import Foundation
import GPT2
import XCTest

/// LoRA training on one process (docs/lora.md): only the adapter trains, TRL 1.16's reference
/// rule, checkpoints in PEFT's form that resume exactly, and the refusals of checkpoints that do
/// not fit.
final class LoRATrainingTests: XCTestCase {
    /// `run`'s config with an r-4 adapter on every Conv1D (alpha 8, as the TRL fixtures).
    func loraConfig(_ run: TinyRun, _ output: String, _ change: (inout TrainingConfig) -> Void = { _ in }) -> TrainingConfig {
        run.config(output: output) {
            $0.loraR = 4
            change(&$0)
        }
    }

    /// Trains `config` to the end; returns the trainer (its policy) and the logged records.
    func train(_ config: TrainingConfig, resume: String? = nil) throws -> (trainer: Trainer, records: [[String: Any]]) {
        try config.validate(worldSize: 1)
        let (trainer, _) = try TrainingRun.prepare(config: config, communicator: LocalCommunicator(), resume: resume)
        try trainer.run()
        return (trainer, try TinyRun.records(URL(fileURLWithPath: config.outputDir)))
    }

    /// An adapter whose B is not zero: `final/` of a 3-step LoRA run of `run`.
    func trainedAdapter(_ run: TinyRun) throws -> URL {
        try train(loraConfig(run, "source") { $0.maxSteps = 3 })
        return run.directory.appendingPathComponent("source/final")
    }

    /// |reward| within float32 rounding of its two summed log-probs (both ≈ `logps`, per token
    /// rounded by an ulp or two): 8ε·β·|logps|. A reference other than the policy at DPO step 0
    /// gives rewards of β·(the log-prob difference the adapter makes), far above it.
    func assertRewardsAreZero(_ record: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        for side in ["chosen", "rejected"] {
            let reward = try XCTUnwrap(record["rewards/\(side)"] as? Double), logps = try XCTUnwrap(record["logps/\(side)"] as? Double)
            XCTAssertLessThanOrEqual(abs(reward), 8 * Double(Float.ulpOfOne) * 0.1 * abs(logps),
                                     "step \(record["step"] ?? "?") rewards/\(side)", file: file, line: line)
        }
    }

    /// A fresh adapter: the base weights never change (bit for bit the file's), the adapter does;
    /// the reference is the base, so step 1's policy (B = 0) equals it exactly: loss ln 2 and
    /// rewards 0. `final/` and the checkpoint hold the adapter in PEFT's form and no model, the
    /// optimiser state covers the adapter alone, and no reference adapter is saved.
    /// `--check-gradients` checks the adapter's gradient.
    func testOnlyTheAdapterTrainsAndAFreshAdaptersReferenceIsTheBase() throws {
        let run = try TinyRun()
        let (trainer, records) = try train(loraConfig(run, "fresh") { $0.checkGradients = true })
        let base = try HFCheckpoint.load(from: run.modelDirectory)
        XCTAssertEqual(trainer.model.parameters.array.map(\.bitPattern), base.parameters.array.map(\.bitPattern))
        let adapter = try XCTUnwrap(trainer.model.adapter)
        XCTAssertFalse(adapter.isIdentity, "B trained")
        XCTAssertEqual(trainer.trainableParameterCount, 2 * 16 * 4 * 16, "16·r·d per block, 2 blocks")
        // Bound: the loss's float32 rounding (2ε · ln 2), as in TRLTrainerParityTests.
        XCTAssertEqual(try XCTUnwrap(records[0]["loss"] as? Double), log(2), accuracy: 2 * Double(Float.ulpOfOne) * log(2))
        XCTAssertEqual(try XCTUnwrap(records[0]["rewards/margins"] as? Double), 0)
        XCTAssertNotEqual(try XCTUnwrap(records[5]["rewards/margins"] as? Double), 0)

        let output = run.directory.appendingPathComponent("fresh")
        let final = try PEFTAdapter.load(from: output.appendingPathComponent("final"), config: base.config)
        XCTAssertEqual(final.parameters.array, adapter.parameters.array)
        let checkpoint = output.appendingPathComponent("checkpoint-6")
        let manager = FileManager.default
        for directory in [output.appendingPathComponent("final"), checkpoint] {
            XCTAssertFalse(manager.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path), directory.path)
            XCTAssertTrue(manager.fileExists(atPath: directory.appendingPathComponent("adapter_config.json").path), directory.path)
        }
        XCTAssertFalse(manager.fileExists(atPath: checkpoint.appendingPathComponent("reference_adapter").path))
        let optimizer = try CheckpointStore.load(checkpoint).optimizer
        XCTAssertEqual(try optimizer.moments(of: 0..<adapter.layout.count).m.count, adapter.layout.count)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("final/adapter_config.json")))
        XCTAssertEqual((config as? [String: Any])?["base_model_name_or_path"] as? String, run.modelDirectory.path)
    }

    /// `adapter`: the reference is the base with a frozen copy of that adapter, so step 1's
    /// rewards are 0 (to rounding) and the checkpoint's `reference_adapter/` is the starting
    /// adapter. After an SFT phase, the copy is the adapter at the DPO start (`sft/`, saved in
    /// PEFT's form): the first DPO step's rewards are 0 again.
    func testAContinuedAdaptersReferenceIsAFrozenCopyOfItsStart() throws {
        let run = try TinyRun()
        let start = try trainedAdapter(run)
        let config = try run.modelConfig()
        for sft in [0, 2] {
            let output = "continue-sft\(sft)"
            let records = try train(loraConfig(run, output) { $0.loraR = 0; $0.adapter = start.path; $0.sftSteps = sft }).records
            try assertRewardsAreZero(records[sft])
            XCTAssertGreaterThan(abs(try XCTUnwrap(records[sft + 3]["rewards/margins"] as? Double)), 1e-4, "the policy moved")
            let directory = run.directory.appendingPathComponent(output)
            let reference = try PEFTAdapter.load(from: directory.appendingPathComponent("checkpoint-\(6 + sft)/reference_adapter"),
                                                 config: config)
            let expected = try PEFTAdapter.load(from: sft > 0 ? directory.appendingPathComponent("sft") : start, config: config)
            XCTAssertEqual(reference.parameters.array, expected.parameters.array, "sft_steps \(sft)")
        }
    }

    /// A checkpoint of a LoRA run resumes exactly (metrics and adapter bit for bit): a fresh
    /// adapter, a continued one after an SFT phase (its reference adapter read back), and one with
    /// adapter dropout (the masks go on where they were).
    func testResumingALoRARunEqualsTheUninterruptedRun() throws {
        let run = try TinyRun()
        let start = try trainedAdapter(run)
        for (name, change) in [("fresh", { (_: inout TrainingConfig) in }),
                               ("sft", { (config: inout TrainingConfig) in config.loraR = 0; config.adapter = start.path; config.sftSteps = 2 }),
                               ("dropout", { (config: inout TrainingConfig) in config.loraDropout = 0.3 })] {
            let config = { (output: String) in self.loraConfig(run, output) { change(&$0); $0.saveSteps = 3 } }
            let whole = try run.train(config("\(name)-whole"))
            try ResumeMidEpochTests.startFrom(run, checkpoint: 3, of: "\(name)-whole", into: "\(name)-resumed")
            let resumed = try run.train(config("\(name)-resumed"), resume: "latest")
            XCTAssertEqual(resumed.records.map { $0["step"] as? Int }, Array(4...(6 + (name == "sft" ? 2 : 0))), name)
            assertSameMetrics(Array(whole.records.dropFirst(3)), resumed.records, tolerance: 0)
            XCTAssertEqual(whole.weights, resumed.weights, name)
        }
    }

    /// Resuming with settings of another kind of run is refused with the reason: a LoRA
    /// checkpoint without LoRA, with another r, and a full checkpoint with LoRA.
    func testResumingWithOtherLoRASettingsIsRefused() throws {
        let run = try TinyRun()
        try run.train(loraConfig(run, "lora") { $0.maxSteps = 2 })
        try run.train(run.config(output: "full") { $0.maxSteps = 2 })
        for (checkpoint, change, fragment) in [
            ("lora", { (config: inout TrainingConfig) in config.loraR = 0 },
             "trained a LoRA adapter (r 4, alpha 8.0, targets c_attn,c_proj,c_fc, dropout 0.0), but this run's settings train every weight (no LoRA)"),
            ("lora", { (config: inout TrainingConfig) in config.loraR = 8 }, "but this run's settings train a LoRA adapter (r 8, alpha 16.0"),
            ("full", { (config: inout TrainingConfig) in config.loraR = 4 }, "trained every weight (no LoRA), but this run's settings train a LoRA adapter (r 4"),
        ] {
            var config = run.config(output: checkpoint) { $0.maxSteps = 3 }
            change(&config)
            XCTAssertThrowsError(try run.train(config, resume: "latest")) {
                XCTAssertTrue("\($0)".contains("cannot resume: ") && "\($0)".contains(fragment), "«\($0)» should contain «\(fragment)»")
            }
        }
    }

    /// A checkpoint whose adapter does not fit is refused, naming the file: tensors of another r,
    /// and settings other than the run's trainer state records.
    func testACheckpointWhoseAdapterDoesNotFitIsRefused() throws {
        let run = try TinyRun()
        try run.train(loraConfig(run, "lora") { $0.maxSteps = 1 })
        let checkpoint = run.directory.appendingPathComponent("lora/checkpoint-1")
        let file = checkpoint.appendingPathComponent("adapter_config.json")
        let original = try Data(contentsOf: file)
        for (key, value, fragment) in [("r", 8, "adapter_model.safetensors"), ("lora_alpha", 16, "adapter_config.json describes an adapter with r 4, alpha 16.0")] {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: original) as? [String: Any])
            object[key] = value
            try JSONSerialization.data(withJSONObject: object).write(to: file)
            XCTAssertThrowsError(try CheckpointStore.load(checkpoint)) {
                XCTAssertTrue("\($0)".contains(fragment), "\(key): «\($0)» should contain «\(fragment)»")
            }
        }
    }

    /// `precompute_ref` with a LoRA reference (base + a frozen adapter copy) logs what the live
    /// reference logs, up to float32 summation order (`trajectoryTolerance`); its cache file is
    /// keyed by the adapter: a fresh adapter's (the base's) and another adapter's are other files.
    func testPrecomputedLoRAReferenceEqualsLiveAndIsKeyedByTheAdapter() throws {
        let run = try TinyRun()
        let start = try trainedAdapter(run)
        let cache = run.directory.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let config = { (output: String, precompute: Bool, adapter: URL?) in
            self.loraConfig(run, output) {
                if let adapter { $0.loraR = 0; $0.adapter = adapter.path }
                $0.precomputeRef = precompute
                $0.refCacheDir = cache.path
                $0.maxSteps = 3
            }
        }
        let live = try run.train(config("live", false, start))
        let cached = try run.train(config("cached", true, start))
        assertSameMetrics(live.records, cached.records, tolerance: trajectoryTolerance)
        func files() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: cache.path).count }
        XCTAssertEqual(try files(), 1)
        try run.train(config("fresh", true, nil))
        XCTAssertEqual(try files(), 2, "the base's log-probs are another cache")
        let other = try train(loraConfig(run, "other") { $0.maxSteps = 1; $0.seed = 5 })
        XCTAssertNotNil(other.trainer.model.adapter)
        try run.train(config("other-cached", true, run.directory.appendingPathComponent("other/final")))
        XCTAssertEqual(try files(), 3, "another adapter's log-probs are another cache")
    }

    /// Evaluation runs the policy without adapter dropout (PyTorch's eval mode): two evaluations
    /// of the same adapter agree exactly, with a dropout of 0.5 in training.
    func testEvaluationDropsNothing() throws {
        let run = try TinyRun()
        let (trainer, records) = try train(loraConfig(run, "dropout") { $0.loraDropout = 0.5; $0.valSize = 8; $0.maxSteps = 2 })
        XCTAssertNotNil(records.last?["eval_loss"])
        XCTAssertEqual(try trainer.evaluate(), try trainer.evaluate())
    }

    /// `generate_during_eval` generates the policy's samples with its adapter (the key/value-cache
    /// generator runs a copy with the adapter merged): after training at a high learning rate its
    /// greedy completions differ from the reference's (the base: a fresh adapter).
    func testSamplesDuringEvaluationUseTheAdapter() throws {
        let run = try TinyRun()
        try train(loraConfig(run, "samples") { $0.valSize = 8; $0.generateDuringEval = 4; $0.maxNewTokens = 8; $0.learningRate = 0.1 })
        let lines = try String(contentsOf: run.directory.appendingPathComponent("samples/samples.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines.contains { ($0["policy"] as? String) != ($0["reference"] as? String) }, "\(lines)")
    }

    /// Every loss trains the adapter alone with either reference source (live, none for the
    /// reference-free ones): the run completes with finite losses and the base unchanged.
    func testEveryLossTrainsALoRAAdapter() throws {
        let run = try TinyRun()
        let start = try trainedAdapter(run)
        let base = try HFCheckpoint.load(from: run.modelDirectory).parameters.array
        for type in LossType.allCases {
            let (trainer, records) = try train(loraConfig(run, type.rawValue) {
                $0.loraR = 0
                $0.adapter = start.path
                $0.loss = [type.rawValue]
                $0.maxSteps = 2
                if type == .exoPair { $0.labelSmoothing = 0.01 }
            })
            XCTAssertTrue(records.allSatisfy { ($0["loss"] as? Double)?.isFinite == true }, type.rawValue)
            XCTAssertEqual(trainer.model.parameters.array, base, type.rawValue)
        }
    }
}

extension TinyRun {
    /// The model's shape.
    func modelConfig() throws -> GPT2Config {
        try HFConfigFile.read(modelDirectory.appendingPathComponent("config.json"))
    }
}

import DPO
import Foundation
import GPT2
import TestSupport
import XCTest

/// The LoRA settings of `train` (docs/lora.md): refused before any work when they cannot work,
/// read from YAML (a list or a comma-separated string) and the command line alike.
final class LoRAOptionTests: XCTestCase {
    func assertRefused(_ change: (inout TrainingConfig) -> Void, _ fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TinyRun()
        XCTAssertThrowsError(try run.config(output: "x", change).validate(worldSize: 1), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(fragment), "«\($0)» should contain «\(fragment)»", file: file, line: line)
        }
    }

    func testInvalidLoRASettingsAreRefusedBeforeAnyWork() throws {
        try assertRefused({ $0.loraR = -4 }, "lora_r must be >= 0 (0: train every weight, no adapter), got -4")
        try assertRefused({ $0.loraR = 4; $0.loraAlpha = 0 }, "lora_alpha must be a positive number, got 0.0")
        try assertRefused({ $0.loraR = 4; $0.loraAlpha = -8 }, "lora_alpha must be a positive number, got -8.0")
        try assertRefused({ $0.loraR = 4; $0.loraDropout = 1 }, "lora_dropout must be in [0, 1), got 1.0")
        try assertRefused({ $0.loraR = 4; $0.loraTargets = [] }, "lora_targets (PEFT's target_modules) is empty")
        try assertRefused({ $0.loraR = 4; $0.loraTargets = ["c_attn", "wte"] }, "lora_targets: 'wte' is not a Conv1D layer of GPT-2")
        try assertRefused({ $0.loraAlpha = 8 }, "lora_alpha has no effect without LoRA (lora_r is 0 and no adapter is given)")
        try assertRefused({ $0.loraTargets = ["c_fc"] }, "lora_targets has no effect without LoRA")
        try assertRefused({ $0.useRslora = true }, "use_rslora has no effect without LoRA")
        try assertRefused({ $0.adapter = "/nonexistent/adapter" }, "adapter: /nonexistent/adapter is not a directory")
        try assertRefused({ $0.loraR = 4; $0.syncRefModel = true },
                          "sync_ref_model does not work with LoRA: TRL 1.16 raises NotImplementedError")
    }

    func train(_ arguments: [String]) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, ["train"] + arguments, environment: ProcessInfo.processInfo.environment, timeout: 120)
    }

    /// `lora_targets` as a YAML list, the other keys, and the command line's options over them
    /// reach the run (its resolved config).
    func testLoRAKeysFromYAMLAndTheCommandLineReachTheRun() throws {
        let run = try TinyRun()
        let yaml = try run.configFile("lora.yaml", """
            model: model
            data: pairs.jsonl
            batch_size: 8
            max_steps: 1
            lora_r: 2
            lora_targets: [c_attn, mlp.c_proj]
            lora_dropout: 0.1
            use_rslora: true

            """)
        for (extra, expected) in [
            ([String](), ["lora_r: 2\n", "lora_targets: [\"c_attn\", \"mlp.c_proj\"]\n", "lora_dropout: 0.1\n", "use_rslora: true\n"]),
            (["--lora-targets", "c_fc, attn.c_proj", "--no-use-rslora", "--lora-alpha", "3"],
             ["lora_r: 2\n", "lora_alpha: 3\n", "lora_targets: [\"c_fc\", \"attn.c_proj\"]\n", "use_rslora: false\n"]),
        ] {
            let output = run.directory.appendingPathComponent("out\(extra.count)")
            let outcome = try train(["--config", yaml.path, "--output-dir", output.path] + extra)
            XCTAssertEqual(outcome.status, 0, outcome.output)
            let resolved = try String(contentsOf: output.appendingPathComponent("resolved_config.yaml"), encoding: .utf8)
            for line in expected { XCTAssertTrue(resolved.contains(line), "\(line) in \(resolved)") }
        }
    }

    /// `adapter`'s settings are the run's; a `lora_*` setting that disagrees with its
    /// `adapter_config.json` is refused before any work, naming both.
    func testASettingThatDisagreesWithTheAdapterIsRefused() throws {
        let run = try TinyRun()
        let directory = run.directory.appendingPathComponent("adapter")
        let adapter = try LoRAAdapter(config: try run.modelConfig(), settings: LoRASettings(rank: 4, alpha: 8, targets: ["c_attn", "c_fc"]))
        try PEFTAdapter.save(adapter, to: directory, baseModel: run.modelDirectory.path)
        let base = ["--model", run.modelDirectory.path, "--data", run.dataURL.path, "--adapter", directory.path, "--max-steps", "1"]
        let file = directory.appendingPathComponent("adapter_config.json").path
        for (extra, fragment) in [
            (["--lora-r", "8"], "lora_r 8 disagrees with the adapter \(file), whose r is 4"),
            (["--lora-alpha", "16"], "lora_alpha 16.0 disagrees with the adapter \(file), whose lora_alpha is 8.0"),
            (["--lora-targets", "c_attn"], "lora_targets c_attn disagrees with the adapter \(file), whose target_modules is c_attn,c_fc"),
            (["--use-rslora"], "use_rslora true disagrees with the adapter \(file), whose use_rslora is false"),
        ] {
            let output = run.directory.appendingPathComponent("never")
            let outcome = try train(base + ["--output-dir", output.path] + extra)
            XCTAssertNotEqual(outcome.status, 0, outcome.output)
            XCTAssertTrue(outcome.output.contains(fragment), "«\(outcome.output)» should contain «\(fragment)»")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing may be written for a bad config")
        }
        let output = run.directory.appendingPathComponent("agreed")
        let outcome = try train(base + ["--output-dir", output.path, "--lora-r", "4", "--lora-targets", "c_fc,c_attn"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let resolved = try String(contentsOf: output.appendingPathComponent("resolved_config.yaml"), encoding: .utf8)
        XCTAssertTrue(resolved.contains("lora_alpha: 8\n"), resolved)
    }

    /// LoRA with a `ref_model` is allowed (that model is the reference), as is any loss.
    func testLoRAWithRefModelAndOtherLossesPasses() throws {
        let run = try TinyRun()
        XCTAssertNoThrow(try run.config(output: "ok") { $0.loraR = 4 }.validate(worldSize: 1))
        XCTAssertNoThrow(try run.config(output: "ok") { $0.loraR = 4; $0.refModel = $0.model }.validate(worldSize: 1))
        XCTAssertNoThrow(try run.config(output: "ok") { $0.loraR = 4; $0.loss = ["ipo"]; $0.precomputeRef = true }.validate(worldSize: 1))
    }
}

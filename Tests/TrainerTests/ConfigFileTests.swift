import Foundation
import TestSupport
import XCTest

/// `train --config FILE` and the command line read settings the same way: negative numbers reach
/// the settings' validation, a key set twice and conflicting settings are refused before any work.
final class ConfigFileTests: XCTestCase {
    func train(_ arguments: [String]) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, ["train"] + arguments,
                              environment: ProcessInfo.processInfo.environment, timeout: 120)
    }

    /// A negative value for each numeric setting that refuses one: written as `KEY: -V` in YAML and
    /// as `--key -V` on the command line, the error names the setting and the value (the argument
    /// parser used to answer "Missing value for '--beta <beta>'").
    static let negativeSettings: [(key: String, value: String)] = [
        ("beta", "-0.1"), ("label_smoothing", "-0.1"), ("simpo_gamma", "-0.5"), ("learning_rate", "-0.5"),
        ("warmup_steps", "-1"), ("warmup_ratio", "-0.1"), ("max_grad_norm", "-1"), ("weight_decay", "-0.5"),
        ("adam_beta1", "-0.9"), ("adam_beta2", "-0.9"), ("adam_epsilon", "-0.5"), ("batch_size", "-8"),
        ("max_steps", "-3"), ("epochs", "-1"), ("sft_steps", "-1"), ("sft_learning_rate", "-0.5"),
        ("max_length", "-5"), ("logging_steps", "-1"), ("eval_steps", "-1"), ("save_steps", "-1"), ("save_total_limit", "-1"), ("threads", "-2"),
        ("zero", "-1"), ("bucket_cap_mb", "-1"), ("fail_rank", "-1"), ("lora_r", "-1"),
    ]

    func testNegativeNumbersReachValidationInYAMLAndOnTheCommandLine() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("never")
        for (index, (key, value)) in Self.negativeSettings.enumerated() {
            let extra = key == "label_smoothing" ? "loss: [sigmoid]\n" : key == "simpo_gamma" ? "loss: [simpo]\n" : ""
            // A file name that cannot match the message.
            let yaml = try run.configFile("setting\(index).yaml",
                                          "model: model\ndata: pairs.jsonl\noutput_dir: never\n\(extra)\(key): \(value)\n")
            let option = "--" + key.replacingOccurrences(of: "_", with: "-")
            let fromFile = try train(["--config", yaml.path])
            let fromLine = try train(["--model", run.modelDirectory.path, "--data", run.dataURL.path, "--output-dir", output.path,
                                      "--loss", key == "simpo_gamma" ? "simpo" : "sigmoid", option, value])
            for (source, outcome) in [("YAML", fromFile), ("command line", fromLine)] {
                XCTAssertNotEqual(outcome.status, 0, "\(source) \(key): \(value) was accepted: \(outcome.output)")
                XCTAssertTrue(outcome.output.contains(key) && outcome.output.contains(value),
                              "\(source) \(key): \(value) should be refused naming both: \(outcome.output)")
                XCTAssertFalse(outcome.output.contains("Missing value"), "\(source) \(key): \(outcome.output)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing may be written for a bad config")
    }

    /// A negative value that is valid (a seed, loss weights) is taken from YAML and the command line alike.
    func testValidNegativeNumbersAreTaken() throws {
        let run = try TinyRun()
        let yaml = try run.configFile("seed.yaml", "model: model\ndata: pairs.jsonl\nmax_steps: 1\nsave_steps: 0\noutput_dir: file\nseed: -7\nloss: [sigmoid, sft]\nloss_weights: [-0.5, 1]\n")
        let fromFile = try train(["--config", yaml.path])
        XCTAssertEqual(fromFile.status, 0, fromFile.output)
        let fromLine = try train(["--config", yaml.path, "--seed", "-9", "--loss-weights", "-0.25,1", "--output-dir",
                                  run.directory.appendingPathComponent("line").path])
        XCTAssertEqual(fromLine.status, 0, fromLine.output)
        for (output, seed, weight) in [("file", "-7", "-0.5"), ("line", "-9", "-0.25")] {
            let resolved = try String(contentsOf: run.directory.appendingPathComponent("\(output)/resolved_config.yaml"), encoding: .utf8)
            XCTAssertTrue(resolved.contains("seed: \(seed)\n"), resolved)
            XCTAssertTrue(resolved.contains("loss_weights: [\(weight), 1"), resolved)
        }
    }

    func testKeySetTwiceIsRefusedWithFileKeyAndLines() throws {
        let run = try TinyRun()
        let yaml = try run.configFile("twice.yaml", "model: model\nbeta: 0.1\ndata: pairs.jsonl\nmax_steps: 1\noutput_dir: out\nbeta: 0.5\n")
        let outcome = try train(["--config", yaml.path])
        XCTAssertNotEqual(outcome.status, 0, outcome.output)
        XCTAssertTrue(outcome.output.contains("\(yaml.path):6: beta is set twice (also on line 2)"), outcome.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.directory.appendingPathComponent("out").path))
    }

    func testReferenceFreeWithRefModelIsRefusedBeforeAnyWork() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("never")
        let outcome = try train(["--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-steps", "1",
                                 "--reference-free", "--ref-model", run.modelDirectory.path, "--output-dir", output.path])
        XCTAssertNotEqual(outcome.status, 0, outcome.output)
        XCTAssertTrue(outcome.output.contains("reference_free and ref_model conflict"), outcome.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing may be written for a bad config")
    }
}

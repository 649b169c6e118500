import Foundation
import TestSupport
import XCTest

/// The data workflow through `dpo-ddp train`: a YAML list of data files (relative to the config
/// file) or a comma-separated --data, mixed, split and sampled; and the example configs users copy.
final class DataWorkflowCommandLineTests: XCTestCase {
    func train(_ arguments: [String]) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, ["train"] + arguments, environment: ProcessInfo.processInfo.environment, timeout: 300)
    }

    func testYAMLListAndCommaSeparatedDataMixTwoFormats() throws {
        let run = try TinyRun()
        _ = try run.writeAlpaca()
        let config = try run.configFile("mixed.yaml", """
            model: model
            data: [pairs.jsonl, alpaca.json]
            mix_strategy: interleave_under
            interleave_probs: [0.5, 0.5]
            val_size: 4
            max_length: 64
            batch_size: 8
            max_steps: 2
            eval_steps: 1
            generate_during_eval: 2
            max_new_tokens: 4
            output_dir: out
            """)
        let outcome = try train(["--config", config.path])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        XCTAssertTrue(outcome.output.contains("train data \(run.dataURL.path): 24 rows (standard)"), outcome.output)
        XCTAssertTrue(outcome.output.contains("train data \(run.directory.appendingPathComponent("alpaca.json").path): 10 rows (alpaca)"),
                      outcome.output)
        XCTAssertTrue(outcome.output.contains("train data mixed from 2 files (interleave_under): "), outcome.output)
        let out = run.directory.appendingPathComponent("out")
        let samples = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        XCTAssertEqual(samples.split(separator: "\n").count, 4, "2 evaluations x 2 prompts")
        XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8).contains("<h2>Samples</h2>"))

        // The same files as one comma-separated string in YAML, each relative to the config file.
        let comma = try run.configFile("comma.yaml", """
            model: model
            data: pairs.jsonl, alpaca.json
            max_length: 64
            batch_size: 8
            max_steps: 1
            output_dir: out3
            """)
        let commaYAML = try train(["--config", comma.path])
        XCTAssertEqual(commaYAML.status, 0, commaYAML.output)
        XCTAssertTrue(commaYAML.output.contains("train data mixed from 2 files (concat): 34 pairs"), commaYAML.output)

        let commaSeparated = try train(["--model", run.modelDirectory.path, "--data",
                                        run.dataURL.path + "," + run.directory.appendingPathComponent("alpaca.json").path,
                                        "--max-length", "64", "--batch-size", "8", "--max-steps", "1",
                                        "--output-dir", run.directory.appendingPathComponent("out2").path])
        XCTAssertEqual(commaSeparated.status, 0, commaSeparated.output)
        XCTAssertTrue(commaSeparated.output.contains("train data mixed from 2 files (concat): 34 pairs (24 from pairs.jsonl, 10 from alpaca.json)"),
                      commaSeparated.output)
    }

    /// The example configs in configs/ parse, validate and train (shrunk: a tiny model, a few pairs, one step).
    func testExampleConfigsRun() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("example-configs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        for name in ["gpt2-dpo-en-demo.yaml", "gpt2-slurm.yaml"] {
            let outcome = try train(["--config", configs.appendingPathComponent(name).path, "--model", "gpt2-tiny",
                                     "--max-samples", "24", "--val-size", "8", "--max-length", "128", "--batch-size", "8",
                                     "--micro-batch-size", "8", "--max-steps", "1", "--no-precompute-ref", "--max-new-tokens", "4",
                                     "--output-dir", output.appendingPathComponent(name).path])
            XCTAssertEqual(outcome.status, 0, "\(name): \(outcome.output)")
            XCTAssertTrue(outcome.output.contains("val_size 8: 8 of 24 pairs held out for evaluation"), "\(name): \(outcome.output)")
        }
    }
}

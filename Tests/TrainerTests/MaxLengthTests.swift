import Foundation
import TestSupport
import XCTest

/// `max_length` against the model's `n_positions`, checked before any work by every command that
/// scores sequences (a pair longer than the position embedding would otherwise stop training at
/// whatever step it comes up).
final class MaxLengthTests: XCTestCase {
    func dpoDDP(_ arguments: [String]) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, arguments, environment: ProcessInfo.processInfo.environment, timeout: 120)
    }

    /// Without `--max-length` a model with 64 positions trains at 64 (not 1024, which a long pair
    /// would overflow); an explicit 65 is refused naming both numbers, before anything is written.
    func testTrainDefaultsToThePositionsAndRefusesMore() throws {
        let run = try TinyRun(positions: 64)
        let output = run.directory.appendingPathComponent("out")
        let base = ["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-steps", "1",
                    "--output-dir", output.path]
        let refused = try dpoDDP(base + ["--max-length", "65"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("max_length 65 exceeds the n_positions 64 of model \(run.modelDirectory.path)"),
                      refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "refused before any work")

        let trained = try dpoDDP(base)
        XCTAssertEqual(trained.status, 0, trained.output)
        let resolved = try String(contentsOf: output.appendingPathComponent("resolved_config.yaml"), encoding: .utf8)
        XCTAssertTrue(resolved.contains("max_length: 64\n"), resolved)
    }

    /// The reference model counts too: a longer max_length than its n_positions is refused.
    func testTrainRefusesMoreThanTheReferencePositions() throws {
        let short = try TinyRun(positions: 32)
        let run = try TinyRun(positions: 64)
        let outcome = try dpoDDP(["train", "--model", run.modelDirectory.path, "--ref-model", short.modelDirectory.path,
                                  "--data", run.dataURL.path, "--max-length", "64", "--max-steps", "1",
                                  "--output-dir", run.directory.appendingPathComponent("out").path])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.output.contains("max_length 64 exceeds the n_positions 32 of model \(short.modelDirectory.path)"),
                      outcome.output)
    }

    /// `eval` checks the evaluated policy, `logps` its model, `generate` the prompt plus the new tokens.
    func testEvalLogpsAndGenerateRefuseMoreThanThePositions() throws {
        let run = try TinyRun(positions: 64)
        let model = run.modelDirectory.path
        let eval = try dpoDDP(["eval", "--policy", "gpt2-tiny", "--model", model, "--data", run.dataURL.path,
                               "--max-length", "100"])
        XCTAssertNotEqual(eval.status, 0)
        XCTAssertTrue(eval.output.contains("max_length 100 exceeds the n_positions 64 of model \(model)"), eval.output)

        let logps = try dpoDDP(["logps", "--model", model, "--data", run.dataURL.path, "--max-length", "65"])
        XCTAssertNotEqual(logps.status, 0)
        XCTAssertTrue(logps.output.contains("max_length 65 exceeds the n_positions 64 of model \(model)"), logps.output)
        let fits = try dpoDDP(["logps", "--model", model, "--data", run.dataURL.path])
        XCTAssertEqual(fits.status, 0, fits.output)

        let generate = try dpoDDP(["generate", "--model", model, "--prompt", "one two three", "--max-new-tokens", "62",
                                   "--greedy"])
        XCTAssertNotEqual(generate.status, 0)
        XCTAssertTrue(generate.output.contains("3 prompt tokens + --max-new-tokens 62 = 65 exceed the n_positions 64 of model \(model)"),
                      generate.output)
        let generated = try dpoDDP(["generate", "--model", model, "--prompt", "one two three", "--max-new-tokens", "61",
                                    "--greedy"])
        XCTAssertEqual(generated.status, 0, generated.output)
    }
}

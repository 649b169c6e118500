import Foundation
import TestSupport
import XCTest

/// `dpo-ddp plan`'s JSON line, issue 13's gpt2-xl bar, and `train`'s refusal of a run that does
/// not fit the node's memory.
final class PlanCommandTests: XCTestCase {
    func dpoDDP(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessOutcome {
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        return try ProcessRunner.run(ProcessRunner.dpoDDP, arguments, environment: environment, timeout: 120)
    }

    /// The last line of `outcome`'s output as a JSON object.
    func jsonLine(_ outcome: ProcessOutcome) throws -> [String: Any] {
        let last = try XCTUnwrap(outcome.output.split(separator: "\n").last, outcome.output)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], outcome.output)
    }

    /// GPT-2 XL (1,557,611,200 parameters) over 8 ranks with ZeRO-2, checkpointing and a
    /// precomputed reference at 1024 tokens needs under 12 GB per rank during a step. The JSON's
    /// total is the sum of its step components, and its shard sizes are the hand-computed ones.
    func testGPT2XLOnEightRanksUnderTwelveGB() throws {
        let outcome = try dpoDDP(["plan", "--model", "gpt2-xl", "--max-length", "1024", "--micro-batch-size", "1",
                                  "--ranks", "8", "--zero", "2", "--gradient-checkpointing", "--precompute-ref",
                                  "--memory-gb", "16"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let json = try jsonLine(outcome)
        let total = try XCTUnwrap(json["per_rank_total_bytes"] as? Int)
        XCTAssertLessThan(total, 12_000_000_000, outcome.output)
        let step = ["weights", "bf16_weights", "gradients", "adamw_moments", "reference_weights", "reference_activations",
                    "activations", "bf16_scratch", "communication", "runtime"]
        XCTAssertEqual(try step.map { try XCTUnwrap(json[$0 + "_bytes"] as? Int, $0) }.reduce(0, +), total)
        XCTAssertEqual(json["weights_bytes"] as? Int, 4 * 1_557_611_200)
        XCTAssertEqual(json["gradients_bytes"] as? Int, 4 * 194_701_400, "1/8 of the parameters")
        XCTAssertEqual(json["adamw_moments_bytes"] as? Int, 8 * 194_701_400)
        XCTAssertEqual(json["reference_weights_bytes"] as? Int, 0)
        XCTAssertEqual(json["packed_rows"] as? Int, 2_048)
        XCTAssertEqual(json["memory_bytes"] as? Int, 16_000_000_000)
    }

    /// With a node memory far below the tiny run's plan, `train` refuses before writing anything
    /// and says why and what would help; `--ignore-memory-check` runs it.
    /// `plan --lora-r 16` on gpt2-xl: 16·r·C·L = 256·1600·48 = 19,660,800 adapter parameters
    /// (PEFT's count, docs/lora.md) carry the gradient and AdamW's moments, the 1,557,611,200
    /// base weights none; the reference shares the base. With `--adapter` (read from the file: the
    /// fixture's r 4 on a GPT-2 of C = 32, L = 2, 16·4·32·2 = 4,096 parameters) the reference
    /// holds a copy of it.
    func testLoRAPlans() throws {
        let outcome = try dpoDDP(["plan", "--model", "gpt2-xl", "--lora-r", "16", "--max-length", "1024", "--micro-batch-size", "1",
                                  "--gradient-checkpointing", "--memory-gb", "24"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let json = try jsonLine(outcome)
        XCTAssertEqual(json["trainable_parameters"] as? Int, 19_660_800)
        XCTAssertEqual(json["weights_bytes"] as? Int, 4 * 1_557_611_200)
        XCTAssertEqual(json["adapter_weights_bytes"] as? Int, 4 * 19_660_800)
        XCTAssertEqual(json["gradients_bytes"] as? Int, 4 * 19_660_800)
        XCTAssertEqual(json["adamw_moments_bytes"] as? Int, 8 * 19_660_800)
        XCTAssertEqual(json["reference_weights_bytes"] as? Int, 0)
        let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
        let continued = try dpoDDP(["plan", "--model", fixtures.appendingPathComponent("trl/model").path,
                                    "--adapter", fixtures.appendingPathComponent("lora/starting_adapter").path, "--max-length", "128"])
        XCTAssertEqual(continued.status, 0, continued.output)
        let adapter = try jsonLine(continued)
        XCTAssertEqual(adapter["trainable_parameters"] as? Int, 4_096)
        XCTAssertEqual(adapter["adapter_weights_bytes"] as? Int, 16_384)
        XCTAssertEqual(adapter["reference_weights_bytes"] as? Int, 16_384, "a frozen copy of the starting adapter")
    }

    func testTrainRefusesARunThatDoesNotFit() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("out")
        let arguments = ["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-steps", "1",
                         "--batch-size", "8", "--output-dir", output.path]
        let small = ["DPO_DDP_NODE_MEMORY_GB": "0.05"]
        let refused = try dpoDDP(arguments, environment: small)
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("of memory on this node"), refused.output)
        XCTAssertTrue(refused.output.contains("but it has 0.05 GB (DPO_DDP_NODE_MEMORY_GB)"), refused.output)
        XCTAssertTrue(refused.output.contains("--ignore-memory-check"), refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "refused before any work")

        let forced = try dpoDDP(arguments + ["--ignore-memory-check"], environment: small)
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("final").path), forced.output)
    }
}

import DPO
import Distributed
import Foundation
import GPT2
import TestSupport
import XCTest

/// `gradient_checkpointing` in training: the same run, bit for bit, in less activation memory.
final class GradientCheckpointingRunTests: XCTestCase {
    /// Runs `config` to the end; returns the metrics records, the final weights and the bytes of
    /// activations the policy held at the end.
    func train(_ run: TinyRun, _ config: TrainingConfig, resume: String? = nil)
        throws -> (records: [[String: Any]], weights: [Float], activationBytes: Int) {
        try config.validate(worldSize: 1)
        let (trainer, _) = try TrainingRun.prepare(config: config, communicator: LocalCommunicator(), resume: resume)
        try trainer.run()
        return (try TinyRun.records(URL(fileURLWithPath: config.outputDir)), trainer.model.parameters.array,
                trainer.model.allocatedActivationBytes)
    }

    /// Metrics at every step (evaluation included) and the final weights are bit-identical with
    /// and without checkpointing, in float32 and bfloat16 matmuls, with two micro-batches per
    /// step; the checkpointing run's policy holds less activation memory.
    func testCheckpointedRunIsBitIdentical() throws {
        let run = try TinyRun()
        for bf16 in [false, true] {
            func config(_ output: String, checkpointing: Bool) -> TrainingConfig {
                run.config(output: output) {
                    $0.bf16 = bf16
                    $0.microBatchSize = 4
                    $0.valSize = 4
                    $0.evalSteps = 3
                    $0.gradientCheckpointing = checkpointing
                }
            }
            let full = try train(run, config("full-\(bf16)", checkpointing: false))
            let checkpointed = try train(run, config("checkpointed-\(bf16)", checkpointing: true))
            XCTAssertEqual(full.records.count, 6 + 2, "6 steps and 2 evaluations")
            for (x, y) in zip(checkpointed.records, full.records) {
                let keys = Set(x.keys).union(y.keys).subtracting(["pairs_per_second", "tokens_per_second", "allreduce_seconds"])
                for key in keys.sorted() {
                    XCTAssertEqual("\(x[key] ?? "missing")", "\(y[key] ?? "missing")", "bf16 \(bf16): \(key) at step \(y["step"] ?? "?")")
                }
            }
            XCTAssertEqual(checkpointed.weights.map(\.bitPattern), full.weights.map(\.bitPattern), "bf16 \(bf16): final weights")
            XCTAssertLessThan(checkpointed.activationBytes, full.activationBytes, "bf16 \(bf16): the policy kept every block")
        }
    }

    /// A checkpoint written without checkpointing resumes with it (a setting that changes only
    /// memory and time), and ends on exactly the uninterrupted run's weights.
    func testResumeMayTurnCheckpointingOn() throws {
        let run = try TinyRun()
        let whole = try train(run, run.config(output: "whole"))
        try train(run, run.config(output: "resumed") { $0.maxSteps = 3; $0.saveSteps = 3 })
        let resumed = try train(run, run.config(output: "resumed") { $0.gradientCheckpointing = true }, resume: "latest")
        XCTAssertEqual(resumed.records.map { $0["step"] as? Int }, Array(1...6), "steps 1-3 before the checkpoint, 4-6 resumed")
        XCTAssertEqual(resumed.weights.map(\.bitPattern), whole.weights.map(\.bitPattern))
    }

    /// The YAML key `gradient_checkpointing` reaches the run's resolved config, and the command
    /// line's `--no-gradient-checkpointing` overrides it.
    func testConfigKeyAndFlagReachTheRun() throws {
        let run = try TinyRun()
        let yaml = try run.configFile("run.yaml", """
            model: model
            data: pairs.jsonl
            batch_size: 8
            max_steps: 1
            gradient_checkpointing: true

            """)
        for (extra, expected) in [([String](), "true"), (["--no-gradient-checkpointing"], "false")] {
            let output = run.directory.appendingPathComponent("out-\(expected)")
            let outcome = try ProcessRunner.run(ProcessRunner.dpoDDP, ["train", "--config", yaml.path, "--output-dir", output.path] + extra,
                                                environment: ProcessInfo.processInfo.environment, timeout: 120)
            XCTAssertEqual(outcome.status, 0, outcome.output)
            let resolved = try String(contentsOf: output.appendingPathComponent("resolved_config.yaml"), encoding: .utf8)
            XCTAssertTrue(resolved.contains("gradient_checkpointing: \(expected)\n"), resolved)
        }
    }
}

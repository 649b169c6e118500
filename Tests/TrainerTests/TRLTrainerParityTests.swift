import DPO
import Foundation
import TestSupport
import XCTest

/// `dpo-ddp train` reproduces TRL 1.16's DPOTrainer on the runs recorded by
/// `scripts/make_trl_trainer_fixtures.py` (a tiny GPT-2 saved by transformers, the real GPT-2
/// tokenizer, full-batch AdamW steps with constant LR and active clipping).
///
/// Tolerance 2e-4 relative, above the rounding floor of the metrics that start at 0 (rewards,
/// mean logits; `metricDeviation`): both sides compute in float32 in different orders, TRL summing
/// log-probs of ~100 in float32 (ulp 7.6e-6), and AdamW turns the relative rounding of small
/// gradient entries into lr-sized update differences over 8 steps. Observed ≤ 2.9e-5 (the grad norm at step
/// 2) with the Haswell, SkylakeX and Cooperlake kernels; a wrong loss, normalisation, scaling or
/// clipping rule moves these metrics by 1e-3 or more.
final class TRLTrainerParityTests: XCTestCase {
    static let tolerance = 2e-4

    static let compared = ["loss", "grad_norm", "rewards/margins", "rewards/chosen", "rewards/rejected",
                           "rewards/accuracies", "logps/chosen", "logps/rejected", "logits/chosen",
                           "logits/rejected", "num_tokens", "learning_rate"]

    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/trl") }

    /// Trains fixture run `name` (on `ranks` ranks under `mpirun` when more than 1); returns our
    /// records and TRL's.
    func run(_ name: String, extra: [String] = [], ranks: Int = 1) throws -> (ours: [[String: Any]], trl: [[String: Any]]) {
        try run(directory: fixtures.appendingPathComponent(name), extra: extra, ranks: ranks)
    }

    /// Trains the run whose `config.yaml` and `expected_metrics.jsonl` are in `directory`; returns
    /// our records and the expected ones. `inspect` sees the run directory before it is removed.
    func run(directory: URL, extra: [String] = [], ranks: Int = 1,
             inspect: (URL) throws -> Void = { _ in }) throws -> (ours: [[String: Any]], trl: [[String: Any]]) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("trl-\(directory.lastPathComponent)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let train = ["train", "--config", directory.appendingPathComponent("config.yaml").path,
                     "--output-dir", output.path, "--save-steps", "0"] + extra
        let outcome = ranks == 1
            ? try ProcessRunner.run(ProcessRunner.dpoDDP, train, environment: ProcessInfo.processInfo.environment, timeout: 300)
            : try ProcessRunner.run(try XCTUnwrap(ProcessRunner.findOnPath("mpirun"), "mpirun is not on PATH"),
                                    ["-np", "\(ranks)", "--oversubscribe", ProcessRunner.dpoDDP.path] + train,
                                    environment: ProcessRunner.mpiEnvironment, timeout: 300)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let trl = try String(contentsOf: directory.appendingPathComponent("expected_metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        try inspect(output)
        return (try TinyRun.records(output), trl)
    }

    func assertMatchesTRL(_ name: String, tolerance: Double = tolerance, extra: [String] = [], ranks: Int = 1,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let (ours, trl) = try run(name, extra: extra, ranks: ranks)
        XCTAssertGreaterThanOrEqual(trl.count, 8, file: file, line: line)
        let worst = assertStepsMatch(name, ours, trl, tolerance: tolerance, file: file, line: line)
        print("\(name) \(extra) against TRL: worst |Δ| / bound = \(worst) at tolerance \(tolerance)")
    }

    /// Compares every `compared` metric of every step of `ours` with TRL's records `trl` (same
    /// steps, each within `tolerance` by `metricDeviation`) and returns the worst deviation over
    /// its bound.
    func assertStepsMatch(_ name: String, _ ours: [[String: Any]], _ trl: [[String: Any]], tolerance: Double,
                          file: StaticString, line: UInt) -> Double {
        XCTAssertEqual(ours.count, trl.count, file: file, line: line)
        var worst = 0.0
        for (a, b) in zip(ours, trl) {
            XCTAssertEqual(a["step"] as? Int, b["step"] as? Int, file: file, line: line)
            for key in Self.compared {
                guard let x = a[key] as? Double, let y = b[key] as? Double else {
                    XCTFail("\(name) step \(b["step"] ?? "?"): \(key) missing", file: file, line: line)
                    continue
                }
                let deviation = metricDeviation(key, x, y, record: b, tolerance: tolerance, beta: 0.1)
                worst = max(worst, deviation)
                XCTAssertLessThanOrEqual(deviation, 1, "\(name) step \(b["step"] ?? "?") \(key): ours \(x), TRL \(y)",
                                         file: file, line: line)
            }
        }
        return worst
    }

    func testSigmoidRunMatchesTRL() throws { try assertMatchesTRL("sigmoid") }

    /// With `--bf16` (every matmul on bfloat16 inputs, ε_bf16 = 2⁻⁸ ≈ 3.9e-3 per input, float32
    /// accumulation; everything else float32) the trajectory stays within 5e-2 relative of TRL's
    /// float32 run: the bound of issue 12 (TRL's own bf16 autocast run is ~2e-2 from it). A matmul
    /// left in float32 passes too; a wrong rounding, a stale bfloat16 weight copy (not refreshed
    /// after a step) or a lost product moves the metrics far more.
    func testSigmoidRunInBF16StaysNearTRL() throws { try assertMatchesTRL("sigmoid", tolerance: 5e-2, extra: ["--bf16"]) }

    /// The reference runs in the policy's precision, so at step 1 (policy = reference) every
    /// log-ratio is exactly 0 and the sigmoid loss exactly ln 2, as in float32; a float32
    /// reference next to a bf16 policy would give log-ratios of ~ε_bf16 · |log-probs|. Bound: the
    /// loss's float32 rounding (2ε · ln 2).
    func testBF16FirstLossIsExactlyLn2() throws {
        let ours = try run("sigmoid", extra: ["--bf16", "--max-steps", "1"]).ours
        let loss = try XCTUnwrap(ours.first?["loss"] as? Double)
        XCTAssertEqual(loss, log(2), accuracy: 2 * Double(Float.ulpOfOne) * log(2))
        XCTAssertEqual(try XCTUnwrap(ours.first?["rewards/margins"] as? Double), 0)
    }

    func testIPORunMatchesTRL() throws { try assertMatchesTRL("ipo") }

    func testRobustRunWithLabelSmoothingMatchesTRL() throws { try assertMatchesTRL("robust") }

    /// 2 ranks sending gradients as bfloat16 (`--grad-comm-dtype bf16`) still follow TRL's fp32
    /// trajectory within 1e-2 relative: each rank's gradient is rounded to bf16 (relative error up
    /// to 2^-9 = 2e-3 per element) and so is their sum; AdamW normalises each update by its
    /// running RMS, so relative gradient errors of that size move an update by about as much, and
    /// 8 steps at lr 1e-3 keep the metrics within a few 1e-3. A gradient that is not summed over
    /// the ranks, or garbled on the way, misses by far more.
    func testSigmoidRunOnTwoRanksWithBF16GradientsMatchesTRL() throws {
        try assertMatchesTRL("sigmoid", tolerance: 1e-2, extra: ["--grad-comm-dtype", "bf16", "--micro-batch-size", "8"], ranks: 2)
    }

    /// The same trajectory with 4 micro-batches of 4 pairs instead of one batch of 16: equal
    /// within `trajectoryTolerance` (only float summation order differs).
    func testAccumulatedTrajectoryEqualsFullBatch() throws {
        let full = try run("sigmoid").ours
        let accumulated = try run("sigmoid", extra: ["--micro-batch-size", "4"]).ours
        assertSameMetrics(full, accumulated, tolerance: trajectoryTolerance)
    }
}

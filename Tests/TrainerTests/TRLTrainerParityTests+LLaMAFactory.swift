import XCTest

/// `dpo-ddp train --loss orpo` against LLaMA-Factory's `CustomDPOTrainer` (`pref_loss: orpo`, trl
/// 0.24 / transformers 4.57 as LLaMA-Factory pins them): 8 full-batch steps on the TRL fixtures'
/// model and pairs, made by `scripts/make_llamafactory_orpo_fixtures.py`.
///
/// LLaMA-Factory logs `logps/*` for orpo as means over pairs of the per-token mean log-prob a
/// (the quantity its loss reads), and `rewards/*` as β·a; dpo-ddp logs the same rewards but TRL's
/// `logps/*` (means of the summed log-probs). So our `logps/*` are compared with the sums the
/// script recorded from LLaMA-Factory's `get_batch_logps` in the same forward pass
/// (`summed_logps/*`), and LLaMA-Factory's `logps/*` with our `rewards/*` / β. Its `logits/*`
/// average over every position (prompt and padding too), ours over completion positions as TRL:
/// not compared. Its logged `grad_norm` is torch's float32 norm, ~1.2e-4 low on this gradient
/// (the float32 sum of squares over the tied embedding's 1.6M entries); ours is float64, so it is
/// compared with the float64 norm the script recorded of the gradients LLaMA-Factory's trainer
/// clips (`grad_norm_float64`).
///
/// Tolerance: the suite's `tolerance` (2e-4 relative, within the issue's 2e-3). It covers the loss
/// LLaMA-Factory's transformers logs rounded to 4 decimals (|Δ| ≤ 5e-5 on a loss of ~11, 5e-6
/// relative: observed 4.5e-6). Observed otherwise at β = 0.1 ≤ 2.4e-6 (grad norm) and ≤ 2e-7
/// (rewards, log-probs) with the Haswell, SkylakeX and Cooperlake kernels: float32 summation
/// order. `rewards/margins` (0.0006 at step 1) gets `metricDeviation`'s rounding floor from the
/// record's per-token means (`logps/*`).
extension TRLTrainerParityTests {
    /// (our metric, the fixture's, whether ours is divided by β first).
    static let orpoCompared: [(ours: String, theirs: String, perBeta: Bool)] = [
        ("loss", "loss", false), ("grad_norm", "grad_norm_float64", false), ("learning_rate", "learning_rate", false),
        ("rewards/chosen", "rewards/chosen", false), ("rewards/rejected", "rewards/rejected", false),
        ("rewards/margins", "rewards/margins", false), ("rewards/accuracies", "rewards/accuracies", false),
        ("logps/chosen", "summed_logps/chosen", false), ("logps/rejected", "summed_logps/rejected", false),
        ("rewards/chosen", "logps/chosen", true), ("rewards/rejected", "logps/rejected", true),
    ]

    /// Trains LLaMA-Factory fixture run `name` (its `beta` is LLaMA-Factory's `pref_beta`) and
    /// compares every step's `orpoCompared` metrics.
    func assertMatchesLLaMAFactory(_ name: String, beta: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/llamafactory/\(name)")
        let (ours, expected) = try run(directory: directory)
        XCTAssertEqual(expected.count, 8, file: file, line: line)
        XCTAssertEqual(ours.count, expected.count, file: file, line: line)
        var worst = 0.0
        for (a, b) in zip(ours, expected) {
            let step = b["step"] ?? "?"
            XCTAssertEqual(a["step"] as? Int, b["step"] as? Int, file: file, line: line)
            for (key, theirs, perBeta) in Self.orpoCompared {
                guard let value = a[key] as? Double, let y = b[theirs] as? Double else {
                    XCTFail("\(name) step \(step): \(key) or \(theirs) missing", file: file, line: line)
                    continue
                }
                let x = perBeta ? value / beta : value
                let deviation = metricDeviation(theirs, x, y, record: b, tolerance: Self.tolerance, beta: beta)
                worst = max(worst, deviation)
                XCTAssertLessThanOrEqual(deviation, 1, "\(name) step \(step) \(key)\(perBeta ? " / β" : ""): ours \(x), LLaMA-Factory \(theirs) \(y)",
                                         file: file, line: line)
            }
        }
        print("\(name) against LLaMA-Factory: worst |Δ| / bound = \(worst) at tolerance \(Self.tolerance)")
    }

    /// LLaMA-Factory's default `pref_beta` 0.1: the chosen NLL is ~99% of the loss, so this run
    /// holds the NLL term, the per-token means, the rewards and the clipping (steps 1-2 clipped,
    /// 3-8 not).
    func testORPORunMatchesLLaMAFactory() throws { try assertMatchesLLaMAFactory("orpo", beta: 0.1) }

    /// `pref_beta` 1.0: the odds-ratio term is ten times heavier, so an error of its weight or
    /// form shows in the loss itself (a 0.5% error in β moves the step-1 loss by 3e-4 relative).
    func testORPORunWithBeta1MatchesLLaMAFactory() throws { try assertMatchesLLaMAFactory("orpo_beta1", beta: 1) }
}

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
extension TRLTrainerParityTests {
    /// (our metric, the fixture's, factor applied to ours).
    static let orpoCompared: [(ours: String, theirs: String, factor: Double)] = [
        ("loss", "loss", 1), ("grad_norm", "grad_norm_float64", 1), ("learning_rate", "learning_rate", 1),
        ("rewards/chosen", "rewards/chosen", 1), ("rewards/rejected", "rewards/rejected", 1),
        ("rewards/margins", "rewards/margins", 1), ("rewards/accuracies", "rewards/accuracies", 1),
        ("logps/chosen", "summed_logps/chosen", 1), ("logps/rejected", "summed_logps/rejected", 1),
        ("rewards/chosen", "logps/chosen", 1 / orpoBeta), ("rewards/rejected", "logps/rejected", 1 / orpoBeta),
    ]

    /// The fixture run's `beta` (LLaMA-Factory's `pref_beta`).
    static let orpoBeta = 0.1

    /// The suite's `tolerance` (2e-4 relative, within the 2e-3) covers the loss
    /// LLaMA-Factory's transformers logs rounded to 4 decimals (|Δ| ≤ 5e-5 on a loss of ~11, 5e-6
    /// relative: observed 4.5e-6). Observed otherwise ≤ 2.4e-6 (grad norm) and ≤ 2e-7 (rewards,
    /// log-probs), float32 summation order; `rewards/margins` (0.0006 at step 1) gets
    /// `metricDeviation`'s rounding floor from the record's per-token means (`logps/*`).
    func testORPORunMatchesLLaMAFactory() throws {
        let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/llamafactory/orpo")
        let (ours, expected) = try run(directory: directory)
        XCTAssertEqual(expected.count, 8)
        XCTAssertEqual(ours.count, expected.count)
        var worst = 0.0
        for (a, b) in zip(ours, expected) {
            let step = b["step"] ?? "?"
            XCTAssertEqual(a["step"] as? Int, b["step"] as? Int)
            for (key, theirs, factor) in Self.orpoCompared {
                guard let x = a[key] as? Double, let y = b[theirs] as? Double else {
                    XCTFail("orpo step \(step): \(key) or \(theirs) missing")
                    continue
                }
                let deviation = metricDeviation(theirs, x * factor, y, record: b, tolerance: Self.tolerance,
                                                beta: Self.orpoBeta)
                worst = max(worst, deviation)
                XCTAssertLessThanOrEqual(deviation, 1, "orpo step \(step) \(key) × \(factor): ours \(x * factor), LLaMA-Factory \(theirs) \(y)")
            }
        }
        print("orpo against LLaMA-Factory: worst |Δ| / bound = \(worst) at tolerance \(Self.tolerance)")
    }
}

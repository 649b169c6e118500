import DPO
import Foundation
import XCTest

/// Every objective beyond plain DPO under `mpirun`: the global batch split over 1, 2 and 4 ranks
/// (4, 2 and 1 micro-batches of 2 pairs each) trains the same model and logs the same train and
/// eval metrics. AOT sorts over the global batch, gathered across ranks, and over the whole eval set.
extension MultiRankTests {
    /// The objectives and the options that select them, and how much each magnifies the float32
    /// rounding differences between splits over `trajectoryTolerance`: DiscoPOP's mixing weight
    /// σ(x/τ) moves 1/τ = 10 times faster than x, so its metrics get 10 × the tolerance (1e-5, the
    /// issue's bound); every other objective is no more sensitive than plain DPO.
    static let objectives: [(name: String, options: [String], magnification: Double)] = [
        ("exo_pair", ["--loss", "exo_pair", "--label-smoothing", "0.001"], 1),
        ("aot", ["--loss", "aot", "--label-smoothing", "0.1"], 1),
        ("aot_unpaired", ["--loss", "aot_unpaired,sigmoid", "--loss-weights", "1,0.5"], 1),
        ("discopop", ["--loss", "discopop", "--discopop-tau", "0.1"], 10),
        ("forward_kl", ["--loss", "sigmoid", "--f-divergence-type", "forward_kl"], 1),
        ("js_divergence", ["--loss", "ipo", "--f-divergence-type", "js_divergence"], 1),
        ("alpha_divergence", ["--loss", "robust", "--label-smoothing", "0.1", "--f-divergence-type", "alpha_divergence",
                              "--f-alpha-divergence-coef", "0.3"], 1),
        ("ld_alpha", ["--loss", "sigmoid", "--ld-alpha", "0.4"], 1),
        ("use_weighting", ["--loss", "sigmoid", "--use-weighting"], 1),
        ("orpo", ["--loss", "orpo"], 1),
        ("token_pair", ["--loss", "token_pair"], 1),
        ("tr_dpo", ["--loss", "sigmoid", "--sync-ref-model", "--ref-model-sync-steps", "1", "--ref-model-mixup-alpha", "0.6"], 1),
    ]

    func testEveryObjectiveTrainsTheSameModelOnOneTwoAndFourRanks() throws {
        let run = try TinyRun()
        let eval = try pairsFile(run, "eval.jsonl", indices: 0..<6)
        for objective in Self.objectives {
            var records: [[[String: Any]]] = [], weights: [[Float]] = []
            for ranks in [1, 2, 4] {
                let output = "\(objective.name)-np\(ranks)"
                let outcome = try train(run, ranks: ranks, output: output,
                                        ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "3",
                                         "--eval-data", eval.path, "--eval-steps", "3"] + objective.options)
                XCTAssertEqual(outcome.status, 0, "\(objective.name) np=\(ranks): \(outcome.output)")
                records.append(try TinyRun.records(run.directory.appendingPathComponent(output)))
                weights.append(try finalWeights(run, output))
            }
            XCTAssertTrue(records[0].contains { $0["eval_loss"] != nil }, "\(objective.name): eval ran")
            for i in 1..<3 {
                assertSameMetrics(records[0], records[i], tolerance: objective.magnification * trajectoryTolerance)
                XCTAssertLessThanOrEqual(maxTensorRelativeError(weights[i], weights[0], layout: try layout(run)), weightTolerance,
                                         "\(objective.name): weights of np=\([1, 2, 4][i]) against np=1")
            }
        }
    }
}

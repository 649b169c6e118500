import DPO
import Foundation
import XCTest

/// Evaluation under `mpirun`: each rank scores a share of the eval set's micro-batches and the
/// sums are all-reduced, so the `eval_` metrics are those of the whole set on any number of ranks.
extension MultiRankTests {
    /// Writes pairs `indices` of the run's data as the data file `name` in its directory, the
    /// `i`-th written with its answers exchanged when `swap(i)`; returns its URL.
    func pairsFile(_ run: TinyRun, _ name: String, indices: Range<Int>, swap: (Int) -> Bool = { _ in false }) throws -> URL {
        let lines = try String(contentsOf: run.dataURL, encoding: .utf8).split(separator: "\n")[indices]
        let written = try lines.enumerated().map { i, line in
            guard swap(i) else { return String(line) }
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            (object["chosen"], object["rejected"]) = (object["rejected"], object["chosen"])
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        let url = run.directory.appendingPathComponent(name)
        try (written.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Non-padding tokens of each pair of the data set at `url` (prompt + chosen, prompt +
    /// rejected), by pair index, tokenized with the run's settings (`max_length` the model's
    /// `n_positions`, as the command line defaults it).
    func pairTokens(_ url: URL, _ run: TinyRun) throws -> [Double] {
        let tokenizer = try RunInputs.tokenizer(RunInputs.tokenizerFiles(explicit: nil, model: run.modelDirectory.path))
        let dataset = try RunInputs.dataset(url.path, config: run.config(output: "unused"), tokenizer: tokenizer)
        return dataset.pairs.map { Double($0.chosen.ids.count + $0.rejected.ids.count) }
    }

    /// 11 eval pairs in micro-batches of 2 are 6 micro-batches (the last of one pair): all on
    /// 1 rank, 3 + 3 on 2 ranks, 2 + 2 + 1 + 1 on 4 ranks. Every split logs the metrics of the
    /// whole set (its token count shows each pair was scored once), equal up to the float32
    /// summation order of the weights: `trajectoryTolerance`, as for the training metrics (observed at most
    /// 9e-7, on eval_rewards/rejected near -0.01). A rank's own share, or a split that drops
    /// micro-batches, is off by 1e-4 to 1e-2.
    func testEvalMetricsCoverTheWholeSetOnOneTwoAndFourRanks() throws {
        let run = try TinyRun()
        // The last 11 pairs, every third with its answers swapped: training then lowers their
        // accuracy below 1, and a share of the set has another accuracy than the whole.
        let eval = try pairsFile(run, "eval.jsonl", indices: 13..<24, swap: { $0 % 3 == 0 })
        let tokens = try pairTokens(eval, run).reduce(0, +)
        var evals: [[[String: Any]]] = []
        for ranks in [1, 2, 4] {  // always 8 pairs per step in micro-batches of 2
            let output = "eval\(ranks)"
            let outcome = try train(run, ranks: ranks, output: output, ["--batch-size", "8", "--micro-batch-size", "2",
                                                                         "--max-steps", "2", "--eval-steps", "1",
                                                                         "--eval-data", eval.path])
            XCTAssertEqual(outcome.status, 0, outcome.output)
            let records = try TinyRun.records(run.directory.appendingPathComponent(output)).filter { $0["eval_loss"] != nil }
            XCTAssertEqual(records.map { $0["step"] as? Int }, [1, 2], "\(ranks) ranks")
            for record in records {
                XCTAssertEqual(record["eval_num_tokens"] as? Double, tokens, "\(ranks) ranks, step \(record["step"] ?? "?")")
            }
            evals.append(records)
        }
        for records in evals.dropFirst() { assertSameMetrics(evals[0], records, tolerance: trajectoryTolerance) }
    }
}

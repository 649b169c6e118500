import DPO
import Foundation
import TestSupport
import XCTest

/// What `dpo-ddp train --epochs 2` trains on, read from the pairs each rank's `--debug` lines name:
/// an epoch of N pairs in global batches of G is N / G steps (rounded down) that visit N − N mod G
/// distinct pairs, every pair when G divides N; the last N mod G of the epoch's shuffled order
/// are left out of it (`BatchLayout`; unlike the default of TRL's Hugging Face Trainer,
/// `dataloader_drop_last = False`, which ends the epoch with a smaller batch).
extension MultiRankTests {
    /// Runs `dpo-ddp train --debug` on `ranks` ranks with each rank's output kept in its own file
    /// (`mpirun --output-filename`); returns, per step, each rank's micro-batches (their pair
    /// indices) as its debug lines list them.
    func debugPairs(_ run: TinyRun, ranks: Int, output: String, _ extra: [String]) throws -> [Int: [[[Int]]]] {
        let logs = run.directory.appendingPathComponent("\(output)-logs")
        let outcome = try ProcessRunner.run(
            try mpirun, ["-np", "\(ranks)", "--oversubscribe", "--output-filename", logs.path, ProcessRunner.dpoDDP.path]
                + arguments(run, output: output, extra + ["--debug"]),
            environment: environment, timeout: 120)
        XCTAssertFalse(outcome.timedOut, outcome.output)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        var steps: [Int: [[[Int]]]] = [:]
        for rank in 0..<ranks {
            let text = try String(contentsOf: logs.appendingPathComponent("1/rank.\(rank)/stdout"), encoding: .utf8)
            // "rank R step S micro-batch M/A: pairs [i, j] length L completion tokens T", after the
            // progress line (which ends in no newline) on the first micro-batch of a step.
            for whole in text.split(separator: "\n") {
                guard let start = whole.range(of: "rank \(rank) step ")?.lowerBound else { continue }
                let line = whole[start...]
                let words = line.split(separator: " ")
                let step = try XCTUnwrap(Int(words[3]), String(line))
                let list = try XCTUnwrap(line.split(separator: "[").last?.split(separator: "]").first, String(line))
                let pairs = list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                steps[step, default: Array(repeating: [], count: ranks)][rank].append(pairs)
            }
        }
        return steps
    }

    /// Trains 2 epochs of `pairs` pairs, `batch` per step, on `ranks` ranks in micro-batches of
    /// `micro`, and checks each epoch's pairs and the logged token count of every step.
    func checkTwoEpochs(_ run: TinyRun, pairs: Int, batch: Int, ranks: Int, micro: Int,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let context = "\(pairs) pairs, batch \(batch), \(ranks) ranks, micro-batches of \(micro)"
        let url = try pairsFile(run, "pairs\(pairs).jsonl", indices: 0..<pairs)
        let output = "p\(pairs)b\(batch)r\(ranks)m\(micro)"
        let steps = try debugPairs(run, ranks: ranks, output: output, ["--data", url.path, "--batch-size", "\(batch)",
                                                                        "--micro-batch-size", "\(micro)", "--epochs", "2"])
        let stepsPerEpoch = pairs / batch
        XCTAssertEqual(steps.keys.sorted(), Array(1...(2 * stepsPerEpoch)), context, file: file, line: line)
        for (step, ranksPairs) in steps {
            for micros in ranksPairs {
                XCTAssertEqual(micros.map(\.count), Array(repeating: micro, count: batch / (ranks * micro)),
                               "step \(step): \(context)", file: file, line: line)
            }
        }
        func visited(_ step: Int) -> [Int] { steps[step].map { $0.joined().joined().map { $0 } } ?? [] }
        for epoch in 0..<2 {
            let epochSteps = (epoch * stepsPerEpoch + 1)...((epoch + 1) * stepsPerEpoch)
            let epochPairs = epochSteps.flatMap(visited)
            XCTAssertEqual(epochPairs.count, pairs - pairs % batch, "epoch \(epoch): \(context)", file: file, line: line)
            XCTAssertEqual(Set(epochPairs).count, epochPairs.count, "epoch \(epoch) visits a pair twice: \(context)",
                           file: file, line: line)
            XCTAssertTrue(Set(epochPairs).isSubset(of: 0..<pairs), "epoch \(epoch): \(context)", file: file, line: line)
        }
        // The statistics were those of the listed pairs: num_tokens adds up their tokens.
        let tokens = try pairTokens(url, run)
        var seen = 0.0
        let records = try TinyRun.records(run.directory.appendingPathComponent(output))
        XCTAssertEqual(records.count, 2 * stepsPerEpoch, context, file: file, line: line)
        for record in records {
            let step = try XCTUnwrap(record["step"] as? Int)
            seen += visited(step).reduce(0) { $0 + tokens[$1] }
            XCTAssertEqual(record["num_tokens"] as? Double, seen, "step \(step): \(context)", file: file, line: line)
        }
    }

    /// Pairs that fill whole global batches: on 1 rank with 4 accumulation steps, and on 3 ranks.
    func testAnEpochOfWholeGlobalBatchesVisitsEveryPairExactlyOnce() throws {
        let run = try TinyRun()
        try checkTwoEpochs(run, pairs: 24, batch: 8, ranks: 1, micro: 2)
        try checkTwoEpochs(run, pairs: 24, batch: 12, ranks: 3, micro: 2)
    }

    /// Pairs with a remainder: 21 in steps of 8 on 2 ranks (5 left out of each epoch), 23 in steps
    /// of 6 on 3 ranks (5 left out).
    func testAnEpochWithARemainderVisitsEveryOtherPairExactlyOnce() throws {
        let run = try TinyRun()
        try checkTwoEpochs(run, pairs: 21, batch: 8, ranks: 2, micro: 2)
        try checkTwoEpochs(run, pairs: 23, batch: 6, ranks: 3, micro: 1)
    }
}

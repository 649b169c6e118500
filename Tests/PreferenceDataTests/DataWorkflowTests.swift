import Foundation
import PreferenceData
import Tokenizer
import XCTest

/// Mixing several data sets, `val_size` and `max_samples`, against what LLaMA-Factory (and the
/// Hugging Face `datasets` functions it calls) does (fixtures by `scripts/make_llamafactory_fixtures.py`).
final class DataWorkflowTests: XCTestCase {
    /// concat and the round-robin interleavings (no probabilities) give exactly the row order of
    /// LLaMA-Factory's `merge_dataset`, for sets of equal and unequal lengths and a single set.
    func testMixOrderMatchesLLaMAFactoryMergeDataset() throws {
        struct Case: Decodable { var lengths: [Int]; var mix_strategy: String; var order: [[Int]] }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: FixtureFiles.url("llamafactory/mix.json")))
        XCTAssertEqual(cases.count, 18)
        for c in cases {
            let strategy = try XCTUnwrap(MixStrategy(rawValue: c.mix_strategy))
            let order = DatasetMix.order(lengths: c.lengths, strategy: strategy, probabilities: nil, seed: 42)
            XCTAssertEqual(order.map { [$0.set, $0.row] }, c.order, "\(c.lengths) \(c.mix_strategy)")
        }
    }

    /// With probabilities: every set's rows come in order (starting over when used up),
    /// interleave_under stops at the draw that uses up the first set, interleave_over at the one
    /// that has used up the last; a set of probability 0 is never drawn; the seed decides the draws.
    func testDrawnMixStopsAsInterleaveDatasets() {
        let lengths = [3, 40, 7]
        for strategy in [MixStrategy.interleaveUnder, .interleaveOver] {
            let probabilities = strategy == .interleaveUnder ? [0.3, 0.7, 0] : [0.2, 0.5, 0.3]
            let order = DatasetMix.order(lengths: lengths, strategy: strategy, probabilities: probabilities, seed: 5)
            var taken = [0, 0, 0], usedUp: [Int] = []
            for (position, source) in order.enumerated() {
                XCTAssertEqual(source.row, taken[source.set] % lengths[source.set], "row order of set \(source.set)")
                taken[source.set] += 1
                if taken[source.set] == lengths[source.set] { usedUp.append(position) }
            }
            XCTAssertEqual(usedUp.last, order.count - 1, "the last draw uses up a set")
            if strategy == .interleaveUnder {
                XCTAssertEqual(usedUp.count, 1, "stops at the first set used up")
                XCTAssertEqual(taken[2], 0, "probability 0 is never drawn")
            } else {
                XCTAssertEqual(usedUp.count, 3, "stops once every set is used up")
            }
            XCTAssertEqual(order, DatasetMix.order(lengths: lengths, strategy: strategy, probabilities: probabilities, seed: 5))
            XCTAssertNotEqual(order, DatasetMix.order(lengths: lengths, strategy: strategy, probabilities: probabilities, seed: 6))
        }
    }

    /// The draws follow the probabilities: over ~12,500 draws, set 0's share is 0.2 within 4
    /// standard deviations (sqrt(0.2 × 0.8 / 12,500) = 0.0036).
    func testDrawnMixFollowsTheProbabilities() {
        let order = DatasetMix.order(lengths: [100_000, 10_000], strategy: .interleaveUnder, probabilities: [0.2, 0.8], seed: 1)
        let share = Double(order.filter { $0.set == 0 }.count) / Double(order.count)
        XCTAssertEqual(share, 0.2, accuracy: 4 * 0.0036)
    }

    /// `val_size` holds out as many pairs as LLaMA-Factory's `split_dataset` (Hugging Face
    /// `train_test_split`: a fraction rounded up, or a count).
    func testValSizeCountsMatchLLaMAFactory() throws {
        struct Table: Decodable { var rows: [[Double]] }
        let table = try JSONDecoder().decode(Table.self, from: Data(contentsOf: FixtureFiles.url("llamafactory/val_size.json")))
        XCTAssertGreaterThan(table.rows.count, 90)
        for row in table.rows {
            XCTAssertEqual(ValidationSplit.evalCount(valSize: row[1], pairCount: Int(row[0])), Int(row[2]), "\(row)")
        }
    }

    /// The held-out pairs are distinct, ascending, drawn from the whole set (not its start), and
    /// depend on the seed only.
    func testValSizeSplitIsASeededDraw() {
        let held = ValidationSplit.evalIndices(pairCount: 300, evalCount: 30, seed: 42)
        XCTAssertEqual(held.count, 30)
        XCTAssertEqual(held, Array(Set(held)).sorted())
        XCTAssertTrue(held.allSatisfy { (0..<300).contains($0) })
        XCTAssertNotEqual(held, Array(0..<30))
        XCTAssertGreaterThan(held.last!, 150)
        XCTAssertEqual(held, ValidationSplit.evalIndices(pairCount: 300, evalCount: 30, seed: 42))
        XCTAssertNotEqual(held, ValidationSplit.evalIndices(pairCount: 300, evalCount: 30, seed: 43))
    }

    /// `max_samples` keeps the first N rows in file order, after every row was checked (a bad
    /// row beyond N is still refused), and the summary says so.
    func testMaxSamplesKeepsTheFirstRowsAfterCheckingAll() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("max-samples-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let rows = (0..<5).map { #"{"prompt": "Q\#($0)", "chosen": " yes", "rejected": " no"}"# }
        try rows.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let dataset = try PreferenceDataset.load(url: url, tokenizer: tokenizer, settings: PreferenceDataSettings(maxSamples: 2))
        XCTAssertEqual(dataset.pairs.map(\.line), [1, 2])
        XCTAssertEqual(dataset.pairs.map(\.index), [0, 1])
        XCTAssertTrue(dataset.report.summary.hasPrefix("5 rows (standard), first 2 used (max_samples), 2 pairs;"), dataset.report.summary)
        try (rows.prefix(4) + [#"{"prompt": "Q", "chosen": " yes"}"#]).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PreferenceDataset.load(url: url, tokenizer: tokenizer, settings: PreferenceDataSettings(maxSamples: 2))) {
            XCTAssertEqual("\($0)", "\(url.path):5: rejected: missing field")
        }
    }

    /// Picking renumbers the pairs in the order given and keeps their lines; picking from several
    /// sets sums their reports.
    func testPickingRenumbersAndSumsReports() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let demo = try PreferenceDataset.load(url: FixtureFiles.demo, tokenizer: tokenizer, settings: PreferenceDataSettings(maxSamples: 4))
        let mixed = PreferenceDataset(picking: [.init(set: 1, row: 3), .init(set: 0, row: 0), .init(set: 1, row: 3)], from: [demo, demo])
        XCTAssertEqual(mixed.pairs.map(\.index), [0, 1, 2])
        XCTAssertEqual(mixed.pairs.map(\.line), [demo.pairs[3].line, demo.pairs[0].line, demo.pairs[3].line])
        XCTAssertEqual(mixed.pairs[0].chosen, demo.pairs[3].chosen)
        XCTAssertEqual(mixed.report.rows, 600)
        XCTAssertEqual(mixed.report.usedRows, 8)
    }
}

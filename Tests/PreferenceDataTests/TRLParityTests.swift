import Foundation
import PreferenceData
import Tokenizer
import XCTest

/// Prompt/completion ids and truncation against TRL's `DPOTrainer` on every format
/// (fixtures from `scripts/make_trl_fixtures.py`).
final class TRLParityTests: XCTestCase {
    private struct Expected: Decodable {
        struct Row: Decodable {
            var prompt_ids: [Int32]
            var chosen_ids: [Int32]
            var rejected_ids: [Int32]
        }
        struct Side: Decodable {
            var ids: [Int32]
            var prompt_length: Int
        }
        struct Collated: Decodable {
            var row: Int
            var chosen: Side
            var rejected: Side
        }
        var input: String
        var format: String
        var max_length: Int
        var rows: [Row]
        var keep_start: [Collated]
        var keep_end: [Collated]
    }

    private static let tokenizer = try! GPT2Tokenizer.bundledGPT2()

    private func check(_ name: String) throws {
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: FixtureFiles.url("expected/\(name).json")))
        let input = FixtureFiles.url(expected.input)
        let format = try XCTUnwrap(DataFormat(rawValue: expected.format))
        let (detected, examples) = try PreferenceDataset.examples(at: input, format: nil)
        XCTAssertEqual(detected, format, "detected format")
        XCTAssertEqual(examples.count, expected.rows.count)
        for (row, (example, trl)) in zip(examples, expected.rows).enumerated() {
            let ours = TokenizedPair(example, tokenizer: Self.tokenizer, template: .plain)
            XCTAssertEqual(ours.promptIDs, trl.prompt_ids, "\(name) row \(row) prompt")
            XCTAssertEqual(ours.chosenIDs, trl.chosen_ids, "\(name) row \(row) chosen")
            XCTAssertEqual(ours.rejectedIDs, trl.rejected_ids, "\(name) row \(row) rejected")
        }
        for (mode, collated) in [(TruncationMode.keepStart, expected.keep_start), (.keepEnd, expected.keep_end)] {
            let settings = PreferenceDataSettings(format: format, maxLength: expected.max_length, truncationMode: mode)
            let dataset = try PreferenceDataset.load(url: input, tokenizer: Self.tokenizer, settings: settings)
            XCTAssertEqual(dataset.pairs.count, collated.count, "\(name) \(mode) kept pairs")
            XCTAssertEqual(dataset.report.droppedLongPromptLines.count, expected.rows.count - collated.count)
            for (pair, trl) in zip(dataset.pairs, collated) {
                XCTAssertEqual(pair.line, examples[trl.row].line, "\(name) \(mode) pair \(pair.index) row")
                XCTAssertEqual(pair.chosen, TokenSequence(ids: trl.chosen.ids, promptLength: trl.chosen.prompt_length),
                               "\(name) \(mode) pair \(pair.index) chosen")
                XCTAssertEqual(pair.rejected, TokenSequence(ids: trl.rejected.ids, promptLength: trl.rejected.prompt_length),
                               "\(name) \(mode) pair \(pair.index) rejected")
            }
        }
    }

    func testStandard() throws { try check("standard") }
    func testImplicitPrompt() throws { try check("implicit-prompt") }
    func testImplicitPromptConversational() throws { try check("implicit-prompt-conversational") }
    func testConversational() throws { try check("conversational") }
    func testAlpaca() throws { try check("alpaca") }
    func testShareGPT() throws { try check("sharegpt") }

    func testBoundaryMergeIsSplitAsTRLSplitsIt() throws {
        // "The capital of France is " + "Paris.": " Paris" is one token, so the prompt's last " " is neither side.
        let (_, examples) = try PreferenceDataset.examples(at: FixtureFiles.url("formats/standard.jsonl"), format: nil)
        let pair = TokenizedPair(examples[0], tokenizer: Self.tokenizer, template: .plain)
        XCTAssertTrue(pair.promptWasCut)
        XCTAssertEqual(try Self.tokenizer.decode(pair.promptIDs), "The capital of France is")
        XCTAssertEqual(try Self.tokenizer.decode(pair.chosenIDs), " Paris.<|endoftext|>")
    }

    func testWholeDemoSetKeepsTheSamePairsAsTRL() throws {
        struct Summary: Decodable {
            var rows: Int
            var pairs: Int
            var truncated_pairs: Int
        }
        let trl = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: FixtureFiles.url("expected/dpo_en_demo.json")))
        let dataset = try PreferenceDataset.load(url: FixtureFiles.demo, tokenizer: Self.tokenizer, settings: .init())
        XCTAssertEqual(dataset.report.format, .sharegpt)
        XCTAssertEqual(dataset.report.rows, trl.rows)
        XCTAssertEqual(dataset.pairs.count, trl.pairs)
        XCTAssertEqual(dataset.report.truncatedPairs, trl.truncated_pairs)
        XCTAssertEqual(dataset.pairs.map(\.index), Array(0..<trl.pairs))
        XCTAssertTrue(dataset.pairs.allSatisfy { $0.chosen.ids.count <= 1024 && $0.rejected.ids.count <= 1024 })
    }
}

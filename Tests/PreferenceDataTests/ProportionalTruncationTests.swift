import Foundation
import PreferenceData
import Tokenizer
import XCTest

/// `truncation_mode: proportional` against LLaMA-Factory's own `infer_seqlen`, and what it does to pairs.
final class ProportionalTruncationTests: XCTestCase {
    /// Every (prompt, response, max_length) of the table that `scripts/make_llamafactory_fixtures.py`
    /// ran through LLaMA-Factory 0.9.5's `infer_seqlen` keeps exactly the lengths it kept.
    func testLengthsMatchLLaMAFactoryInferSeqlen() throws {
        struct Table: Decodable { var rows: [[Int]] }
        let table = try JSONDecoder().decode(Table.self, from: Data(contentsOf: FixtureFiles.url("llamafactory/infer_seqlen.json")))
        XCTAssertGreaterThan(table.rows.count, 3000)
        var mismatches: [String] = []
        for row in table.rows {
            let kept = ProportionalTruncation.lengths(prompt: row[0], response: row[1], maxLength: row[2])
            if kept.prompt != row[3] || kept.response != row[4] {
                mismatches.append("\(row[0...2]) -> \(kept), LLaMA-Factory \(row[3...4])")
            }
        }
        XCTAssertEqual(mismatches, [], "\(mismatches.count) of \(table.rows.count) differ")
    }

    /// Both sequences keep the same (start of the) prompt and the start of their response; the
    /// longer response is cut to its share, the shorter one only when it exceeds that share.
    func testPairSharesThePromptAndKeepsStarts() throws {
        let prompt = (0..<600).map(Int32.init), chosen = (1000..<1300).map(Int32.init), rejected = (2000..<2100).map(Int32.init)
        let pair = TokenizedPair(promptIDs: prompt, chosenIDs: chosen, rejectedIDs: rejected, promptWasCut: false)
        let (c, r) = try XCTUnwrap(pair.sequences(maxLength: 512, mode: .proportional))
        // Both halves exceed 256, so the response gets int(512 * 300 / 900) = 170 and the prompt 342.
        XCTAssertEqual(c, TokenSequence(ids: Array(prompt[..<342] + chosen[..<170]), promptLength: 342))
        XCTAssertEqual(r, TokenSequence(ids: Array(prompt[..<342] + rejected), promptLength: 342))
    }

    /// A prompt so long that the response's share rounds down to no token drops the pair (it would
    /// train on nothing); a pair that fits is left whole.
    func testPairWithoutResponseShareIsDroppedAndShortPairUntouched() {
        // Neither fits in half of 8, so the response's share is int(8 * 4 / 104) = 0.
        let long = TokenizedPair(promptIDs: Array(repeating: 1, count: 100), chosenIDs: [2, 2, 2, 2], rejectedIDs: [3],
                                 promptWasCut: false)
        XCTAssertNil(long.sequences(maxLength: 8, mode: .proportional).map { "\($0)" })
        let short = TokenizedPair(promptIDs: [1, 2, 3], chosenIDs: [4], rejectedIDs: [5, 6], promptWasCut: false)
        let kept = short.sequences(maxLength: 6, mode: .proportional)
        XCTAssertEqual(kept?.chosen, TokenSequence(ids: [1, 2, 3, 4], promptLength: 3))
        XCTAssertEqual(kept?.rejected, TokenSequence(ids: [1, 2, 3, 5, 6], promptLength: 3))
    }

    /// The case: at 512 tokens keep_start drops pairs of the 300-pair English demo set;
    /// proportional keeps every pair, every sequence within 512 tokens, the prompt shared.
    func testDemoSetAt512KeepsEveryPair() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let keepStart = try PreferenceDataset.load(url: FixtureFiles.demo, tokenizer: tokenizer,
                                                   settings: PreferenceDataSettings(maxLength: 512))
        XCTAssertGreaterThan(keepStart.report.droppedLongPromptLines.count, 0, "the case proportional exists for")
        let dataset = try PreferenceDataset.load(url: FixtureFiles.demo, tokenizer: tokenizer,
                                                 settings: PreferenceDataSettings(maxLength: 512, truncationMode: .proportional))
        XCTAssertEqual(dataset.report.rows, 300)
        XCTAssertEqual(dataset.pairs.count, 300)
        XCTAssertEqual(dataset.report.droppedLongPromptLines, [])
        XCTAssertGreaterThan(dataset.report.truncatedPairs, 0)
        for pair in dataset.pairs {
            XCTAssertLessThanOrEqual(pair.chosen.ids.count, 512)
            XCTAssertLessThanOrEqual(pair.rejected.ids.count, 512)
            XCTAssertEqual(pair.chosen.ids[..<pair.chosen.promptLength], pair.rejected.ids[..<pair.rejected.promptLength])
            XCTAssertGreaterThan(pair.chosen.completionLength, 0)
            XCTAssertGreaterThan(pair.rejected.completionLength, 0)
        }
    }
}

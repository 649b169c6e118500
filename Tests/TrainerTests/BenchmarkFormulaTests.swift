import DPO
import GPT2
import PreferenceData
import XCTest

/// The pieces `dpo-ddp bench` adds: the FLOP formula and synthetic pairs.
final class BenchmarkFormulaTests: XCTestCase {
    let tiny = GPT2Config.named("gpt2-tiny")!  // 2 layers, C = 64, V = 50257, 256 positions

    /// N = L·(12·C² + 13·C) + 2·C (blocks and ln_f); policy 6·N·tokens + 3·2·V·C·scored,
    /// reference 2·N·tokens + 2·V·C·scored. GPT-2 124M has N = 85,056,000.
    func testStepFLOPsFormula() {
        let flops = StepFLOPs(config: tiny)
        XCTAssertEqual(flops.nonEmbeddingParameters, 2 * (12 * 64 * 64 + 13 * 64) + 2 * 64)
        XCTAssertEqual(flops.policy(tokens: 10, scoredPositions: 4), 6 * 100_096 * 10 + 6 * 50257 * 64 * 4)
        XCTAssertEqual(flops.reference(tokens: 10, scoredPositions: 4), 2 * 100_096 * 10 + 2 * 50257 * 64 * 4)
        XCTAssertEqual(StepFLOPs(config: GPT2Config.named("gpt2")!).nonEmbeddingParameters, 85_056_000)
    }

    /// Seeded, shaped as asked: a shared prompt, two completions, ids inside the vocabulary.
    func testSyntheticPairs() {
        let pairs = PreferencePair.synthetic(count: 3, promptTokens: 5, completionTokens: 4, vocabSize: 100, seed: 7)
        XCTAssertEqual(pairs, PreferencePair.synthetic(count: 3, promptTokens: 5, completionTokens: 4, vocabSize: 100, seed: 7))
        XCTAssertNotEqual(pairs, PreferencePair.synthetic(count: 3, promptTokens: 5, completionTokens: 4, vocabSize: 100, seed: 8))
        XCTAssertEqual(pairs.map(\.index), [0, 1, 2])
        for pair in pairs {
            XCTAssertEqual(pair.chosen.ids.count, 9)
            XCTAssertEqual(pair.chosen.promptLength, 5)
            XCTAssertEqual(pair.chosen.ids.prefix(5), pair.rejected.ids.prefix(5))
            XCTAssertNotEqual(pair.chosen.ids, pair.rejected.ids)
            XCTAssertTrue((pair.chosen.ids + pair.rejected.ids).allSatisfy { (0..<100).contains($0) })
        }
    }
}

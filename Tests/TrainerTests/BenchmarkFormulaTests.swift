import DPO
import Distributed
import GPT2
import PreferenceData
import XCTest

/// The pieces `dpo-ddp bench` adds: the FLOP formula, the gradient's traffic and synthetic pairs.
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

    /// GPT-2 124M's gradient, 124,439,808 floats = 497,759,232 B in fp32, 248,879,616 B in bf16:
    /// a ring all-reduce sends 2·(n−1)/n of it per rank; ZeRO reduces (n−1)/n of it to the owners
    /// (per micro-batch with ZeRO-2) and all-gathers (n−1)/n of the float32 weights; one rank sends nothing.
    func testGradientTrafficOfTheFullModel() {
        let p = 124_439_808
        let two = GradientTraffic(gradientElements: p, ranks: 2, zero: 0, wire: .fp32)
        XCTAssertEqual(two.payloadBytes, 497_759_232)
        XCTAssertEqual(two.reduceBytes, 497_759_232, "2·(2−1)/2 = 1 payload")
        XCTAssertEqual(two.allGatherBytes, 0)
        let fourBF16 = GradientTraffic(gradientElements: p, ranks: 4, zero: 0, wire: .bf16)
        XCTAssertEqual(fourBF16.payloadBytes, 248_879_616)
        XCTAssertEqual(fourBF16.sentBytes, 373_319_424, "2·3/4 of the bf16 payload")
        let zero1 = GradientTraffic(gradientElements: p, ranks: 4, zero: 1, wire: .fp32, microBatches: 3)
        XCTAssertEqual(zero1.reduceBytes, 373_319_424, "3/4 of the payload, once per step")
        XCTAssertEqual(zero1.allGatherBytes, 373_319_424, "3/4 of 4 B per parameter")
        XCTAssertEqual(zero1.sentBytes, 746_638_848)
        let zero2 = GradientTraffic(gradientElements: p, ranks: 4, zero: 2, wire: .bf16, microBatches: 3)
        XCTAssertEqual(zero2.reduceBytes, 3 * 186_659_712, "3/4 of the bf16 payload per micro-batch")
        XCTAssertEqual(zero2.allGatherBytes, 373_319_424, "the weights travel as float32 whatever the wire")
        let one = GradientTraffic(gradientElements: p, ranks: 1, zero: 1, wire: .fp32)
        XCTAssertEqual(one.payloadBytes, 497_759_232)
        XCTAssertEqual(one.sentBytes, 0)
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

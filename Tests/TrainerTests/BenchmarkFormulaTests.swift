import DPO
import GPT2
import PreferenceData
import XCTest

/// The pieces `dpo-ddp bench` adds: the FLOP formula, synthetic pairs and the full-logit step.
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

    /// Full logits change the work, not the numbers: the same log-probs as `SequenceScores` and,
    /// after a step, the same gradients as `PairScoring` (float tolerance); the precomputed
    /// reference of a micro-batch equals the live reference's log-probs.
    func testFullLogitScoringEqualsTrainerScoring() throws {
        let policy = try GPT2Model(config: tiny)
        policy.initializeRandomly(seed: 3)
        let batch = MicroBatch(pairs: PreferencePair.synthetic(count: 2, promptTokens: 6, completionTokens: 5,
                                                               vocabSize: tiny.vocabSize, seed: 1), padID: 0)
        let plain = try SequenceScores(model: policy, scoring: ScoringInput(batch)).logps
        let full = try FullLogitScoring(batch).logps(policy)
        for (a, b) in zip(plain, full) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        let cache = try ReferenceCache.compute(model: policy, batch: batch)
        XCTAssertEqual(cache.chosen + cache.rejected, plain)

        let reference = try GPT2Model(config: tiny, trainable: false)
        reference.initializeRandomly(seed: 4)
        let loss = try DPOLoss(settings: LossSettings())
        var stats = StepStatistics()
        policy.zeroGradients()
        try PairScoring(policy: policy).run(batch, loss: loss, reference: .model(reference), into: &stats,
                                            gradientScale: 0.5, meanChosenTokens: nil)
        let expected = policy.gradients!.array
        policy.zeroGradients()
        try FullLogitScoring(batch).train(policy: policy, batch: batch, loss: loss, reference: .model(reference),
                                          gradientScale: 0.5)
        let actual = policy.gradients!.array
        let scale = expected.map(abs).max()!
        XCTAssertGreaterThan(scale, 0)
        XCTAssertLessThan(zip(expected, actual).map { abs($0 - $1) }.max()! / scale, 1e-4)
    }
}

import DPO
import GPT2
import PreferenceData
import XCTest

/// Shared prompts, packing without padding and full logits change the work, never the numbers:
/// every layout gives the log-probs of the plain right-padded batch and the same gradients.
final class ScoringLayoutTests: XCTestCase {
    let tiny = GPT2Config.named("gpt2-tiny")!  // 2 layers, C = 64, V = 50257, 256 positions

    /// Pairs of uneven lengths (so the padded batch has padding), one whose two prompts differ
    /// after truncation (it cannot share) and one with a one-token prompt.
    func pairs() -> [PreferencePair] {
        var state: UInt64 = 5
        func ids(_ n: Int) -> [Int32] {
            (0..<n).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int32((state >> 33) % 50257)
            }
        }
        func pair(_ index: Int, prompt: [Int32], chosen: Int, rejected: Int, rejectedPrompt: [Int32]? = nil) -> PreferencePair {
            PreferencePair(index: index, line: index + 1,
                           chosen: TokenSequence(ids: prompt + ids(chosen), promptLength: prompt.count),
                           rejected: TokenSequence(ids: (rejectedPrompt ?? prompt) + ids(rejected), promptLength: prompt.count))
        }
        let differing = ids(4)
        return [pair(0, prompt: ids(5), chosen: 4, rejected: 7),
                pair(1, prompt: ids(3), chosen: 6, rejected: 2),
                pair(2, prompt: differing, chosen: 3, rejected: 3, rejectedPrompt: [differing[0], 7, 8, 9]),
                pair(3, prompt: ids(1), chosen: 5, rejected: 4)]
    }

    let layouts = [ScoringOptions(sharedPrompt: true, fullLogits: false), ScoringOptions(sharedPrompt: false, fullLogits: false),
                   ScoringOptions(sharedPrompt: true, fullLogits: true), ScoringOptions(sharedPrompt: false, fullLogits: true)]

    /// Σ completion log-probs per row from the right-padded rectangular batch, every row
    /// independent: the layout a plain implementation uses, built here without `ScoringInput`.
    func paddedLogps(_ model: GPT2Model, _ batch: MicroBatch) throws -> [Double] {
        var rows: [Int32] = [], targets: [Int32] = [], owner: [Int] = []
        for r in 0..<batch.rows {
            for t in 1..<batch.length where batch.completionMask[r * batch.length + t] != 0 {
                rows.append(Int32(r * batch.length + t - 1))
                targets.append(batch.tokens[r * batch.length + t])
                owner.append(r)
            }
        }
        let logp = try model.forward(GPT2Input(tokens: batch.tokens, batchSize: batch.rows, seqLen: batch.length,
                                               targetRows: rows, targets: targets))
        var sums = [Double](repeating: 0, count: batch.rows)
        for (m, r) in owner.enumerated() { sums[r] += Double(logp[m]) }
        return sums
    }

    func testSharedPromptPackingSavesRows() {
        let batch = MicroBatch(pairs: pairs(), padID: 0)
        let shared = ScoringInput(batch, options: layouts[0]), plain = ScoringInput(batch, options: layouts[1])
        XCTAssertEqual(plain.input.rows, batch.lengths.reduce(0, +), "no padding")
        XCTAssertEqual(shared.input.rows, plain.input.rows - 5 - 3 - 1, "pairs 0, 1, 3 store their prompt once")
        XCTAssertEqual(shared.input.targets.count, plain.input.targets.count)
        XCTAssertEqual(ScoringInput(batch, options: layouts[2]).input.targets.count, shared.input.rows + 3,
                       "full logits: every row once, plus the second target of each shared prompt's last row")
    }

    func testEveryLayoutGivesThePaddedBatchLogProbs() throws {
        let model = try GPT2Model(config: tiny)
        model.initializeRandomly(seed: 3)
        let batch = MicroBatch(pairs: pairs(), padID: 0)
        let expected = try paddedLogps(model, batch)
        for options in layouts {
            let scores = try SequenceScores(model: model, scoring: ScoringInput(batch, options: options))
            // Sums of up to 7 log-probs of size ~11 in float32: 1e-4 absolute is ~10 ulps of the sum.
            for (a, b) in zip(scores.logps, expected) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(options)") }
            XCTAssertEqual(scores.tokens, (0..<batch.rows).map { batch.lengths[$0] - max(batch.promptLengths[$0], 1) })
        }
        let chosenOnly = try SequenceScores(model: model, scoring: ScoringInput(batch, scoredRows: 0..<4))
        for r in 0..<4 { XCTAssertEqual(chosenOnly.logps[r], expected[r], accuracy: 1e-4) }
        XCTAssertEqual(Array(chosenOnly.logps[4...]), [0, 0, 0, 0])
    }

    func testEveryLayoutGivesTheSameGradientsAndMetrics() throws {
        let policy = try GPT2Model(config: tiny)
        policy.initializeRandomly(seed: 3)
        let reference = try GPT2Model(config: tiny, trainable: false)
        reference.initializeRandomly(seed: 4)
        let batch = MicroBatch(pairs: pairs(), padID: 0)
        let loss = try DPOLoss(settings: LossSettings())
        var results: [(gradient: [Float], stats: StepStatistics)] = []
        for options in layouts {
            policy.zeroGradients()
            var stats = StepStatistics()
            try PairScoring(policy: policy, options: options).run(batch, loss: loss, reference: .model(reference), into: &stats,
                                                                  gradientScale: 0.25, meanChosenTokens: nil)
            results.append((policy.gradients!.array, stats))
        }
        let expected = results[1]  // plain sequences, completion logits only
        let scale = expected.gradient.map(abs).max()!
        XCTAssertGreaterThan(scale, 0)
        for (options, result) in zip(layouts, results) {
            // float32 sums over different row sets: differences of a few ulps of the largest entry.
            XCTAssertLessThan(zip(expected.gradient, result.gradient).map { abs($0 - $1) }.max()! / scale, 1e-4, "\(options)")
            for (a, b) in zip(expected.stats.values, result.stats.values) {
                XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), "\(options)")
            }
        }
    }
}

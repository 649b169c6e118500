import Foundation
import GPT2
import XCTest

final class GenerationTests: XCTestCase {
    /// 160 positions, so a 140-token prompt crosses the generator's 128-row prefill chunks.
    let config = GPT2Config(nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 160, vocabSize: 96)

    /// A random model with every parameter scaled by 4: attention far from uniform, logits spread.
    func randomModel(_ config: GPT2Config, seed: UInt64) throws -> GPT2Model {
        let model = try GPT2Model(config: config, trainable: false)
        model.initializeRandomly(seed: seed)
        for i in 0..<model.parameters.count { model.parameters.base[i] *= 4 }
        return model
    }

    /// Logits after the last token of `tokens`, from a full forward pass without a cache.
    func fullLogits(_ model: GPT2Model, _ tokens: [Int32]) throws -> [Float] {
        var input = GPT2Input()
        input.appendSequence(tokens)
        input.addTarget(row: tokens.count - 1, token: 0)
        try model.forward(input)
        return Array(model.logits(target: 0))
    }

    func randomTokens(_ n: Int, vocabulary: Int, seed: UInt64) -> [Int32] {
        var rng = SeededNormal(seed: seed)
        return (0..<n).map { _ in Int32(rng.nextBits() % UInt64(vocabulary)) }
    }

    func argmax(_ xs: [Float]) -> Int32 { Int32(xs.indices.max { xs[$0] < xs[$1] || (xs[$0] == xs[$1] && $0 > $1) }!) }

    /// Cached and full passes run the same computation in different float32 orders: a step uses
    /// BLAS gemv on 1 row, a prefill gemm on a chunk, the full pass gemm on the whole sequence, and
    /// the full pass's attention multiplies blocks with BLAS where the cache goes query by query. That rounding, at
    /// the 1e-7 level and amplified through the layers, measures at most ~1e-6 of the largest
    /// logit here; 1e-5 bounds it and is far below any real error (a wrong position or a stale
    /// cache row changes logits at O(1)). Scaling the weights further (x8) makes the random
    /// network chaotic enough to amplify rounding past 1e-5 on 150 tokens, without any bug.
    func assertClose(_ cached: UnsafeBufferPointer<Float>, _ full: [Float], _ what: String) {
        let scale = full.map(abs).max()!
        let worst = zip(cached, full).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(what): max |Δ| \(worst), max |logit| \(scale)")
    }

    func testCachedLogitsEqualFullForwardAtEveryStep() throws {
        let model = try randomModel(config, seed: 1)
        let generator = try GPT2Generator(model: model)
        let tokens = randomTokens(24, vocabulary: config.vocabSize, seed: 2)
        assertClose(try generator.prefill(Array(tokens[..<5])), try fullLogits(model, Array(tokens[..<5])), "prefill 5")
        for n in 5..<tokens.count {
            let cached = try generator.step(tokens[n])
            XCTAssertEqual(generator.count, n + 1)
            assertClose(cached, try fullLogits(model, Array(tokens[...n])), "step to \(n + 1) tokens")
        }
    }

    func testLongPromptIsPrefilledInChunks() throws {
        let model = try randomModel(config, seed: 3)
        let generator = try GPT2Generator(model: model)
        let tokens = randomTokens(150, vocabulary: config.vocabSize, seed: 4)
        assertClose(try generator.prefill(Array(tokens[..<140])), try fullLogits(model, Array(tokens[..<140])), "prefill 140")
        for n in 140..<tokens.count {
            assertClose(try generator.step(tokens[n]), try fullLogits(model, Array(tokens[...n])), "step to \(n + 1) tokens")
        }
        // A second sequence starts from an empty cache.
        assertClose(try generator.prefill(Array(tokens[..<3])), try fullLogits(model, Array(tokens[..<3])), "new prefill 3")
    }

    func generate(_ model: GPT2Model, _ prompt: [Int32], _ settings: SamplingSettings, seed: UInt64 = 0,
                  maxNewTokens: Int = 16, stopToken: Int32? = nil) throws -> Generation {
        var sampler = try TokenSampler(settings: settings, seed: seed, vocabularySize: model.config.vocabSize)
        return try GPT2Generator(model: model).generate(prompt: prompt, maxNewTokens: maxNewTokens,
                                                        sampler: &sampler, stopToken: stopToken)
    }

    func testGreedyEqualsArgmaxOfRepeatedFullForwards() throws {
        let model = try randomModel(config, seed: 5)
        let prompt = randomTokens(6, vocabulary: config.vocabSize, seed: 6)
        var sequence = prompt
        for _ in 0..<16 { sequence.append(argmax(try fullLogits(model, sequence))) }
        let greedy = try generate(model, prompt, .argmax)
        XCTAssertEqual(greedy.tokens, Array(sequence[6...]))
        XCTAssertEqual(greedy.stopReason, .maxNewTokens)
        XCTAssertGreaterThan(Set(greedy.tokens).count, 1, "a degenerate model would make this test weak")
    }

    func testTopKOneAndTinyTopPEqualGreedy() throws {
        let model = try randomModel(config, seed: 7)
        let prompt = randomTokens(4, vocabulary: config.vocabSize, seed: 8)
        let greedy = try generate(model, prompt, .argmax).tokens
        XCTAssertEqual(try generate(model, prompt, SamplingSettings(temperature: 1.5, topK: 1), seed: 9).tokens, greedy)
        XCTAssertEqual(try generate(model, prompt, SamplingSettings(temperature: 0.7, topP: 1e-6), seed: 9).tokens, greedy)
    }

    func testSeedFixesTheSample() throws {
        let model = try randomModel(config, seed: 10)
        let prompt = randomTokens(4, vocabulary: config.vocabSize, seed: 11)
        let settings = SamplingSettings(temperature: 2, topK: 50, topP: 0.95)
        let a = try generate(model, prompt, settings, seed: 1, maxNewTokens: 32)
        XCTAssertEqual(try generate(model, prompt, settings, seed: 1, maxNewTokens: 32), a)
        XCTAssertNotEqual(try generate(model, prompt, settings, seed: 2, maxNewTokens: 32).tokens, a.tokens)
    }

    func testSamplerKeepsTheNucleusAndTheTopK() throws {
        // Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1; at temperature 2 the logits halve.
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }
        func frequencies(_ settings: SamplingSettings, draws: Int = 4000) throws -> [Double] {
            var sampler = try TokenSampler(settings: settings, seed: 3, vocabularySize: 4)
            var counts = [Double](repeating: 0, count: 4)
            for _ in 0..<draws { counts[Int(logits.withUnsafeBufferPointer { sampler.next($0) })] += 1 }
            return counts.map { $0 / Double(draws) }
        }
        func assertNear(_ got: [Double], _ expected: [Double], _ what: String) {
            for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: e == 0 ? 0 : 0.03, what) }
        }
        assertNear(try frequencies(SamplingSettings()), [0.5, 0.3, 0.15, 0.05], "plain")
        assertNear(try frequencies(SamplingSettings(topP: 0.75)), [0.625, 0.375, 0, 0], "top-p 0.75")
        assertNear(try frequencies(SamplingSettings(topP: 0.85)), [0.5, 0.3, 0.15, 0].map { $0 / 0.95 }, "top-p 0.85")
        assertNear(try frequencies(SamplingSettings(topK: 3)), [0.5, 0.3, 0.15, 0].map { $0 / 0.95 }, "top-k 3")
        let warm = [0.5, 0.3, 0.15, 0.05].map { $0.squareRoot() }, total = warm.reduce(0, +)
        assertNear(try frequencies(SamplingSettings(temperature: 2)), warm.map { $0 / total }, "temperature 2")
        XCTAssertThrowsError(try TokenSampler(settings: SamplingSettings(temperature: 0), seed: 0, vocabularySize: 4))
        XCTAssertThrowsError(try TokenSampler(settings: SamplingSettings(topP: 0), seed: 0, vocabularySize: 4))
    }

    func testStopsAfterTheStopToken() throws {
        let model = try randomModel(config, seed: 12)
        let prompt = randomTokens(4, vocabulary: config.vocabSize, seed: 13)
        let greedy = try generate(model, prompt, .argmax).tokens
        let stopped = try generate(model, prompt, .argmax, stopToken: greedy[2])
        let first = greedy.firstIndex(of: greedy[2])!
        XCTAssertEqual(stopped, Generation(tokens: Array(greedy[...first]), stopReason: .endOfText))
    }

    func testContextLimitIsNeverExceeded() throws {
        var small = config
        small.nPositions = 16
        let model = try randomModel(small, seed: 14)
        let prompt = randomTokens(10, vocabulary: small.vocabSize, seed: 15)
        let full = try generate(model, prompt, .argmax, maxNewTokens: 20)
        XCTAssertEqual(full.tokens.count, 6)
        XCTAssertEqual(full.stopReason, .contextFull)
        XCTAssertEqual(try generate(model, randomTokens(16, vocabulary: 96, seed: 1), .argmax),
                       Generation(tokens: [], stopReason: .contextFull))

        let generator = try GPT2Generator(model: model)
        XCTAssertThrowsError(try generator.prefill(randomTokens(17, vocabulary: 96, seed: 1))) {
            XCTAssertEqual($0 as? GenerationError, .contextFull(tokens: 17, capacity: 16))
        }
        _ = try generator.prefill(randomTokens(15, vocabulary: 96, seed: 1))
        _ = try generator.step(3)
        XCTAssertThrowsError(try generator.step(3)) {
            XCTAssertEqual($0 as? GenerationError, .contextFull(tokens: 17, capacity: 16))
        }
        XCTAssertThrowsError(try GPT2Generator(model: model, capacity: 17))
        XCTAssertThrowsError(try generator.prefill([])) { XCTAssertEqual($0 as? GenerationError, .emptyPrompt) }
        XCTAssertThrowsError(try generator.prefill([96])) {
            XCTAssertEqual($0 as? GenerationError, .tokenOutOfVocabulary(id: 96, vocabularySize: 96))
        }
    }

    struct GreedyFixture: Decodable {
        let model: String
        let prompt_ids: [Int32]
        let max_new_tokens: Int
        let expected_new_ids: [Int32]
    }

    /// Greedy ids of transformers' `generate(do_sample=False)`; see scripts/make_generation_fixture.py.
    func testGreedyMatchesTransformers() throws {
        let fixtures = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let fixture = try JSONDecoder().decode(
            GreedyFixture.self, from: Data(contentsOf: fixtures.appendingPathComponent("greedy_generation.json")))
        let model = try HFCheckpoint.load(from: fixtures.appendingPathComponent(fixture.model), trainable: false)
        let result = try generate(model, fixture.prompt_ids, .argmax, maxNewTokens: fixture.max_new_tokens,
                                  stopToken: GPT2Generator.endOfTextID)
        XCTAssertEqual(result.tokens, fixture.expected_new_ids)
    }
}

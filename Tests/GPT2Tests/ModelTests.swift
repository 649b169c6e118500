import GPT2
import XCTest

final class ModelTests: XCTestCase {
    let config = GPT2Config(nLayer: 4, nHead: 2, nEmbd: 32, nPositions: 16, vocabSize: 64)

    func testInitialisationFollowsHuggingFaceScheme() throws {
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 3)
        func stats(_ name: String) -> (mean: Double, std: Double) {
            let t = model.layout.tensor(named: name)!
            let xs = UnsafeBufferPointer(start: model.parameters.base + t.offset, count: t.count).map(Double.init)
            let mean = xs.reduce(0, +) / Double(xs.count)
            return (mean, (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot())
        }
        XCTAssertEqual(stats("wte.weight").std, 0.02, accuracy: 0.0005)
        XCTAssertEqual(stats("wte.weight").mean, 0, accuracy: 0.0005)
        XCTAssertEqual(stats("h.0.mlp.c_fc.weight").std, 0.02, accuracy: 0.001)
        let residual = 0.02 / (2.0 * 4).squareRoot()
        XCTAssertEqual(stats("h.3.mlp.c_proj.weight").std, residual, accuracy: 0.0004)
        XCTAssertEqual(stats("h.1.attn.c_proj.weight").std, residual, accuracy: 0.0006)
        XCTAssertEqual(stats("h.2.ln_1.weight").mean, 1)
        XCTAssertEqual(stats("h.2.ln_1.weight").std, 0)
        XCTAssertEqual(stats("h.2.attn.c_attn.bias").std, 0)
        XCTAssertEqual(stats("ln_f.bias").mean, 0)
    }

    func testInitialisationIsSeeded() throws {
        let a = try GPT2Model(config: config), b = try GPT2Model(config: config), c = try GPT2Model(config: config)
        a.initializeRandomly(seed: 1)
        b.initializeRandomly(seed: 1)
        c.initializeRandomly(seed: 2)
        XCTAssertEqual(a.parameters.array, b.parameters.array)
        XCTAssertNotEqual(a.parameters.array, c.parameters.array)
    }

    func testNamedSizesHaveTheKnownParameterCounts() throws {
        // Published counts of GPT-2 with tied embeddings: 124,439,808 and 354,823,168.
        XCTAssertEqual(GPT2Layout(GPT2Config.named("gpt2")!).count, 124_439_808)
        XCTAssertEqual(GPT2Layout(GPT2Config.named("gpt2-medium")!).count, 354_823_168)
    }

    func testPaddingDoesNotChangeRealTokens() throws {
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 4)
        // Row 0 has 5 real tokens and 3 pads; only the pad ids differ between the two inputs.
        let real: [Int32] = [3, 9, 27, 1, 40]
        func logps(pad: Int32) throws -> [Float] {
            let input = GPT2Input(tokens: real + [pad, pad, pad], batchSize: 1, seqLen: 8,
                                  targetRows: [0, 1, 2, 3], targets: [9, 27, 1, 40])
            return Array(try model.forward(input))
        }
        XCTAssertEqual(try logps(pad: 0), try logps(pad: 63))
    }

    func testBatchRowsAreIndependent() throws {
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 5)
        let a: [Int32] = [1, 2, 3, 4], b: [Int32] = [5, 6, 7, 8]
        let alone = Array(try model.forward(GPT2Input(tokens: a, batchSize: 1, seqLen: 4, targetRows: [0, 1, 2], targets: [2, 3, 4])))
        let batched = Array(try model.forward(GPT2Input(tokens: b + a, batchSize: 2, seqLen: 4, targetRows: [4, 5, 6], targets: [2, 3, 4])))
        for (x, y) in zip(alone, batched) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    func testInvalidInputIsRefusedBeforeAnyWork() throws {
        let model = try GPT2Model(config: config)
        let badToken = GPT2Input(tokens: [1, 64], batchSize: 1, seqLen: 2, targetRows: [0], targets: [1])
        XCTAssertThrowsError(try model.forward(badToken)) { XCTAssertTrue("\($0)".contains("token id 64")) }
        let tooLong = GPT2Input(tokens: [Int32](repeating: 1, count: 17), batchSize: 1, seqLen: 17, targetRows: [], targets: [])
        XCTAssertThrowsError(try model.forward(tooLong)) { XCTAssertTrue("\($0)".contains("n_positions 16")) }
    }

    /// `zeroGradients()` zeroes what a backward pass accumulated; when an optimiser reports it
    /// cleared them, the next call skips its pass (the gradients are then left as they are), and
    /// the next backward pass makes the call zero them again.
    func testZeroGradientsAfterBackwardAndAfterClearing() throws {
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 6)
        let input = GPT2Input(tokens: [1, 2, 3, 4], batchSize: 1, seqLen: 4, targetRows: [0, 1, 2], targets: [2, 3, 4])
        func backward() throws {
            try model.forward(input)
            [Float](repeating: -1, count: 3).withUnsafeBufferPointer { model.backward(dlogp: $0) }
        }
        let gradients = try XCTUnwrap(model.gradients)
        try backward()
        XCTAssertFalse(model.gradientsAreZero)
        XCTAssertTrue(gradients.array.contains { $0 != 0 })
        model.zeroGradients()
        XCTAssertTrue(model.gradientsAreZero)
        XCTAssertTrue(gradients.array.allSatisfy { $0 == 0 })
        try backward()
        XCTAssertFalse(model.gradientsAreZero, "backward must reset the flag")
        let accumulated = gradients.array
        model.gradientsWereCleared()
        model.zeroGradients()
        XCTAssertEqual(gradients.array, accumulated, "after gradientsWereCleared the call has nothing to do")
        try backward()
        model.zeroGradients()
        XCTAssertTrue(gradients.array.allSatisfy { $0 == 0 })
    }

    func testInvalidConfigIsRefused() {
        XCTAssertThrowsError(try GPT2Model(config: GPT2Config(nLayer: 1, nHead: 5, nEmbd: 32))) {
            XCTAssertEqual("\($0)", "n_embd (32) must be divisible by n_head (5)")
        }
        XCTAssertThrowsError(try GPT2Model(config: GPT2Config(nLayer: 0, nHead: 1, nEmbd: 8))) {
            XCTAssertEqual("\($0)", "n_layer must be at least 1, got 0")
        }
    }
}

final class DebugCheckTests: XCTestCase {
    func testNonFiniteActivationIsReportedWithItsLayer() throws {
        let model = try GPT2Model(config: GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 16))
        model.initializeRandomly(seed: 1)
        let fc = try XCTUnwrap(model.layout.tensor(named: "h.1.mlp.c_fc.bias"))
        model.parameters.base[fc.offset + 3] = .nan
        let input = GPT2Input(tokens: [1, 2, 3, 4], batchSize: 1, seqLen: 4, targetRows: [0], targets: [2])
        XCTAssertNoThrow(try model.forward(input), "without debug checks a NaN flows through silently")
        model.checksFinite = true
        XCTAssertThrowsError(try model.forward(input)) { error in
            XCTAssertEqual((error as? NonFiniteValue)?.place, "h.1.mlp.c_fc + gelu")
        }
    }
}

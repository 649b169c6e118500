import GPT2
import XCTest

/// Activation checkpointing and the frozen model's single block: the same numbers as a model that
/// keeps every activation, bit for bit, in a fraction of the memory, and the byte count the
/// memory planner uses is what a model allocates.
final class GradientCheckpointingTests: XCTestCase {
    let config = GPT2Config(nLayer: 4, nHead: 2, nEmbd: 32, nPositions: 16, vocabSize: 64)

    /// A trainable model with seeded weights, as `bf16` and `checkpointing` say.
    func model(checkpointing: Bool, bf16: Bool, config: GPT2Config? = nil) throws -> GPT2Model {
        let model = try GPT2Model(config: config ?? self.config)
        model.initializeRandomly(seed: 21)
        model.bf16 = bf16
        model.gradientCheckpointing = checkpointing
        return model
    }

    /// Checkpointing recomputes each block with the same kernels on the same input: log-probs,
    /// gradients (two micro-steps of different shapes accumulated) and the order of final gradient
    /// offsets are exactly those of a model keeping every block, in float32 and bfloat16 matmuls.
    func testCheckpointedGradientsAreBitIdentical() throws {
        let inputs = [pairsInput(), pairsInput(promptLength: 3, completionLength: 4)]
        for bf16 in [false, true] {
            let full = try microSteps(try model(checkpointing: false, bf16: bf16), inputs)
            let checkpointed = try microSteps(try model(checkpointing: true, bf16: bf16), inputs)
            XCTAssertEqual(checkpointed.logps, full.logps, "bf16 \(bf16): log-probs")
            XCTAssertTrue(full.gradients.contains { $0 != 0 })
            let differing = zip(checkpointed.gradients, full.gradients).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "bf16 \(bf16): gradients that are not bit-identical")
            XCTAssertEqual(checkpointed.offsets, full.offsets, "bf16 \(bf16): onGradientsFinal offsets")
        }
    }

    /// A frozen model runs every block in one set of buffers, its residual overwritten in place:
    /// its log-probs are exactly a trainable model's.
    func testFrozenForwardIsBitIdenticalToTrainable() throws {
        for bf16 in [false, true] {
            let trainable = try model(checkpointing: false, bf16: bf16)
            let frozen = try GPT2Model(config: config, trainable: false)
            frozen.parameters.copy(from: trainable.parameters)
            frozen.bf16 = bf16
            for input in [pairsInput(), pairsInput(promptLength: 3, completionLength: 4)] {
                XCTAssertEqual(Array(try frozen.forward(input)), Array(try trainable.forward(input)), "bf16 \(bf16)")
                XCTAssertEqual(Array(frozen.logitSums), Array(trainable.logitSums), "bf16 \(bf16): logit sums")
            }
        }
    }

    /// `activationBytes` is exactly what a model allocates (counted over every buffer it holds),
    /// for a trainable model with and without checkpointing and a frozen one, after a forward
    /// and backward pass and after growing to a larger input.
    func testActivationBytesAreWhatTheModelAllocates() throws {
        for (trainable, checkpointing) in [(true, false), (true, true), (false, false)] {
            let model = try GPT2Model(config: config, trainable: trainable)
            model.initializeRandomly(seed: 2)
            model.gradientCheckpointing = checkpointing
            XCTAssertEqual(model.allocatedActivationBytes, 0)
            for input in [pairsInput(promptLength: 3, completionLength: 4), pairsInput()] {
                let logp = try model.forward(input)
                if trainable { [Float](repeating: 1, count: logp.count).withUnsafeBufferPointer { model.backward(dlogp: $0) } }
                let expected = GPT2Model.activationBytes(config: config, rows: input.rows,
                                                         probabilitiesPerHead: input.spans.probabilitiesPerHead,
                                                         targets: input.targets.count, trainable: trainable,
                                                         checkpointing: checkpointing)
                XCTAssertEqual(model.allocatedActivationBytes, expected, "trainable \(trainable), checkpointing \(checkpointing)")
            }
        }
    }

    /// What each extra layer costs, measured on the allocations of a 2- and a 6-layer model: a
    /// checkpointing model keeps one [N, C] input per block and nothing else per block (the
    /// attention probabilities included); a frozen model keeps nothing per block.
    func testCheckpointingKeepsOnlyEachBlocksInput() throws {
        let input = pairsInput()
        func bytes(layers: Int, trainable: Bool, checkpointing: Bool) throws -> Int {
            let model = try GPT2Model(config: GPT2Config(nLayer: layers, nHead: 2, nEmbd: 32, nPositions: 16, vocabSize: 64),
                                      trainable: trainable)
            model.gradientCheckpointing = checkpointing
            try model.forward(input)
            return model.allocatedActivationBytes
        }
        let perLayerInput = input.rows * config.nEmbd * MemoryLayout<Float>.size
        let checkpointed = try bytes(layers: 6, trainable: true, checkpointing: true)
            - bytes(layers: 2, trainable: true, checkpointing: true)
        XCTAssertEqual(checkpointed, 4 * perLayerInput)
        XCTAssertEqual(try bytes(layers: 6, trainable: false, checkpointing: false),
                       try bytes(layers: 2, trainable: false, checkpointing: false))
        let full = try bytes(layers: 6, trainable: true, checkpointing: false) - bytes(layers: 2, trainable: true, checkpointing: false)
        let attention = config.nHead * input.spans.probabilitiesPerHead * MemoryLayout<Float>.size
        XCTAssertGreaterThan(full, 4 * (perLayerInput + attention),
                             "without checkpointing each layer keeps its activations")
    }
}

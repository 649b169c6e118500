import GPT2
import XCTest

/// `ActivationMemory`, the memory plan's activation term, against the buffers a model really
/// allocates and against hand computation for GPT-2 124M.
final class ActivationMemoryTests: XCTestCase {
    /// After a forward pass of packed sequences (one sharing a prefix), the model's activation
    /// buffers (every one, found by reflection, so a buffer added later and left out of the
    /// estimate fails this test) are exactly the estimate of the input's shape.
    func testBytesMatchTheAllocatedBuffers() throws {
        let config = GPT2Config(nLayer: 3, nHead: 2, nEmbd: 8, nPositions: 32, vocabSize: 50, nInner: 24)
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 1)
        var input = GPT2Input()
        let prompt = input.appendSequence((0..<9).map { Int32($0) })
        input.appendSequence((10..<14).map { Int32($0) }, firstPosition: 5, prefix: prompt.lowerBound..<(prompt.lowerBound + 5))
        for row in [2, 4, 8, 9, 12] { input.addTarget(row: row, token: Int32(row)) }
        try model.forward(input)
        let shape = ForwardShape(input)
        XCTAssertEqual(shape, ForwardShape(rows: 13, probabilitiesPerHead: 81 + 4 * 9, targets: 5))
        XCTAssertEqual(model.allocatedActivationBytes, ActivationMemory.bytes(shape: shape, config: config, storage: .everyBlock))
    }

    /// GPT-2 124M (C 768, n_inner 3072, 12 heads, 12 layers, V 50,257) on 2 pairs of 64 prompt +
    /// 64 completion tokens with shared prompts: N = 2·(64 + 128) = 384 rows,
    /// P = 2·(128² + 64·128) = 49,152 probabilities per head, M = 256 targets.
    func testGPT2ByHand() throws {
        let gpt2 = try XCTUnwrap(GPT2Config.named("gpt2"))
        let shape = ForwardShape(rows: 384, probabilitiesPerHead: 49_152, targets: 256)
        // One block: N·(7C + 2·4C + 4) + NH·P = 4,425,216 + 589,824 = 5,015,040 floats.
        let block = 5_015_040
        // Outside the blocks: lnf, scratch, lnf statistics N·(2C + 2) = 590,592; selected, logits,
        // lse, logp, logit sums M·(C + V + 3) = 13,063,168.
        let shared = 590_592 + 13_063_168
        // Backward buffers: N·(6C + 2·4C) + M·(C + 1) + NH·P = 4,128,768 + 196,864 + 589,824.
        let backward = 4_915_456
        // Residual stream [N, C] = 294,912 floats: 13 (every block's input and the last output)
        // for a trainable model, 1 (overwritten in place) for a frozen one.
        let residual = 294_912
        XCTAssertEqual(ActivationMemory.bytes(shape: shape, config: gpt2, storage: .everyBlock),
                       4 * (13 * residual + 12 * block + shared + backward))
        XCTAssertEqual(ActivationMemory.bytes(shape: shape, config: gpt2, storage: .checkpointed),
                       4 * (13 * residual + block + shared + backward))
        XCTAssertEqual(ActivationMemory.bytes(shape: shape, config: gpt2, storage: .frozen),
                       4 * (residual + block + shared))
    }
}

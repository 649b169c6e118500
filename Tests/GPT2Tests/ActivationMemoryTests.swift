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
        XCTAssertEqual(model.activationBytes, ActivationMemory.bytes(shape: shape, config: config, storage: .everyBlock))
    }

    /// GPT-2 124M (C 768, n_inner 3072, 12 heads, 12 layers, V 50,257) on 2 pairs of 64 prompt +
    /// 64 completion tokens with shared prompts: N = 2·(64 + 128) = 384 rows,
    /// P = 2·(128² + 64·128) = 49,152 probabilities per head, M = 256 targets.
    func testGPT2ByHand() throws {
        let gpt2 = try XCTUnwrap(GPT2Config.named("gpt2"))
        let shape = ForwardShape(rows: 384, probabilitiesPerHead: 49_152, targets: 256)
        // Block: 8·N·C + 2·N·4C + NH·P + 4·N = 2,359,296 + 2,359,296 + 589,824 + 1,536 floats.
        let block = 4 * 5_309_952
        XCTAssertEqual(ActivationMemory.blockBytes(shape: shape, config: gpt2), block)
        // Outside the blocks: 9·N·C + 2·N + 2·N·4C + 2·M·C + M·V + 4·M + NH·P floats
        // = 2,654,208 + 768 + 2,359,296 + 393,216 + 12,865,792 + 1,024 + 589,824 = 18,864,128,
        // plus 2·N + 2·M Int32 ids = 1,280.
        let shared = 4 * 18_864_128 + 4 * 1_280
        XCTAssertEqual(ActivationMemory.sharedBytes(shape: shape, config: gpt2), shared)
        XCTAssertEqual(ActivationMemory.bytes(shape: shape, config: gpt2, storage: .everyBlock), 12 * block + shared)
        // Checkpointed: each block's input [N, C] (294,912 floats) and one block.
        XCTAssertEqual(ActivationMemory.bytes(shape: shape, config: gpt2, storage: .checkpointed),
                       12 * 4 * 294_912 + block + shared)
    }
}

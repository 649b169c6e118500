import GPT2
import XCTest

/// A LoRA adapter's initialisation, copy and merge, and the models that carry one.
final class LoRAAdapterTests: XCTestCase {
    let config = GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 16, vocabSize: 32, nInner: 20)
    let settings = LoRASettings(rank: 3, alpha: 5, targets: LoRASettings.defaultTargets)

    /// PEFT's init: each A uniform in ±1/sqrt(in) (filling the range), each B exactly 0; seeded.
    func testInitialisationIsPEFTsAndSeeded() throws {
        let adapter = try LoRAAdapter(config: config, settings: settings)
        adapter.initializeRandomly(seed: 7)
        for tensor in adapter.layout.tensors {
            let values = UnsafeBufferPointer(start: adapter.parameters.base + tensor.offset, count: tensor.count).map(Double.init)
            if tensor.name.contains("lora_B") {
                XCTAssertTrue(values.allSatisfy { $0 == 0 }, tensor.name)
            } else {
                let bound = 1 / Double(tensor.shape[1]).squareRoot()
                XCTAssertLessThanOrEqual(values.map(abs).max()!, bound, tensor.name)
                // 24 to 60 uniform draws: the largest |value| is above half the bound unless the draws are broken.
                XCTAssertGreaterThan(values.map(abs).max()!, bound / 2, tensor.name)
                XCTAssertTrue(values.contains { $0 < 0 } && values.contains { $0 > 0 }, tensor.name)
            }
        }
        XCTAssertTrue(adapter.isIdentity)
        let again = try LoRAAdapter(config: config, settings: settings), other = try LoRAAdapter(config: config, settings: settings)
        again.initializeRandomly(seed: 7)
        other.initializeRandomly(seed: 8)
        XCTAssertEqual(again.parameters.array, adapter.parameters.array)
        XCTAssertNotEqual(other.parameters.array, adapter.parameters.array)
    }

    /// A copy has the same values in a buffer of its own; one non-zero B element ends `isIdentity`.
    func testCopyAndIdentity() throws {
        let adapter = try LoRAAdapter(config: config, settings: settings)
        adapter.initializeRandomly(seed: 1)
        let lastB = try XCTUnwrap(adapter.layout.tensors.last)
        adapter.parameters.base[lastB.offset + lastB.count - 1] = 1e-30
        XCTAssertFalse(adapter.isIdentity)
        let twin = adapter.copy()
        XCTAssertEqual(twin.parameters.array, adapter.parameters.array)
        XCTAssertEqual(twin.settings, adapter.settings)
        XCTAssertNotEqual(twin.parameters.base, adapter.parameters.base)
        twin.parameters.base[0] += 1
        XCTAssertNotEqual(twin.parameters.array, adapter.parameters.array)
    }

    /// merge adds scaling · (B A)ᵀ to each adapted Conv1D weight ([in, out]), computed here in
    /// float64 by the definition, and leaves every other parameter as it was.
    func testMergeAddsTheScaledProductToEveryAdaptedWeight() throws {
        let settings = LoRASettings(rank: 3, alpha: 5, targets: ["c_attn", "mlp.c_proj", "h.1.mlp.c_fc"], useRSLoRA: true)
        let adapter = try LoRAAdapter(config: config, settings: settings)
        var state: UInt64 = 11
        for i in 0..<adapter.parameters.count {  // B non-zero too (a trained adapter)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            adapter.parameters.base[i] = Float(Int64(bitPattern: state >> 11) % 1000) / 1000
        }
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 3)
        let before = model.parameters.array
        adapter.merge(into: model)
        let after = model.parameters.array
        var touched = Set<Int>()
        let s = 5 / 3.0.squareRoot(), r = 3
        for (l, block) in adapter.layout.blocks.enumerated() {
            for layer in block.layers {
                let w = model.layout.blocks[l].weight(of: layer.layer)
                for i in 0..<layer.inFeatures {
                    for o in 0..<layer.outFeatures {
                        var delta = 0.0
                        for k in 0..<r {
                            delta += Double(adapter.parameters.base[layer.b + o * r + k]) * Double(adapter.parameters.base[layer.a + k * layer.inFeatures + i])
                        }
                        let index = w + i * layer.outFeatures + o
                        touched.insert(index)
                        // |delta·s| < 3·1·2.9 ≈ 9; float32 rounding of the sum and the add: < 1e-5 absolute.
                        XCTAssertEqual(Double(after[index]), Double(before[index]) + s * delta, accuracy: 1e-5)
                    }
                }
            }
        }
        XCTAssertEqual(touched.count, 2 * 8 * 24 + 2 * 20 * 8 + 8 * 20)
        for i in before.indices where !touched.contains(i) { XCTAssertEqual(after[i], before[i]) }
    }

    /// A trainable model with an adapter allocates gradients for the adapter only and exposes the
    /// adapter as its trainable parameters; a frozen one has none; a model sharing weights uses the
    /// base's very buffer; an adapter of another shape is refused.
    func testModelsWithAnAdapter() throws {
        let adapter = try LoRAAdapter(config: config, settings: settings)
        let policy = try GPT2Model(config: config, trainable: true, adapter: adapter)
        XCTAssertEqual(policy.gradients?.count, adapter.layout.count)
        XCTAssertTrue(policy.trainableParameters === adapter.parameters)
        XCTAssertEqual(policy.trainableLayout.tensors, adapter.layout.tensors)
        XCTAssertTrue(policy.adapter === adapter)
        XCTAssertEqual(policy.parameters.count, policy.layout.count)
        let plain = try GPT2Model(config: config)
        XCTAssertEqual(plain.gradients?.count, plain.layout.count)
        XCTAssertTrue(plain.trainableParameters === plain.parameters)
        XCTAssertNil(try GPT2Model(config: config, trainable: false, adapter: adapter).gradients)
        policy.bf16 = true
        let reference = try GPT2Model(sharingWeightsOf: policy, adapter: nil)
        XCTAssertTrue(reference.parameters === policy.parameters)
        XCTAssertNil(reference.gradients)
        XCTAssertNil(reference.adapter)
        XCTAssertTrue(reference.bf16)
        let other = GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 16, vocabSize: 32)
        XCTAssertThrowsError(try GPT2Model(config: other, trainable: true, adapter: adapter)) {
            XCTAssertTrue("\($0)".contains("made for a model with n_layer=2, n_head=2, n_embd=8, n_positions=16, vocab_size=32, n_inner=20"), "\($0)")
        }
        XCTAssertThrowsError(try GPT2Model(sharingWeightsOf: GPT2Model(config: other), adapter: adapter))
    }
}

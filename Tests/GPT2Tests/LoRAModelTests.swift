import GPT2
import XCTest

/// GPT-2 with a LoRA adapter: the forward pass is the merged model's, the adapter's gradients are
/// the derivatives of the loss, the base gets none, checkpointing and dropout keep every guarantee
/// of the full model, and the memory formula is what the model allocates.
final class LoRAModelTests: XCTestCase {
    /// n_inner 40 (not 4C) and three blocks, so a mixed-up in/out size or block offset shows.
    let config = GPT2Config(nLayer: 3, nHead: 2, nEmbd: 16, nPositions: 32, vocabSize: 64, nInner: 40)

    /// A base with seeded weights.
    func base() throws -> GPT2Model {
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: 31)
        return model
    }

    /// An adapter as after training: PEFT's A, and B uniform in ±0.5 (a fresh B = 0 would make
    /// the adapter the identity and every A gradient zero).
    func trainedAdapter(_ settings: LoRASettings, seed: UInt64 = 5) throws -> LoRAAdapter {
        let adapter = try LoRAAdapter(config: config, settings: settings)
        adapter.initializeRandomly(seed: Int(seed))
        var state = seed
        for block in adapter.layout.blocks {
            for layer in block.layers {
                for i in 0..<(layer.outFeatures * settings.rank) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    adapter.parameters.base[layer.b + i] = Float(state >> 40) / Float(1 << 24) - 0.5
                }
            }
        }
        return adapter
    }

    /// A model on `base`'s weights (copied) with `adapter`.
    func adapted(_ base: GPT2Model, _ adapter: LoRAAdapter, trainable: Bool = true) throws -> GPT2Model {
        let model = try GPT2Model(config: config, trainable: trainable, adapter: adapter)
        model.parameters.copy(from: base.parameters)
        return model
    }

    let defaults = LoRASettings(rank: 4, alpha: 8, targets: LoRASettings.defaultTargets)
    let rslora = LoRASettings(rank: 4, alpha: 6, targets: ["c_attn", "mlp.c_proj", "h.1.attn.c_proj", "h.2.mlp.c_fc"], useRSLoRA: true)

    /// The base plus adapter computes what the merged base computes (PEFT's merge_and_unload):
    /// W x + s·B(A x) against (W + s·(BA)ᵀ) x.
    func testForwardEqualsTheMergedModel() throws {
        for settings in [defaults, rslora] {
            let base = try base(), adapter = try trainedAdapter(settings)
            let input = pairsInput()
            let model = try adapted(base, adapter)
            let withAdapter = Array(try model.forward(input))
            let plain = Array(try base.forward(input))
            adapter.merge(into: base)
            let merged = Array(try base.forward(input))
            // Rounding only: every product sums at most 40 float32 terms (relative 40·ε32 = 5e-6
            // at worst, far less in practice) through three blocks, and the log-probs are about
            // -4.2, so 1e-4 is a wide bound; the adapter itself moves them by more than 1e-2.
            for (x, y) in zip(withAdapter, merged) { XCTAssertEqual(x, y, accuracy: 1e-4, "\(settings)") }
            XCTAssertGreaterThan(zip(withAdapter, plain).map { abs($0 - $1) }.max()!, 1e-2, "the adapter must matter")
        }
    }

    /// A frozen model with the adapter, one sharing the trainable model's weights with the adapter,
    /// and one sharing them without it compute exactly the trainable model's and the base's
    /// log-probs, in float32 and bfloat16 products.
    func testFrozenAndSharingModelsAreBitIdentical() throws {
        for bf16 in [false, true] {
            let base = try base(), adapter = try trainedAdapter(defaults)
            base.bf16 = bf16
            let policy = try adapted(base, adapter)
            policy.bf16 = bf16
            let frozen = try adapted(base, adapter, trainable: false)
            frozen.bf16 = bf16
            let sharing = try GPT2Model(sharingWeightsOf: policy, adapter: adapter.copy())
            let reference = try GPT2Model(sharingWeightsOf: policy, adapter: nil)
            for input in [pairsInput(), pairsInput(promptLength: 3, completionLength: 4)] {
                let expected = Array(try policy.forward(input))
                XCTAssertEqual(Array(try frozen.forward(input)), expected, "bf16 \(bf16)")
                XCTAssertEqual(Array(try sharing.forward(input)), expected, "bf16 \(bf16)")
                XCTAssertEqual(Array(try reference.forward(input)), Array(try base.forward(input)), "bf16 \(bf16)")
            }
        }
    }

    /// Models sharing a bfloat16 policy's weights share its bfloat16 copy; when they are released
    /// the policy keeps running with it (bfloat16 products, not silently float32 ones).
    func testSharedBFloat16CopyOutlivesTheModelsSharingIt() throws {
        let policy = try adapted(try base(), try trainedAdapter(defaults))
        let input = pairsInput()
        let float32 = Array(try policy.forward(input))
        policy.bf16 = true
        let bfloat16 = Array(try policy.forward(input))
        XCTAssertNotEqual(bfloat16, float32)
        for adapter in [nil, policy.adapter] {
            let reference = try GPT2Model(sharingWeightsOf: policy, adapter: adapter)
            XCTAssertTrue(reference.bf16)
            _ = try reference.forward(input)
        }
        XCTAssertEqual(Array(try policy.forward(input)), bfloat16)
        policy.baseWeightsChanged()
        XCTAssertEqual(Array(try policy.forward(input)), bfloat16, "the copy is rounded again from the same weights")
    }

    /// The directional derivative of L = Σ w·logp along the adapter gradient restricted to
    /// `ranges` (unit step u = g/|g|): central differences at h = 2e-3 and h/2 with Richardson
    /// extrapolation, the loss summed in Double. Returns (|g|, numeric). The adapted model is far
    /// from linear along A (B·s multiplies each step into the attention scores): at h = 1e-2 the
    /// plain difference is off by 5%, at 1e-3 by 0.2%, so h stays small.
    func directionalDerivative(_ model: GPT2Model, _ input: GPT2Input, ranges: [Range<Int>],
                               beforeForward: () -> Void = {}) throws -> (analytic: Double, numeric: Double) {
        let weights = (0..<input.targets.count).map { Float($0 % 3) - 0.75 }
        func loss() throws -> Double {
            beforeForward()
            return zip(try model.forward(input), weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        model.zeroGradients()
        _ = try loss()
        weights.withUnsafeBufferPointer { model.backward(dlogp: $0) }
        let g = try XCTUnwrap(model.gradients).array, theta = model.trainableParameters
        var direction = [Double](repeating: 0, count: g.count)
        for range in ranges { for i in range { direction[i] = Double(g[i]) } }
        let norm = direction.map { $0 * $0 }.reduce(0, +).squareRoot()
        let saved = theta.array
        func difference(_ h: Double) throws -> Double {
            func shifted(_ step: Double) throws -> Double {
                for i in 0..<theta.count { theta.base[i] = saved[i] + Float(step * direction[i] / norm) }
                return try loss()
            }
            return (try shifted(h) - (try shifted(-h))) / (2 * h)
        }
        let coarse = try difference(2e-3), fine = try difference(1e-3)
        for i in 0..<theta.count { theta.base[i] = saved[i] }
        return (norm, (4 * fine - coarse) / 3)
    }

    /// Every A and every B of each targeted layer type (all blocks at once), with rslora's scaling
    /// and with a target in one block only, against finite differences of the model's loss.
    func testAdapterGradientsMatchFiniteDifferences() throws {
        for settings in [defaults, rslora] {
            let model = try adapted(try base(), try trainedAdapter(settings))
            let layout = try XCTUnwrap(model.adapter).layout
            for layer in layout.adaptedLayers {
                for part in ["A", "B"] {
                    let ranges = layout.blocks.compactMap { $0[layer] }.map { o in
                        part == "A" ? o.a..<(o.a + settings.rank * o.inFeatures) : o.b..<(o.b + o.outFeatures * settings.rank)
                    }
                    let check = try directionalDerivative(model, pairsInput(), ranges: ranges)
                    // The loss (|L| ≈ 20) is float32-rounded per evaluation: about 2e-6 of noise per
                    // difference over 2h = 2e-3 gives ~1e-3 absolute of a derivative of 1.5 to 8
                    // (< 1e-3 relative; observed at most 5e-4); the Richardson remainder is O(h⁴). A
                    // wrong term (a missing scaling, a transposed operand, another layer's input)
                    // moves it by 10% or more.
                    XCTAssertGreaterThan(check.analytic, 1e-2, "\(layer) \(part): the check needs a gradient")
                    XCTAssertEqual(check.numeric, check.analytic, accuracy: 3e-3 * check.analytic, "\(settings) \(layer) \(part)")
                }
            }
        }
    }

    /// With an adapter the gradient buffer is the adapter's; backward leaves the base weights, the
    /// adapter's values and `layout` untouched and reports each block's adapter offset once, from
    /// the last block to 0 (a block without adapted layers reports nothing new).
    func testBaseGetsNoGradientAndOffsetsAreTheAdapters() throws {
        for settings in [defaults, rslora] {
            let adapter = try trainedAdapter(settings), base = try base()
            let model = try adapted(base, adapter)
            XCTAssertEqual(model.gradients?.count, adapter.layout.count)
            let before = (model.parameters.array, adapter.parameters.array)
            let result = try microSteps(model, [pairsInput()])
            XCTAssertEqual(model.parameters.array, before.0)
            XCTAssertEqual(adapter.parameters.array, before.1)
            XCTAssertTrue(result.gradients.contains { $0 != 0 })
            var expected: [Int] = []
            for block in adapter.layout.blocks.reversed() where expected.last.map({ block.start < $0 }) ?? true {
                expected.append(block.start)
            }
            XCTAssertEqual(result.offsets, expected, "\(settings)")
            XCTAssertEqual(result.offsets.last, 0)
        }
    }

    /// Gradient checkpointing with an adapter recomputes each block's u with the same calls (and
    /// the same dropout masks): log-probs, adapter gradients (two micro-steps accumulated) and
    /// offsets are bit-identical to a model keeping every block, in float32 and bfloat16.
    func testCheckpointingWithAnAdapterIsBitIdentical() throws {
        let inputs = [pairsInput(), pairsInput(promptLength: 3, completionLength: 4)]
        for bf16 in [false, true] {
            for dropout in [0.0, 0.2] {
                var settings = defaults
                settings.dropout = dropout
                let base = try base(), adapter = try trainedAdapter(settings)
                func run(checkpointing: Bool) throws -> (logps: [[Float]], gradients: [Float], offsets: [Int]) {
                    let model = try adapted(base, adapter.copy())
                    model.bf16 = bf16
                    model.gradientCheckpointing = checkpointing
                    model.adapterDropoutSeed = 3
                    return try microSteps(model, inputs)
                }
                let full = try run(checkpointing: false), checkpointed = try run(checkpointing: true)
                XCTAssertEqual(checkpointed.logps, full.logps, "bf16 \(bf16), dropout \(dropout)")
                let differing = zip(checkpointed.gradients, full.gradients).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "bf16 \(bf16), dropout \(dropout): gradients not bit-identical")
                XCTAssertEqual(checkpointed.offsets, full.offsets)
                XCTAssertTrue(full.gradients.contains { $0 != 0 })
            }
        }
    }

    /// Dropout: p = 0 and evaluation passes never drop, nor does a frozen model; a training pass
    /// with p > 0 does, with a mask fixed by (seed, pass counter), so resetting the counter
    /// repeats it, and for a fixed mask the adapter gradients are the loss's derivatives.
    func testDropout() throws {
        var settings = defaults
        settings.dropout = 0.3
        let base = try base(), adapter = try trainedAdapter(settings), input = pairsInput()
        let undropped = try adapted(base, try trainedAdapter(defaults)), frozen = try adapted(base, adapter, trainable: false)
        let noDropout = Array(try undropped.forward(input))
        let model = try adapted(base, adapter)
        model.adapterDropoutSeed = 11
        let first = Array(try model.forward(input))
        XCTAssertGreaterThan(zip(first, noDropout).map { abs($0 - $1) }.max()!, 1e-3, "p = 0.3 must drop")
        XCTAssertEqual(model.adapterDropoutPasses, 1)
        XCTAssertNotEqual(Array(try model.forward(input)), first, "the next pass draws a new mask")
        model.adapterDropoutPasses = 0
        XCTAssertEqual(Array(try model.forward(input)), first, "the same counter repeats the mask")
        model.adapterDropoutSeed = 12
        model.adapterDropoutPasses = 0
        XCTAssertNotEqual(Array(try model.forward(input)), first, "another seed draws another mask")
        model.adapterDropoutEnabled = false
        XCTAssertEqual(Array(try model.forward(input)), noDropout, "an evaluation pass does not drop")
        XCTAssertEqual(Array(try frozen.forward(input)), noDropout, "a frozen model does not drop")
        model.adapterDropoutEnabled = true
        let all = 0..<adapter.layout.count
        let check = try directionalDerivative(model, input, ranges: [all]) { model.adapterDropoutPasses = 7 }
        // As in testAdapterGradientsMatchFiniteDifferences (the same noise; the mask is fixed).
        XCTAssertEqual(check.numeric, check.analytic, accuracy: 3e-3 * check.analytic)
    }

    /// `activationBytes` with the adapter's layout is exactly what a model with an adapter
    /// allocates (every buffer counted by reflection), trainable with and without checkpointing
    /// and dropout, and frozen; the adapter adds only its small [N, r] buffers (and the dropout
    /// scratch) to what the same model without an adapter holds.
    func testActivationBytesWithAnAdapterAreWhatTheModelAllocates() throws {
        for (trainable, checkpointing, dropout) in [(true, false, 0.0), (true, true, 0.0), (true, true, 0.1), (false, false, 0.1)] {
            var settings = rslora
            settings.dropout = dropout
            let adapter = try trainedAdapter(settings)
            let model = try adapted(try base(), adapter, trainable: trainable)
            model.gradientCheckpointing = checkpointing
            for input in [pairsInput(promptLength: 3, completionLength: 4), pairsInput()] {
                let logp = try model.forward(input)
                if trainable { [Float](repeating: 1, count: logp.count).withUnsafeBufferPointer { model.backward(dlogp: $0) } }
                func bytes(_ layout: LoRALayout?) -> Int {
                    GPT2Model.activationBytes(config: config, rows: input.rows, probabilitiesPerHead: input.spans.probabilitiesPerHead,
                                              targets: input.targets.count, trainable: trainable, checkpointing: checkpointing,
                                              adapter: layout)
                }
                let label = "trainable \(trainable), checkpointing \(checkpointing), dropout \(dropout)"
                XCTAssertEqual(model.allocatedActivationBytes, bytes(adapter.layout), label)
                // u [N, r] per adapted layer type in each kept block (c_attn, both c_proj, c_fc are
                // adapted somewhere), the backward's [N, r], the dropout scratch [N, n_inner].
                let blocks = trainable && !checkpointing ? 3 : 1
                let extra = 4 * input.rows * (4 * blocks * 4 + (trainable ? 4 : 0) + (trainable && dropout > 0 ? 40 : 0))
                XCTAssertEqual(bytes(adapter.layout) - bytes(nil), extra, label)
            }
        }
    }
}

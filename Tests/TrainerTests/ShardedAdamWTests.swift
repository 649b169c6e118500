import DPO
import Distributed
import GPT2
import TestSupport
import XCTest

/// AdamW over ranges of the parameters (ZeRO-1's shards) against AdamW over all of them.
final class ShardedAdamWTests: XCTestCase {
    let layout = GPT2Layout(GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 40))
    let settings = AdamWSettings(weightDecay: 0.1)

    /// Seeded values in [-1, 1).
    func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    func buffer(_ values: [Float]) -> FloatBuffer {
        let buffer = FloatBuffer(count: values.count)
        values.withUnsafeBufferPointer { buffer.base.update(from: $0.baseAddress!, count: values.count) }
        return buffer
    }

    /// Ranges cutting through a decaying tensor (wte) and a non-decaying one (h.0.ln_1.bias).
    var cuts: [Range<Int>] {
        let wte = layout.tensor(named: "wte.weight")!, bias = layout.tensor(named: "h.0.ln_1.bias")!
        XCTAssertTrue(wte.decays)
        XCTAssertFalse(bias.decays)
        let a = wte.offset + wte.count / 2, b = bias.offset + bias.count / 2
        return [0..<a, a..<b, b..<layout.count]
    }

    /// Three shard optimisers updating their ranges of one weight buffer, step by step with weight
    /// decay, make bit for bit the update of one optimiser over everything, hold its moments in
    /// pieces, and after restoring their slices of its moments continue identically.
    func testOptimisersOverRangesEqualOneOverAllParameters() throws {
        for ranges in [cuts, evenShards(count: layout.count, parts: 3), evenShards(count: layout.count, parts: 2)] {
            let start = values(layout.count, seed: 1)
            let whole = AdamW(layout: layout, settings: settings)
            var shards = ranges.map { AdamW(layout: layout, settings: settings, range: $0) }
            let p = buffer(start), q = buffer(start)
            for step in 0..<4 {
                if step == 2 {  // as a resumed run: restore each shard from the whole optimiser's moments
                    shards = ranges.map { AdamW(layout: layout, settings: settings, range: $0) }
                    for shard in shards {
                        shard.restore(m: UnsafeBufferPointer(rebasing: whole.m.buffer[shard.range]),
                                      v: UnsafeBufferPointer(rebasing: whole.v.buffer[shard.range]), stepCount: whole.stepCount)
                    }
                }
                let g = buffer(values(layout.count, seed: 100 + UInt64(step)))
                whole.step(parameters: p, gradients: g, learningRate: 0.05)
                for shard in shards { shard.step(parameters: q, gradients: g, learningRate: 0.05) }
                XCTAssertEqual(q.array, p.array, "step \(step + 1) over \(ranges)")
            }
            XCTAssertNotEqual(p.array, start)
            XCTAssertEqual(shards.flatMap(\.m.array), whole.m.array)
            XCTAssertEqual(shards.flatMap(\.v.array), whole.v.array)
            XCTAssertEqual(shards.map(\.stateBytes).reduce(0, +), whole.stateBytes)
            XCTAssertEqual(whole.stateBytes, 8 * layout.count)
        }
    }

    /// A shard leaves every parameter outside its range alone.
    func testAnOptimiserOverARangeTouchesOnlyItsRange() {
        let range = cuts[1]
        let start = values(layout.count, seed: 2)
        let p = buffer(start)
        AdamW(layout: layout, settings: settings, range: range)
            .step(parameters: p, gradients: buffer(values(layout.count, seed: 3)), learningRate: 0.05)
        let after = p.array
        for i in 0..<layout.count where !range.contains(i) { XCTAssertEqual(after[i], start[i], "element \(i)") }
        XCTAssertTrue(range.allSatisfy { after[$0] != start[$0] })
    }

    /// The SIMD update with the clipping factor fused in equals PyTorch's formulas applied element
    /// by element after `clip_grad_norm_`'s scaling, bit for bit (ranges of every length mod 8).
    func testFusedClippingEqualsElementwiseFormulaAfterScaling() {
        let start = values(layout.count, seed: 4), grads = values(layout.count, seed: 5)
        let scale: Float = 0.37, lr: Float = 0.05
        let p = buffer(start)
        let optimizer = AdamW(layout: layout, settings: settings)
        optimizer.step(parameters: p, gradients: buffer(grads), learningRate: lr, gradientScale: scale)
        let stepSize = Float(Double(lr) / (1 - Double(settings.beta1)))
        let correction2 = Float((1 - Double(settings.beta2)).squareRoot())
        for tensor in layout.tensors {
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                let g = grads[i] * scale
                var expected = start[i]
                if tensor.decays { expected *= 1 - lr * settings.weightDecay }
                let m = (1 - settings.beta1) * g, v = (1 - settings.beta2) * g * g
                expected -= stepSize * (m / (v.squareRoot() / correction2 + settings.epsilon))
                XCTAssertEqual(p.base[i], expected, "\(tensor.name)[\(i - tensor.offset)]")
                XCTAssertEqual(optimizer.m.base[i], m)
                XCTAssertEqual(optimizer.v.base[i], v)
            }
        }
    }

    /// With `clearingGradients` the update is the same and the gradients of the optimiser's range,
    /// and only those, are zero afterwards.
    func testClearingGradientsZeroesItsRangeOnly() {
        let range = cuts[1]
        let start = values(layout.count, seed: 6), grads = values(layout.count, seed: 7)
        let p = buffer(start), q = buffer(start), g = buffer(grads)
        AdamW(layout: layout, settings: settings, range: range).step(parameters: p, gradients: buffer(grads), learningRate: 0.05)
        AdamW(layout: layout, settings: settings, range: range)
            .step(parameters: q, gradients: g, learningRate: 0.05, clearingGradients: true)
        XCTAssertEqual(q.array, p.array)
        let after = g.array
        for i in 0..<layout.count { XCTAssertEqual(after[i], range.contains(i) ? 0 : grads[i], "gradient \(i)") }
    }

    /// Elements of `copy` that are not `parameters` rounded to bfloat16 (`referenceBF16`, from the
    /// exponent in float64, not `BFloat16.round`'s bit arithmetic).
    func misrounded(_ copy: UnsafePointer<UInt16>, of parameters: [Float]) -> [Int] {
        parameters.indices.filter { Double(Float(bitPattern: UInt32(copy[$0]) << 16)) != referenceBF16(parameters[$0]) }
    }

    /// `roundingInto`: the same update, and every updated parameter stored rounded into the copy:
    /// tensors that end in a partial vector (36-element biases), and tensors of several rounding
    /// blocks of 4,096 with a partial last one (wte: 7,200 values, c_fc: 5,184).
    func testRoundingIntoACopyStoresEveryUpdatedParameterRounded() {
        let layout = GPT2Layout(GPT2Config(nLayer: 1, nHead: 2, nEmbd: 36, nPositions: 8, vocabSize: 200))
        let start = values(layout.count, seed: 8), grads = values(layout.count, seed: 9)
        let p = buffer(start), q = buffer(start)
        let copy = UnsafeMutablePointer<UInt16>.allocate(capacity: layout.count)
        defer { copy.deallocate() }
        copy.initialize(repeating: 0x7FC0, count: layout.count)  // NaN: an element left unwritten shows
        AdamW(layout: layout, settings: settings).step(parameters: p, gradients: buffer(grads), learningRate: 0.05)
        AdamW(layout: layout, settings: settings).step(parameters: q, gradients: buffer(grads), learningRate: 0.05, roundingInto: copy)
        XCTAssertEqual(q.array, p.array)
        XCTAssertNotEqual(q.array, start)
        XCTAssertEqual(misrounded(copy, of: q.array), [])
    }

    /// A bf16 model's optimiser step (one rank, no ZeRO: AdamW updates every weight) leaves the
    /// model's bfloat16 copy holding the rounding of the updated weights.
    func testAnOptimiserStepRoundsABF16ModelsCopy() throws {
        let model = try GPT2Model(config: GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 40))
        model.initializeRandomly(seed: 3)
        model.bf16 = true
        let copy = try XCTUnwrap(model.trainableBF16Copy)
        let optimizer = DataParallelOptimizer(model: model, settings: settings, communicator: LocalCommunicator(), zero: 0,
                                              bucketElements: nil)
        let before = model.parameters.array
        for step in 0..<2 {
            optimizer.reducingGradients {
                values(model.layout.count, seed: 20 + UInt64(step)).withUnsafeBufferPointer {
                    model.gradients!.base.update(from: $0.baseAddress!, count: model.layout.count)
                }
            }
            var statistics = StepStatistics()
            _ = try optimizer.finishStep(statistics: &statistics, maxGradNorm: 1, learningRate: 0.05)
            XCTAssertEqual(misrounded(copy, of: model.parameters.array), [], "after step \(step + 1)")
        }
        XCTAssertNotEqual(model.parameters.array, before)
    }
}

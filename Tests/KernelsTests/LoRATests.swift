import Kernels
import TestSupport
import XCTest

/// The LoRA kernel against its definition (float64) and finite differences, and the frozen-weight
/// variants of the existing backward kernels (no parameter gradient, the same input gradient).
final class LoRATests: XCTestCase {
    let n = 5, ic = 6, oc = 4, r = 3
    let scaling = 2.5

    /// `out` (starting from `base`) and `u` of `loraForward` in `T`.
    func forward<T: KernelScalar>(_ x: [T], _ a: [T], _ b: [T], base: [T]) -> (out: [T], u: [T]) {
        var out = base, u = [T](repeating: 0, count: n * r)
        loraForward(out: &out, u: &u, inp: x, a: a, b: b, scaling: T(scaling), rows: n, inChannels: ic, outChannels: oc, rank: r)
        return (out, u)
    }

    func testForwardIsTheScaledLowRankProduct() {
        var rng = TestRandom(41)
        let x = rng.array(n * ic), a = rng.array(r * ic), b = rng.array(oc * r), base = rng.array(n * oc)
        let result = forward(x, a, b, base: base)
        for row in 0..<n {
            var u = [Double](repeating: 0, count: r)
            for k in 0..<r {
                for i in 0..<ic { u[k] += x[row * ic + i] * a[k * ic + i] }  // A stored [r, in]
                XCTAssertEqual(result.u[row * r + k], scaling * u[k], accuracy: 1e-12)
            }
            for o in 0..<oc {
                var delta = 0.0
                for k in 0..<r { delta += u[k] * b[o * r + k] }  // B stored [out, r]
                XCTAssertEqual(result.out[row * oc + o], base[row * oc + o] + scaling * delta, accuracy: 1e-12)
            }
        }
        let float = forward(x.map(Float.init), a.map(Float.init), b.map(Float.init), base: base.map(Float.init))
        assertFloatMatchesDouble("out", float: float.out, double: result.out)
        assertFloatMatchesDouble("u", float: float.u, double: result.u)
        // Without `out` only u is computed, the same u.
        var u = [Float](repeating: 0, count: n * r)
        loraForward(out: nil, u: &u, inp: x.map(Float.init), a: a.map(Float.init), b: b.map(Float.init), scaling: Float(scaling),
                    rows: n, inChannels: ic, outChannels: oc, rank: r)
        XCTAssertEqual(u, float.u)
    }

    /// dA, dB and dinp against central differences of L = Σ out · dout (float64); each accumulates
    /// onto what was there, and `overwritingInput` replaces dinp instead.
    func testBackwardMatchesFiniteDifferences() {
        var rng = TestRandom(42)
        let x = rng.array(n * ic), a = rng.array(r * ic), b = rng.array(oc * r), dout = rng.array(n * oc)
        let zero = [Double](repeating: 0, count: n * oc)
        let u = forward(x, a, b, base: zero).u
        let start = 0.5
        var dx = [Double](repeating: start, count: n * ic), da = [Double](repeating: start, count: r * ic)
        var db = [Double](repeating: start, count: oc * r), du = [Double](repeating: 0, count: n * r)
        loraBackward(dinp: &dx, da: &da, db: &db, du: &du, dout: dout, inp: x, u: u, a: a, b: b, scaling: scaling,
                     rows: n, inChannels: ic, outChannels: oc, rank: r)
        assertGradient("dinp", input: x, analytic: dx.map { $0 - start }) { dot(forward($0, a, b, base: zero).out, dout) }
        assertGradient("dA", input: a, analytic: da.map { $0 - start }) { dot(forward(x, $0, b, base: zero).out, dout) }
        assertGradient("dB", input: b, analytic: db.map { $0 - start }) { dot(forward(x, a, $0, base: zero).out, dout) }
        var overwritten = [Double](repeating: 7, count: n * ic), da2 = da, db2 = db
        loraBackward(dinp: &overwritten, da: &da2, db: &db2, du: &du, dout: dout, inp: x, u: u, a: a, b: b, scaling: scaling,
                     rows: n, inChannels: ic, outChannels: oc, rank: r, overwritingInput: true)
        for (o, d) in zip(overwritten, dx) { XCTAssertEqual(o, d - start, accuracy: 1e-12) }
    }

    /// `dinp` may be `inp`'s memory (the model's dropout scratch): it is written after the last
    /// read of `inp`, so dA is the same as with separate buffers.
    func testInputGradientMayOverwriteTheInput() {
        var rng = TestRandom(43)
        let x = rng.array(n * ic).map(Float.init), a = rng.array(r * ic).map(Float.init)
        let b = rng.array(oc * r).map(Float.init), dout = rng.array(n * oc).map(Float.init)
        let u = forward(x, a, b, base: [Float](repeating: 0, count: n * oc)).u
        func run(aliased: Bool) -> (dx: [Float], da: [Float], db: [Float]) {
            var buffer = x, dx = [Float](repeating: 0, count: n * ic)
            var da = [Float](repeating: 0, count: r * ic), db = [Float](repeating: 0, count: oc * r), du = [Float](repeating: 0, count: n * r)
            buffer.withUnsafeMutableBufferPointer { xs in
                dx.withUnsafeMutableBufferPointer { separate in
                    loraBackward(dinp: aliased ? xs.baseAddress! : separate.baseAddress!, da: &da, db: &db, du: &du, dout: dout,
                                 inp: xs.baseAddress!, u: u, a: a, b: b, scaling: Float(scaling),
                                 rows: n, inChannels: ic, outChannels: oc, rank: r, overwritingInput: true)
                }
            }
            return (aliased ? buffer : dx, da, db)
        }
        let separate = run(aliased: false), aliased = run(aliased: true)
        XCTAssertEqual(aliased.dx, separate.dx)
        XCTAssertEqual(aliased.da, separate.da)
        XCTAssertEqual(aliased.db, separate.db)
    }

    /// With bfloat16 products the kernel computes the float64 product of the bfloat16-rounded
    /// operands (u rounded before it meets B) to float32 accumulation accuracy.
    func testBFloat16ProductsRoundTheirInputs() {
        var rng = TestRandom(44)
        let x = rng.array(n * ic).map(Float.init), a = rng.array(r * ic).map(Float.init), b = rng.array(oc * r).map(Float.init)
        var out = [Float](repeating: 0, count: n * oc), u = [Float](repeating: 0, count: n * r)
        loraForward(out: &out, u: &u, inp: x, a: a, b: b, scaling: 2, rows: n, inChannels: ic, outChannels: oc, rank: r, bf16: true)
        let round = referenceBF16
        var expectedU = [Double](repeating: 0, count: n * r), expectedOut = [Double](repeating: 0, count: n * oc)
        for row in 0..<n {
            for k in 0..<r {
                for i in 0..<ic { expectedU[row * r + k] += round(x[row * ic + i]) * round(a[k * ic + i]) }
                expectedU[row * r + k] *= 2
            }
            for o in 0..<oc {
                for k in 0..<r { expectedOut[row * oc + o] += round(Float(expectedU[row * r + k])) * round(b[o * r + k]) }
            }
        }
        assertFloatMatchesDouble("u", float: u, double: expectedU)
        assertFloatMatchesDouble("out", float: out, double: expectedOut)
    }
}

/// The backward kernels with frozen parameters: nil parameter gradients leave the input gradient
/// exactly what the full call computes.
final class FrozenBackwardTests: XCTestCase {
    func testMatmulWithoutWeightGradient() {
        var rng = TestRandom(51)
        let n = 7, ic = 5, oc = 6
        let inp = rng.array(n * ic).map(Float.init), w = rng.array(ic * oc).map(Float.init), dout = rng.array(n * oc).map(Float.init)
        var full = [Float](repeating: 0.25, count: n * ic), frozen = full
        var dw = [Float](repeating: 0, count: ic * oc), db = [Float](repeating: 0, count: oc)
        matmulBackward(dinp: &full, dweight: &dw, dbias: &db, dout: dout, inp: inp, weight: w, rows: n, inChannels: ic, outChannels: oc)
        matmulBackward(dinp: &frozen, dweight: nil, dbias: nil, dout: dout, inp: inp, weight: w, rows: n, inChannels: ic, outChannels: oc)
        XCTAssertEqual(frozen, full)
        XCTAssertTrue(dw.contains { $0 != 0 })
    }

    func testLayerNormWithoutParameterGradients() {
        var rng = TestRandom(52)
        let n = 40, c = 19  // two blocks of layerNormBlockRows, the last partial
        let x = rng.array(n * c).map(Float.init), w = rng.array(c).map(Float.init), bias = rng.array(c).map(Float.init)
        let dout = rng.array(n * c).map(Float.init)
        var out = [Float](repeating: 0, count: n * c), mean = [Float](repeating: 0, count: n), rstd = mean
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: bias, rows: n, channels: c, epsilon: 1e-5)
        var full = [Float](repeating: 0.5, count: n * c), frozen = full
        var dw = [Float](repeating: 0, count: c), db = dw
        layerNormBackward(dinp: &full, dweight: &dw, dbias: &db, dout: dout, inp: x, weight: w, mean: mean, rstd: rstd, rows: n, channels: c)
        layerNormBackward(dinp: &frozen, dweight: nil, dbias: nil, dout: dout, inp: x, weight: w, mean: mean, rstd: rstd, rows: n, channels: c)
        XCTAssertEqual(frozen, full)
        XCTAssertTrue(dw.contains { $0 != 0 })
    }

    func testLogProbHeadWithoutEmbeddingGradient() {
        var rng = TestRandom(53)
        let m = 3, c = 4, v = 11
        let targets: [Int32] = [2, 10, 0]
        let inp = rng.array(m * c).map(Float.init), wte = rng.array(v * c).map(Float.init), dlogp = rng.array(m).map(Float.init)
        func run(frozen: Bool) -> (dinp: [Float], dwte: [Float]) {
            var logp = [Float](repeating: 0, count: m), sums = logp, lse = logp, logits = [Float](repeating: 0, count: m * v)
            logProbHeadForward(logp: &logp, logitSums: &sums, logits: &logits, lse: &lse, inp: inp, wte: wte, targets: targets,
                               rows: m, channels: c, vocab: v)
            var dinp = [Float](repeating: 0.5, count: m * c), dwte = [Float](repeating: 0, count: v * c)
            dwte.withUnsafeMutableBufferPointer { d in
                logProbHeadBackward(dinp: &dinp, dwte: frozen ? nil : d.baseAddress!, logits: &logits, dlogp: dlogp, lse: lse,
                                    inp: inp, wte: wte, targets: targets, rows: m, channels: c, vocab: v)
            }
            return (dinp, dwte)
        }
        let full = run(frozen: false), frozen = run(frozen: true)
        XCTAssertEqual(frozen.dinp, full.dinp)
        XCTAssertTrue(full.dwte.contains { $0 != 0 })
        XCTAssertTrue(frozen.dwte.allSatisfy { $0 == 0 })
    }
}

import Kernels
import XCTest

final class MatVecTests: XCTestCase {
    func testMatchesOneRowOfMatmul() {
        let ic = 5, oc = 7
        var r = TestRandom(31)
        let inp = r.array(ic), weight = r.array(ic * oc), bias = r.array(oc)
        for withBias in [true, false] {
            var expected = [Double](repeating: 0, count: oc), out = [Double](repeating: .nan, count: oc)
            for o in 0..<oc {
                expected[o] = (withBias ? bias[o] : 0) + (0..<ic).map { inp[$0] * weight[$0 * oc + o] }.reduce(0, +)
            }
            bias.withUnsafeBufferPointer { b in
                matvecForward(out: &out, inp: inp, weight: weight, bias: withBias ? b.baseAddress : nil,
                              inChannels: ic, outChannels: oc)
            }
            for o in 0..<oc { XCTAssertEqual(out[o], expected[o], accuracy: 1e-12, "bias \(withBias), column \(o)") }
        }
    }
}

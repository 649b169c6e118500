import Kernels
import XCTest

final class GELUTests: XCTestCase {
    func forward(_ x: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        geluForward(out: &out, inp: x, count: x.count)
        return out
    }

    func testForwardMatchesTanhFormula() {
        // Reference values of 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), written out independently.
        let x: [Double] = [-3, -1, -0.5, 0, 0.5, 1, 3]
        let expected = x.map { 0.5 * $0 * (1 + tanh(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))) }
        for (a, b) in zip(forward(x), expected) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        XCTAssertEqual(forward([1])[0], 0.8411919906082768, accuracy: 1e-12)
        var outF = [Float](repeating: 0, count: x.count)
        geluForward(out: &outF, inp: x.map(Float.init), count: x.count)
        assertFloatMatchesDouble("gelu", float: outF, double: expected)
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(7)
        let x = r.array(50, scale: 4), dout = r.array(50)
        var dx = [Double](repeating: 0, count: 50)
        geluBackward(dinp: &dx, dout: dout, inp: x, count: 50)
        assertGradient("dinp", input: x, analytic: dx) { dot(forward($0), dout) }
    }
}

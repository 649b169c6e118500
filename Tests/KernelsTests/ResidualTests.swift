import Kernels
import XCTest

final class ResidualTests: XCTestCase {
    func testForwardAddsAndBackwardPassesGradientThrough() {
        var r = TestRandom(15)
        let a = r.array(20), b = r.array(20), dout = r.array(20)
        func forward(_ a: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: 20)
            residualForward(out: &out, a: a, b: b, count: 20)
            return out
        }
        XCTAssertEqual(forward(a), zip(a, b).map(+))
        // Backward of a residual is accumulation of dout into each input's gradient.
        var da = [Double](repeating: 0, count: 20)
        accumulate(&da, dout, count: 20)
        assertGradient("da", input: a, analytic: da) { dot(forward($0), dout) }
    }
}

import Kernels
import XCTest

final class MatmulTests: XCTestCase {
    let n = 5, ic = 4, oc = 3

    func forward(_ inp: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: n * oc)
        matmulForward(out: &out, inp: inp, weight: w, bias: b, rows: n, inChannels: ic, outChannels: oc)
        return out
    }

    func testForwardMatchesNaiveProduct() {
        var r = TestRandom(1)
        let inp = r.array(n * ic), w = r.array(ic * oc), b = r.array(oc)
        let out = forward(inp, w, b)
        for i in 0..<n {
            for o in 0..<oc {
                var expected = b[o]
                for k in 0..<ic { expected += inp[i * ic + k] * w[k * oc + o] }
                XCTAssertEqual(out[i * oc + o], expected, accuracy: 1e-12)
            }
        }
        var outF = [Float](repeating: 0, count: n * oc)
        matmulForward(out: &outF, inp: inp.map(Float.init), weight: w.map(Float.init), bias: b.map(Float.init),
                      rows: n, inChannels: ic, outChannels: oc)
        assertFloatMatchesDouble("matmul", float: outF, double: out)
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(2)
        let inp = r.array(n * ic), w = r.array(ic * oc), b = r.array(oc), dout = r.array(n * oc)
        var dinp = [Double](repeating: 0, count: n * ic)
        var dw = [Double](repeating: 0, count: ic * oc)
        var db = [Double](repeating: 0, count: oc)
        matmulBackward(dinp: &dinp, dweight: &dw, dbias: &db, dout: dout, inp: inp, weight: w,
                       rows: n, inChannels: ic, outChannels: oc)
        assertGradient("dinp", input: inp, analytic: dinp) { dot(forward($0, w, b), dout) }
        assertGradient("dweight", input: w, analytic: dw) { dot(forward(inp, $0, b), dout) }
        assertGradient("dbias", input: b, analytic: db) { dot(forward(inp, w, $0), dout) }
    }

    func testBackwardAccumulates() {
        var r = TestRandom(3)
        let inp = r.array(n * ic), w = r.array(ic * oc), dout = r.array(n * oc)
        var dinp = [Double](repeating: 1, count: n * ic)
        var dw = [Double](repeating: 0, count: ic * oc)
        var fresh = [Double](repeating: 0, count: n * ic)
        var dw2 = [Double](repeating: 0, count: ic * oc)
        matmulBackward(dinp: &dinp, dweight: &dw, dbias: nil, dout: dout, inp: inp, weight: w,
                       rows: n, inChannels: ic, outChannels: oc)
        matmulBackward(dinp: &fresh, dweight: &dw2, dbias: nil, dout: dout, inp: inp, weight: w,
                       rows: n, inChannels: ic, outChannels: oc)
        for i in 0..<dinp.count { XCTAssertEqual(dinp[i], fresh[i] + 1, accuracy: 1e-12) }
    }
}

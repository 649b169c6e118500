import Kernels
import XCTest

final class LayerNormTests: XCTestCase {
    // More rows than one reduction block, so the block-wise parameter-gradient sum is exercised.
    let n = layerNormBlockRows + 7, c = 6

    func forward(_ x: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: n * c)
        var mean = [Double](repeating: 0, count: n), rstd = mean
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b,
                         rows: n, channels: c, epsilon: 1e-5)
        return out
    }

    func testForwardNormalisesEachRow() {
        var r = TestRandom(4)
        let x = r.array(n * c, scale: 3)
        let out = forward(x, [Double](repeating: 1, count: c), [Double](repeating: 0, count: c))
        for row in 0..<n {
            let y = out[row * c..<(row + 1) * c]
            let xs = x[row * c..<(row + 1) * c]
            let mean = xs.reduce(0, +) / Double(c)
            let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for (yi, xi) in zip(y, xs) {
                XCTAssertEqual(yi, (xi - mean) / (variance + 1e-5).squareRoot(), accuracy: 1e-12)
            }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(5)
        let x = r.array(n * c, scale: 2), w = r.array(c), b = r.array(c), dout = r.array(n * c)
        var mean = [Double](repeating: 0, count: n), rstd = mean
        var out = [Double](repeating: 0, count: n * c)
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b,
                         rows: n, channels: c, epsilon: 1e-5)
        var dx = [Double](repeating: 0, count: n * c), dw = [Double](repeating: 0, count: c), db = dw
        layerNormBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: dout, inp: x, weight: w,
                          mean: mean, rstd: rstd, rows: n, channels: c)
        assertGradient("dinp", input: x, analytic: dx) { dot(forward($0, w, b), dout) }
        assertGradient("dweight", input: w, analytic: dw) { dot(forward(x, $0, b), dout) }
        assertGradient("dbias", input: b, analytic: db) { dot(forward(x, w, $0), dout) }
    }

    func testGradientsDoNotDependOnThreadCount() {
        var r = TestRandom(6)
        let rows = 300
        let x = r.array(rows * c).map(Float.init), w = r.array(c).map(Float.init)
        let b = r.array(c).map(Float.init), dout = r.array(rows * c).map(Float.init)
        func run(threads: Int) -> [Float] {
            KernelThreads.set(threads)
            defer { KernelThreads.set(0) }
            var out = [Float](repeating: 0, count: rows * c)
            var mean = [Float](repeating: 0, count: rows), rstd = mean
            layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b,
                             rows: rows, channels: c, epsilon: 1e-5)
            var dx = [Float](repeating: 0, count: rows * c), dw = [Float](repeating: 0, count: c), db = dw
            layerNormBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: dout, inp: x, weight: w,
                              mean: mean, rstd: rstd, rows: rows, channels: c)
            return out + dx + dw + db
        }
        XCTAssertEqual(run(threads: 1), run(threads: 3))
    }
}

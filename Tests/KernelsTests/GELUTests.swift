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

    func testFloatMatchesDoubleOnRandomInputs() {
        var r = TestRandom(21)
        // 10,005 values (not a multiple of 16, so the last chunk is partial), up to |x| = 30.
        let x = r.array(10_000, scale: 6).map(Float.init) + [-30, -10, 0, 10, 30]
        let n = x.count
        let dout = r.array(n).map(Float.init), start = r.array(n).map(Float.init)
        var outF = [Float](repeating: 0, count: n), outD = [Double](repeating: 0, count: n)
        geluForward(out: &outF, inp: x, count: n)
        geluForward(out: &outD, inp: x.map(Double.init), count: n)
        // 0.5·x·(1 + t): t is off by ~1e-7 absolute (tanh itself, and u's rounding), and the
        // products round twice, so the error is about ε·|x| (measured 0.95 ε·|x|).
        assertWithinBounds("gelu forward", float: outF, double: outD,
                           bounds: x.map { 2 * float32Epsilon * abs(Double($0)) })
        var dinpF = start, dinpD = start.map(Double.init)
        geluBackward(dinp: &dinpF, dout: dout, inp: x, count: n)
        geluBackward(dinp: &dinpD, dout: dout.map(Double.init), inp: x.map(Double.init), count: n)
        // gelu' = 0.5(1 + t) + 0.5·x·(1 − t²)·k·(1 + 0.134x²): each term is off by a few ε of its
        // size (1 − t² loses its relative accuracy as t → ±1, but not its absolute accuracy), and
        // the accumulation rounds once more (measured 0.5 ε of that size).
        let bounds = (0..<n).map { i -> Double in
            let xi = Double(x[i])
            let terms = 1 + abs(xi) * (1 + 0.134 * xi * xi)
            return 2 * float32Epsilon * (abs(Double(dout[i])) * terms + abs(dinpD[i]))
        }
        assertWithinBounds("gelu backward", float: dinpF, double: dinpD, bounds: bounds)
    }

    func testResultsDoNotDependOnThreadCount() {
        var r = TestRandom(22)
        let n = 3 * 4096 + 5
        let x = r.array(n, scale: 4).map(Float.init), dout = r.array(n).map(Float.init)
        func run(threads: Int) -> [Float] {
            KernelThreads.set(threads)
            defer { KernelThreads.set(0) }
            var out = [Float](repeating: 0, count: n), dx = out
            geluForward(out: &out, inp: x, count: n)
            geluBackward(dinp: &dx, dout: dout, inp: x, count: n)
            return out + dx
        }
        // Three threads start their ranges at offsets that are not multiples of 16.
        XCTAssertEqual(run(threads: 1), run(threads: 3))
    }
}

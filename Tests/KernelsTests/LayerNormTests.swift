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

    func testFloatMatchesDoubleOnRandomInputs() {
        // 773 channels: 48 chunks of 16 and a partial one; 40 rows: more than one gradient block.
        let rows = 40, channels = 773
        var r = TestRandom(8)
        // Rows with means up to ±5 next to a spread of ~2, so the mean subtraction matters.
        let x = (0..<rows).flatMap { _ in
            let offset = r.next() * 5
            return r.array(channels, scale: 2).map { Float($0 + offset) }
        }
        let w = r.array(channels).map { Float(1 + 0.5 * $0) }, b = r.array(channels, scale: 0.3).map(Float.init)
        let dout = r.array(rows * channels).map(Float.init)
        let dxStart = r.array(rows * channels).map(Float.init), dwStart = r.array(channels).map(Float.init)
        func run<T: KernelScalar>(_: T.Type) -> (out: [T], mean: [T], rstd: [T], dx: [T], dw: [T], db: [T]) {
            var out = [T](repeating: 0, count: rows * channels)
            var mean = [T](repeating: 0, count: rows), rstd = mean
            let xT = x.map { T($0) }, wT = w.map { T($0) }
            layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: xT, weight: wT, bias: b.map { T($0) },
                             rows: rows, channels: channels, epsilon: 1e-5)
            var dx = dxStart.map { T($0) }, dw = dwStart.map { T($0) }, db = dw
            layerNormBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: dout.map { T($0) }, inp: xT, weight: wT,
                              mean: mean, rstd: rstd, rows: rows, channels: channels)
            return (out, mean, rstd, dx, dw, db)
        }
        let f = run(Float.self), d = run(Double.self)
        let eps = float32Epsilon
        func row(_ i: Int) -> Int { i / channels }
        func xhat(_ i: Int) -> Double { (Double(x[i]) - d.mean[row(i)]) * d.rstd[row(i)] }
        // Bounds are float32's worst-case rounding (ε = 2⁻²³) for the way each value is summed;
        // a real mistake (a lost or doubled chunk, a wrong padding lane) is orders larger.
        // mean: 49 chunks into 16 lane sums, then 15 additions across lanes: at most 63 roundings
        // of at most ε/2 · Σ|x| each, so 32ε · mean|x|.
        let meanAbs = (0..<rows).map { r in x[r * channels..<(r + 1) * channels].map { abs(Double($0)) }.reduce(0, +) / Double(channels) }
        assertWithinBounds("layernorm mean", float: f.mean, double: d.mean, bounds: meanAbs.map { 32 * eps * $0 })
        // rstd: Σ(x − mean)² summed the same way (32ε relative; the mean's error cancels to first
        // order since Σ(x − mean) = 0), squares and division 2ε more, halved by the square root,
        // then 2ε for the square root and the reciprocal: 20ε relative.
        assertWithinBounds("layernorm rstd", float: f.rstd, double: d.rstd, bounds: d.rstd.map { 20 * eps * $0 })
        // out = x̂·w + b: x̂ = (x − mean)·rstd is off by the mean's error times rstd plus 22ε of
        // itself (rstd's 20ε, two roundings); the product and the sum add 2ε of their sizes.
        let outBounds = (0..<rows * channels).map { i -> Double in
            let wi = abs(Double(w[i % channels])), r = row(i)
            return eps * (wi * (32 * meanAbs[r] * d.rstd[r] + 24 * abs(xhat(i))) + 2 * abs(Double(b[i % channels])))
        }
        assertWithinBounds("layernorm out", float: f.out, double: d.out, bounds: outBounds)
        // dinp += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dout·w: mean(g) and mean(g·x̂) are
        // 773-term Float sums like the mean (32ε of mean|g| and of mean|g|·(1 + |x̂|) with x̂'s
        // error), x̂ as in the forward pass; generous factors of 8 cover the products.
        let gAbs = (0..<rows).map { r in (0..<channels).map { abs(Double(dout[r * channels + $0] * w[$0])) }.reduce(0, +) / Double(channels) }
        let dxBounds = (0..<rows * channels).map { i -> Double in
            let r = row(i)
            let g = abs(Double(dout[i] * w[i % channels]))
            let terms = g + gAbs[r] * (1 + abs(xhat(i))) * 8 + gAbs[r] * 8 * meanAbs[r] * d.rstd[r]
            return 4 * eps * d.rstd[r] * terms + eps * abs(d.dx[i])
        }
        assertWithinBounds("layernorm dinp", float: f.dx, double: d.dx, bounds: dxBounds)
        // dweight, dbias: per channel, 32 + 8 terms added in two block sums, then the two blocks and
        // the start value: at most 34 roundings (17ε · Σ|term|), plus x̂'s error (as above) for dweight.
        let dwBounds = (0..<channels).map { c -> Double in
            (0..<rows).map { r -> Double in
                let i = r * channels + c, dy = abs(Double(dout[i]))
                return eps * (39 * dy * abs(xhat(i)) + 32 * dy * meanAbs[r] * d.rstd[r])
            }.reduce(0, +) + eps * abs(d.dw[c])
        }
        assertWithinBounds("layernorm dweight", float: f.dw, double: d.dw, bounds: dwBounds)
        let dbBounds = (0..<channels).map { c -> Double in
            17 * eps * (0..<rows).map { abs(Double(dout[$0 * channels + c])) }.reduce(0, +) + eps * abs(d.db[c])
        }
        assertWithinBounds("layernorm dbias", float: f.db, double: d.db, bounds: dbBounds)
    }
}

import Foundation
import Kernels
import XCTest

final class LogProbHeadTests: XCTestCase {
    let m = 4, c = 5, v = 9
    let targets: [Int32] = [3, 0, 8, 3]

    func forward(_ inp: [Double], _ wte: [Double]) -> (logp: [Double], sums: [Double], logits: [Double], lse: [Double]) {
        var logp = [Double](repeating: 0, count: m), sums = logp, lse = logp
        var logits = [Double](repeating: 0, count: m * v)
        logProbHeadForward(logp: &logp, logitSums: &sums, logits: &logits, lse: &lse, inp: inp, wte: wte,
                           targets: targets, rows: m, channels: c, vocab: v)
        return (logp, sums, logits, lse)
    }

    func testForwardIsLogSoftmaxAtTheTarget() {
        var r = TestRandom(13)
        let inp = r.array(m * c, scale: 3), wte = r.array(v * c, scale: 3)
        let result = forward(inp, wte)
        for row in 0..<m {
            let logits = (0..<v).map { j in (0..<c).map { inp[row * c + $0] * wte[j * c + $0] }.reduce(0, +) }
            let logZ = log(logits.map(exp).reduce(0, +))
            XCTAssertEqual(result.logp[row], logits[Int(targets[row])] - logZ, accuracy: 1e-12)
            XCTAssertEqual(result.sums[row], logits.reduce(0, +), accuracy: 1e-12)
        }
        var logpF = [Float](repeating: 0, count: m), sumsF = logpF, lseF = logpF
        var logitsF = [Float](repeating: 0, count: m * v)
        logProbHeadForward(logp: &logpF, logitSums: &sumsF, logits: &logitsF, lse: &lseF,
                           inp: inp.map(Float.init), wte: wte.map(Float.init), targets: targets,
                           rows: m, channels: c, vocab: v)
        assertFloatMatchesDouble("logp", float: logpF, double: result.logp)
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(14)
        let inp = r.array(m * c), wte = r.array(v * c), dlogp = r.array(m)
        var state = forward(inp, wte)
        var dinp = [Double](repeating: 0, count: m * c), dwte = [Double](repeating: 0, count: v * c)
        logProbHeadBackward(dinp: &dinp, dwte: &dwte, logits: &state.logits, dlogp: dlogp, lse: state.lse,
                            inp: inp, wte: wte, targets: targets, rows: m, channels: c, vocab: v)
        assertGradient("dinp", input: inp, analytic: dinp) { dot(forward($0, wte).logp, dlogp) }
        assertGradient("dwte", input: wte, analytic: dwte) { dot(forward(inp, $0).logp, dlogp) }
    }

    /// The head over a vocabulary of 5,003 (four blocks of 1,024 and a partial one, whose last
    /// chunk of 16 is partial too) with C = 1: logits[r, v] = inp[r] · wte[v]. With inp a power of
    /// two (or 0) the logits are exact in Float as in Double, so a Float-vs-Double difference comes
    /// only from the softmax. wte rises along the vocabulary with noise and a spike at the end, so
    /// row 0's maximum rises block after block and sits in the last, partial chunk, row 1's (the
    /// negation) is in the first block, row 2 spans ±100 (e^(x − max) underflows), row 4 is constant.
    let wideV = 5003
    let wideInp: [Float] = [1, -1, 4, 0.5, 0]
    var wideTargets: [Int32] { [Int32(wideV - 1), 3, 17, Int32(wideV / 2), 42] }
    var wideWte: [Float] {
        var r = TestRandom(31)
        return (0..<wideV).map { j in Float(r.next() * 4 + 20 * Double(j) / Double(wideV) + (j == wideV - 1 ? 6 : 0)) }
    }

    func runWideHead<T: KernelScalar>(_ type: T.Type, dlogp: [T]) -> (logp: [T], sums: [T], lse: [T], dlogits: [T]) {
        let m = wideInp.count, v = wideV
        var logp = [T](repeating: 0, count: m), sums = logp, lse = logp
        var logits = [T](repeating: 0, count: m * v)
        let inp = wideInp.map { T($0) }, wte = wideWte.map { T($0) }
        logProbHeadForward(logp: &logp, logitSums: &sums, logits: &logits, lse: &lse, inp: inp, wte: wte,
                           targets: wideTargets, rows: m, channels: 1, vocab: v)
        var dinp = [T](repeating: 0, count: m), dwte = [T](repeating: 0, count: v)
        logProbHeadBackward(dinp: &dinp, dwte: &dwte, logits: &logits, dlogp: dlogp, lse: lse, inp: inp,
                            wte: wte, targets: wideTargets, rows: m, channels: 1, vocab: v)
        return (logp, sums, lse, logits)
    }

    func testWideRowsMatchAPlainLogSoftmax() {
        // The kernel walks a row in blocks and rescales its sum when a block raises the maximum;
        // this checks that (in Double) against the textbook formula over the whole row.
        let m = wideInp.count, v = wideV
        let dlogp: [Double] = [0.7, -1.3, 0.25, 2, -0.5]
        let result = runWideHead(Double.self, dlogp: dlogp)
        let wte = wideWte.map(Double.init)
        for r in 0..<m {
            let logits = wte.map { Double(wideInp[r]) * $0 }
            let maxLogit = logits.max()!
            let sumExp = logits.map { Foundation.exp($0 - maxLogit) }.reduce(0, +)
            let lse = maxLogit + Foundation.log(sumExp)
            XCTAssertEqual(result.lse[r], lse, accuracy: 1e-12 * max(1, abs(lse)), "row \(r)")
            XCTAssertEqual(result.logp[r], logits[Int(wideTargets[r])] - lse, accuracy: 1e-12 * max(1, abs(lse)), "row \(r)")
            XCTAssertEqual(result.sums[r], logits.reduce(0, +), accuracy: 1e-12 * logits.map(abs).reduce(0, +), "row \(r)")
            for j in [0, 1, 1023, 1024, v / 2, v - 2, v - 1] {
                let expected = -dlogp[r] * Foundation.exp(logits[j] - lse) + (j == Int(wideTargets[r]) ? dlogp[r] : 0)
                XCTAssertEqual(result.dlogits[r * v + j], expected, accuracy: 1e-12 * abs(dlogp[r]), "row \(r), logit \(j)")
            }
        }
    }

    func testFloatMatchesDoubleOverAWideVocabulary() {
        let dlogp: [Float] = [0.7, -1.3, 0.25, 2, -0.5]
        let f = runWideHead(Float.self, dlogp: dlogp)
        let d = runWideHead(Double.self, dlogp: dlogp.map(Double.init))
        let m = wideInp.count, v = wideV
        let wte = wideWte.map(Double.init)
        let logits = (0..<m).flatMap { r in wte.map { Double(wideInp[r]) * $0 } }
        // logsumexp: Σ e^(x − max) carries a relative error of a few ε (each e^(x − max) within
        // 1 ulp, x − max rounded to ε/2·|x − max|, and the lane sums), which is an absolute error of
        // that size in its log; then the result is rounded to Float (half an ulp of lse).
        let lseBounds = d.lse.map { 8 * float32Epsilon + Double(Float($0).ulp) / 2 }
        assertWithinBounds("lse", float: f.lse, double: d.lse, bounds: lseBounds)
        assertWithinBounds("logp", float: f.logp, double: d.logp,
                           bounds: zip(lseBounds, d.logp).map { $0 + Double(Float($1).ulp) / 2 })
        // Σ logits: each value passes through at most 64 additions in its lane and 15 more across
        // lanes in Float before the block sums meet in Double: at most 79·ε/2 · Σ|x|.
        let sumBounds = (0..<m).map { r in 40 * float32Epsilon * logits[r * v..<(r + 1) * v].map(abs).reduce(0, +) }
        assertWithinBounds("logit sums", float: f.sums, double: d.sums, bounds: sumBounds)
        // dlogits = −g · e^(x − lse) (+ g at the target): e^(x − lse) within a few ε of itself,
        // plus ε/2·|x − lse| from rounding x − lse (bounded by ε·|x − lse|) and the lse error above;
        // where e^(x − lse) < 1.8e-38 (row 2) Float's exponential is 0: 2e-38·|g| absolute.
        let gradBounds = (0..<m * v).map { i -> Double in
            let r = i / v
            let g = abs(Double(dlogp[r]))
            let p = Foundation.exp(logits[i] - d.lse[r])
            return g * p * (4 * float32Epsilon + float32Epsilon * abs(logits[i] - d.lse[r]) + lseBounds[r])
                + float32Epsilon * abs(d.dlogits[i]) + g * 2e-38
        }
        assertWithinBounds("dlogits", float: f.dlogits, double: d.dlogits, bounds: gradBounds)
    }

    func testResultsDoNotDependOnThreadCount() {
        let dlogp: [Float] = [0.7, -1.3, 0.25, 2, -0.5]
        func run(threads: Int) -> [Float] {
            KernelThreads.set(threads)
            defer { KernelThreads.set(0) }
            let result = runWideHead(Float.self, dlogp: dlogp)
            return result.logp + result.sums + result.lse + result.dlogits
        }
        XCTAssertEqual(run(threads: 1), run(threads: 3))
    }
}

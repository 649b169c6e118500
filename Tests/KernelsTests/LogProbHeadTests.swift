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
}

import Kernels
import XCTest

final class AttentionTests: XCTestCase {
    let b = 2, t = 5, c = 6, nh = 2

    func forward(_ qkv: [Double]) -> (out: [Double], att: [Double]) {
        var out = [Double](repeating: 0, count: b * t * c)
        var att = [Double](repeating: 0, count: b * nh * t * t)
        attentionForward(out: &out, att: &att, qkv: qkv, batch: b, seqLen: t, channels: c, heads: nh)
        return (out, att)
    }

    func testForwardMatchesNaiveSoftmaxAttention() {
        var r = TestRandom(8)
        let qkv = r.array(b * t * 3 * c)
        let (out, _) = forward(qkv)
        let hs = c / nh
        for bi in 0..<b {
            for h in 0..<nh {
                for i in 0..<t {
                    func q(_ row: Int, _ part: Int, _ d: Int) -> Double { qkv[(bi * t + row) * 3 * c + part * c + h * hs + d] }
                    let scores = (0...i).map { j in (0..<hs).map { q(i, 0, $0) * q(j, 1, $0) }.reduce(0, +) / Double(hs).squareRoot() }
                    let weights = scores.map { exp($0) }
                    let total = weights.reduce(0, +)
                    for d in 0..<hs {
                        let expected = (0...i).map { weights[$0] / total * q($0, 2, d) }.reduce(0, +)
                        XCTAssertEqual(out[(bi * t + i) * c + h * hs + d], expected, accuracy: 1e-12)
                    }
                }
            }
        }
        var outF = [Float](repeating: 0, count: b * t * c), attF = [Float](repeating: 0, count: b * nh * t * t)
        attentionForward(out: &outF, att: &attF, qkv: qkv.map(Float.init), batch: b, seqLen: t, channels: c, heads: nh)
        assertFloatMatchesDouble("attention", float: outF, double: out)
    }

    func testCausalMaskHidesLaterTokens() {
        var r = TestRandom(9)
        var qkv = r.array(b * t * 3 * c)
        let before = forward(qkv).out
        for k in 0..<(3 * c) { qkv[(t - 1) * 3 * c + k] += 5 }  // change the last token of row 0
        let after = forward(qkv).out
        XCTAssertEqual(Array(before[0..<((t - 1) * c)]), Array(after[0..<((t - 1) * c)]))
        XCTAssertNotEqual(Array(before[((t - 1) * c)..<(t * c)]), Array(after[((t - 1) * c)..<(t * c)]))
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(10)
        let qkv = r.array(b * t * 3 * c), dout = r.array(b * t * c)
        let att = forward(qkv).att
        var dqkv = [Double](repeating: 0, count: qkv.count)
        attentionBackward(dqkv: &dqkv, dout: dout, att: att, qkv: qkv, batch: b, seqLen: t, channels: c, heads: nh)
        assertGradient("dqkv", input: qkv, analytic: dqkv) { dot(forward($0).out, dout) }
    }
}

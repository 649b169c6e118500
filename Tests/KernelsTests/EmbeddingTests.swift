import Kernels
import XCTest

final class EmbeddingTests: XCTestCase {
    let v = 7, p = 5, c = 3
    // Token 2 and position 1 repeat, so the backward pass must accumulate.
    let tokens: [Int32] = [2, 6, 2, 0]
    let positions: [Int32] = [0, 1, 1, 4]

    func forward(_ wte: [Double], _ wpe: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: tokens.count * c)
        embeddingForward(out: &out, tokens: tokens, positions: positions, wte: wte, wpe: wpe, rows: tokens.count, channels: c)
        return out
    }

    func testForwardAddsTokenAndPositionRows() {
        var r = TestRandom(11)
        let wte = r.array(v * c), wpe = r.array(p * c)
        let out = forward(wte, wpe)
        for (n, (tok, pos)) in zip(tokens, positions).enumerated() {
            for i in 0..<c { XCTAssertEqual(out[n * c + i], wte[Int(tok) * c + i] + wpe[Int(pos) * c + i]) }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(12)
        let wte = r.array(v * c), wpe = r.array(p * c), dout = r.array(tokens.count * c)
        var dwte = [Double](repeating: 0, count: v * c), dwpe = [Double](repeating: 0, count: p * c)
        embeddingBackward(dwte: &dwte, dwpe: &dwpe, dout: dout, tokens: tokens, positions: positions,
                          rows: tokens.count, channels: c)
        assertGradient("dwte", input: wte, analytic: dwte) { dot(forward($0, wpe), dout) }
        assertGradient("dwpe", input: wpe, analytic: dwpe) { dot(forward(wte, $0), dout) }
    }
}

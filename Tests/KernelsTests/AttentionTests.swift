import Kernels
import XCTest

final class AttentionTests: XCTestCase {
    let c = 6, nh = 2

    /// Two right-padded rows of 5 tokens each.
    let rectangular = AttentionSpans(sequences: 2, length: 5)

    /// A pair sharing a prompt (rows 0-1 prompt, 2-3 chosen, 4-6 rejected seeing rows 0-1),
    /// then a plain sequence of 3 rows.
    var shared: AttentionSpans {
        var spans = AttentionSpans()
        spans.appendSequence(rows: 4, prefix: 0..<0)
        spans.appendSequence(rows: 3, prefix: 0..<2)
        spans.appendSequence(rows: 3, prefix: 7..<7)
        return spans
    }

    /// The rows query `i` sees under `shared`, written out by hand.
    let sharedKeys: [[Int]] = [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 4], [0, 1, 4, 5], [0, 1, 4, 5, 6],
                               [7], [7, 8], [7, 8, 9]]

    func forward<T: KernelScalar>(_ qkv: [T], _ spans: AttentionSpans) -> (out: [T], att: [T]) {
        var out = [T](repeating: 0, count: spans.rows * c)
        var att = [T](repeating: 0, count: nh * spans.probabilitiesPerHead)
        attentionForward(out: &out, att: &att, qkv: qkv, spans: spans, channels: c, heads: nh)
        return (out, att)
    }

    /// softmax(q·k/√hs)-weighted values over an explicit key list, in float64.
    func naive(_ qkv: [Double], keys: [[Int]]) -> [Double] {
        let hs = c / nh
        var out = [Double](repeating: 0, count: keys.count * c)
        for h in 0..<nh {
            for (i, rows) in keys.enumerated() {
                func x(_ row: Int, _ part: Int, _ d: Int) -> Double { qkv[row * 3 * c + part * c + h * hs + d] }
                let weights = rows.map { j in exp((0..<hs).map { x(i, 0, $0) * x(j, 1, $0) }.reduce(0, +) / Double(hs).squareRoot()) }
                let total = weights.reduce(0, +)
                for d in 0..<hs {
                    out[i * c + h * hs + d] = zip(rows, weights).map { $1 / total * x($0, 2, d) }.reduce(0, +)
                }
            }
        }
        return out
    }

    func testSpansLayOutSegmentsAndProbabilityBlocks() {
        XCTAssertEqual(shared.rows, 10)
        XCTAssertEqual(shared.segments.map(\.rows), [0..<4, 4..<7, 7..<10])
        XCTAssertEqual(shared.segments.map(\.width), [4, 5, 3])
        XCTAssertEqual(shared.segments.map(\.probabilityOffset), [0, 16, 31])
        XCTAssertEqual(shared.probabilitiesPerHead, 16 + 15 + 9)
        XCTAssertEqual(shared.largestBlock, 16)
        XCTAssertEqual(rectangular.probabilitiesPerHead, 2 * 25)
    }

    /// Each probability row sums to 1 over the keys the row sees and is 0 on the others.
    func testProbabilitiesCoverExactlyTheVisibleKeys() {
        var r = TestRandom(12)
        let att = forward(r.array(10 * 3 * c), shared).att
        for h in 0..<nh {
            for g in shared.segments {
                for i in 0..<g.rows.count {
                    let row = Array(att[(h * shared.probabilitiesPerHead + g.probabilityOffset + i * g.width)...].prefix(g.width))
                    let visible = g.prefix.count + i + 1
                    XCTAssertEqual(row.prefix(visible).reduce(0, +), 1, accuracy: 1e-12)
                    XCTAssertTrue(row.prefix(visible).allSatisfy { $0 > 0 })
                    XCTAssertEqual(Array(row[visible...]), [Double](repeating: 0, count: g.width - visible))
                }
            }
        }
    }

    func testForwardMatchesNaiveSoftmaxAttention() {
        var r = TestRandom(8)
        let qkv = r.array(10 * 3 * c)
        let rectangularKeys = (0..<10).map { i in Array((i / 5 * 5)...i) }
        for (spans, keys) in [(rectangular, rectangularKeys), (shared, sharedKeys)] {
            let expected = naive(qkv, keys: keys)
            let out = forward(qkv, spans).out
            for (a, b) in zip(out, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            assertFloatMatchesDouble("attention", float: forward(qkv.map(Float.init), spans).out, double: out)
        }
    }

    func testCausalMaskHidesLaterTokens() {
        var r = TestRandom(9)
        var qkv = r.array(10 * 3 * c)
        let before = forward(qkv, rectangular).out
        for k in 0..<(3 * c) { qkv[4 * 3 * c + k] += 5 }  // change the last token of row 0
        let after = forward(qkv, rectangular).out
        XCTAssertEqual(Array(before[0..<(4 * c)]), Array(after[0..<(4 * c)]))
        XCTAssertNotEqual(Array(before[(4 * c)..<(5 * c)]), Array(after[(4 * c)..<(5 * c)]))
        XCTAssertEqual(Array(before[(5 * c)...]), Array(after[(5 * c)...]), "the second sequence never sees the first")
    }

    func testSharedPromptCompletionsDoNotSeeEachOther() {
        var r = TestRandom(11)
        var qkv = r.array(10 * 3 * c)
        let before = forward(qkv, shared).out
        for k in 0..<(3 * c) { qkv[2 * 3 * c + k] += 5 }  // change the chosen completion's first token
        let after = forward(qkv, shared).out
        XCTAssertNotEqual(Array(before[(2 * c)..<(4 * c)]), Array(after[(2 * c)..<(4 * c)]))
        XCTAssertEqual(Array(before[(4 * c)...]), Array(after[(4 * c)...]), "rejected rows and the next sequence are blind to it")
    }

    func testBackwardMatchesFiniteDifferences() {
        var r = TestRandom(10)
        for spans in [rectangular, shared] {
            let qkv = r.array(spans.rows * 3 * c), dout = r.array(spans.rows * c)
            let att = forward(qkv, spans).att
            var dqkv = [Double](repeating: 0, count: qkv.count)
            var scratch = [Double](repeating: .nan, count: nh * spans.largestBlock)
            attentionBackward(dqkv: &dqkv, dout: dout, att: att, qkv: qkv, scratch: &scratch, spans: spans, channels: c, heads: nh)
            assertGradient("dqkv", input: qkv, analytic: dqkv) { dot(forward($0, spans).out, dout) }
        }
    }
}

import Kernels
import XCTest

final class CachedAttentionTests: XCTestCase {
    let t = 7, c = 6, nh = 2, capacity = 10

    /// `cachedAttentionForward` for queries start..<start+q over a cache of the first start+q rows
    /// of `qkv`; the cache's unused rows hold NaN, so reading them would show.
    func cached<T: KernelScalar>(_ qkv: [T], start: Int, queries q: Int) -> [T] {
        var keys = [T](repeating: .nan, count: capacity * c), values = keys
        for j in 0..<(start + q) {
            for k in 0..<c {
                keys[j * c + k] = qkv[j * 3 * c + c + k]
                values[j * c + k] = qkv[j * 3 * c + 2 * c + k]
            }
        }
        var out = [T](repeating: 0, count: q * c), scores = [T](repeating: 0, count: nh * (start + q))
        let query = Array(qkv[(start * 3 * c)...])
        cachedAttentionForward(out: &out, scores: &scores, query: query, queryStride: 3 * c, keys: keys, values: values,
                               start: start, queries: q, channels: c, heads: nh)
        return out
    }

    func full<T: KernelScalar>(_ qkv: [T]) -> [T] {
        let spans = AttentionSpans(sequences: 1, length: t)
        var out = [T](repeating: 0, count: t * c), att = [T](repeating: 0, count: nh * spans.probabilitiesPerHead)
        attentionForward(out: &out, att: &att, qkv: qkv, spans: spans, channels: c, heads: nh)
        return out
    }

    func testEveryPrefixAndChunkMatchesFullCausalAttention() {
        var r = TestRandom(21)
        let qkv = r.array(t * 3 * c, scale: 2)
        let expected = full(qkv), expectedFloat = full(qkv.map(Float.init))
        for start in 0..<t {
            for q in 1...(t - start) {
                let rows = (start * c)..<((start + q) * c)
                // The same values as the block (BLAS) form up to rounding: 1e-12 in float64, and in
                // float32 a few ulps of outputs of size ~1 (sums of ≤ 7 products).
                for (a, b) in zip(cached(qkv, start: start, queries: q), Array(expected[rows])) {
                    XCTAssertEqual(a, b, accuracy: 1e-12, "start \(start), q \(q)")
                }
                for (a, b) in zip(cached(qkv.map(Float.init), start: start, queries: q), Array(expectedFloat[rows])) {
                    XCTAssertEqual(a, b, accuracy: 2e-6, "float: start \(start), q \(q)")
                }
            }
        }
    }

    func testSingleQueryMatchesNaiveSoftmaxAttention() {
        var r = TestRandom(22)
        let qkv = r.array(t * 3 * c)
        let out = cached(qkv, start: t - 1, queries: 1)
        let hs = c / nh
        for h in 0..<nh {
            func x(_ row: Int, _ part: Int, _ d: Int) -> Double { qkv[row * 3 * c + part * c + h * hs + d] }
            let weights = (0..<t).map { j in exp((0..<hs).map { x(t - 1, 0, $0) * x(j, 1, $0) }.reduce(0, +) / Double(hs).squareRoot()) }
            let total = weights.reduce(0, +)
            for d in 0..<hs {
                let expected = (0..<t).map { weights[$0] / total * x($0, 2, d) }.reduce(0, +)
                XCTAssertEqual(out[h * hs + d], expected, accuracy: 1e-12)
            }
        }
    }
}
